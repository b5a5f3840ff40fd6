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


def test_import_chooses_vector_openblas_kernels_when_unset():
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    probe = ("import json, os, rank_rerank; "
             "print(json.dumps([os.environ.get('OPENBLAS_CORETYPE'), rank_rerank.cpu_blas()]))")
    run = lambda e: json.loads(subprocess.run([sys.executable, "-c", probe], env=e, check=True,
                                              capture_output=True, text=True).stdout)
    chosen, blas = run(env)
    assert set(blas) == {"core", "recommended", "generic", "bf16_kernel"}
    assert blas["bf16_kernel"] in ("amx", "avx512_bf16", "decoded_f32")
    assert chosen == (blas["recommended"] or None)
    assert not blas["generic"]
    # The user's own choice is kept.
    chosen, blas = run({**env, "OPENBLAS_CORETYPE": "Prescott"})
    assert chosen == "Prescott" and blas["core"] == "Prescott"
    assert blas["generic"] == bool(blas["recommended"])
