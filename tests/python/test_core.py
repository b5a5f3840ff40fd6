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


def test_devices_are_listed_cpu_first():
    devices = rank_rerank.list_devices()
    assert devices[0]["device"] == "cpu"
    assert len(devices) == 1 + rank_rerank.cuda_status()["device_count"]
    assert rank_rerank.get_gpu_device() in ("cuda", "cpu")


def test_device_names_are_parsed_and_checked():
    import pytest

    assert rank_rerank.resolve_device("cpu") == "cpu"
    assert rank_rerank.resolve_device("auto") in ("cpu", "cuda:0")
    with pytest.raises(ValueError, match="cuda:N"):
        rank_rerank.resolve_device("cuda:x")
    with pytest.raises(RuntimeError, match="macOS"):
        rank_rerank.resolve_device("metal")
    with pytest.raises(RuntimeError):
        rank_rerank.resolve_device("cuda:%d" % rank_rerank.cuda_status()["device_count"])
