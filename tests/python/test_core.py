import rank_rerank


def test_thread_count_round_trips():
    default = rank_rerank.get_num_threads()
    assert default >= 1
    rank_rerank.set_num_threads(3)
    assert rank_rerank.get_num_threads() == 3
    rank_rerank.set_num_threads(0)
    assert rank_rerank.get_num_threads() == default


def test_cuda_status_explains_itself():
    status = rank_rerank.cuda_status()
    assert set(status) == {"compiled", "device_count", "usable", "reason"}
    assert status["usable"] == (status["device_count"] > 0)
    if not status["usable"]:
        assert status["reason"]
