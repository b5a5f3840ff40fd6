"""Every Python example and the demo run to completion on the CPU (quickly: on the committed tiny
fixture models, small slices of the sample corpus). examples/cpp_embedding is built and run by
tests/install/check_install.sh."""
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
COLBERT = str(ROOT / "tests" / "fixtures" / "models" / "colbert_tiny_pylate")
CROSS = str(ROOT / "tests" / "fixtures" / "models" / "cross_tiny_1")


def run_example(name, *args):
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / name), *args],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_gpu_encoding_falls_back_to_the_cpu():
    out = run_example("gpu_encoding.py", "--model", COLBERT, "--limit", "40")
    assert "40 passages ->" in out
    assert "running on cpu" in out or "running on cuda" in out


def test_cpu_vs_gpu():
    out = run_example("cpu_vs_gpu.py", "--model", COLBERT, "--candidates", "20", "--repeat", "1")
    assert "cpu: 20 candidates" in out
    assert "GPU half skipped" in out or "same top 10" in out


def test_batch_processing():
    out = run_example("batch_processing.py", "--model", COLBERT, "--limit", "30", "--copies", "2")
    assert "max_batch_tokens=   512" in out and "saved 60 documents as float16" in out
    assert "only the query" in out


def test_numpy_and_torch():
    out = run_example("numpy_and_torch.py", "--model", COLBERT)
    assert "maxsim_batch:" in out
    assert "torch" in out


@pytest.mark.parametrize("model", [COLBERT, CROSS])
def test_demo_with_other_checkpoints(model):
    out = run_example("rerank_demo.py", "--model", model, "--candidates", "10", "--top", "3")
    assert "Query 8:" in out and "Timings" in out
    assert "colbert-ir/colbertv2.0" in out
