"""Hugging Face resolution and downloads against a local fake Hub (fake_hub.py), checked for
layout compatibility with huggingface_hub itself."""

import hashlib
import os
import pathlib

import numpy as np
import pytest
from safetensors.numpy import save, save_file

import rank_rerank
from fake_hub import FakeHub, git_blob_sha1

COMMIT = "0123456789abcdef0123456789abcdef01234567"
REPO = "org/model"


@pytest.fixture
def weights_bytes():
    rng = np.random.default_rng(3)
    tensors = {"encoder.weight": rng.standard_normal((64, 48)).astype(np.float32),
               "encoder.bias": rng.standard_normal(48).astype(np.float16)}
    return tensors, save(tensors)


@pytest.fixture
def hub(weights_bytes):
    server = FakeHub()
    server.add_repo(REPO, {"config.json": b'{"hidden_size": 48}', "model.safetensors": weights_bytes[1]},
                    commit=COMMIT, lfs={"model.safetensors"})
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN", "HF_ENDPOINT", "HF_HUB_CACHE"):
        monkeypatch.delenv(name, raising=False)


def resolve(hub, cache, filename, repo=REPO, **kwargs):
    return rank_rerank.hf_resolve(repo, filename, cache_dir=str(cache), endpoint=hub.endpoint, **kwargs)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def test_download_lays_out_the_cache_as_huggingface_hub_does(hub, tmp_path, weights_bytes):
    config = pathlib.Path(resolve(hub, tmp_path, "config.json"))
    model = pathlib.Path(resolve(hub, tmp_path, "model.safetensors"))
    folder = tmp_path / "models--org--model"
    assert config == folder / "snapshots" / COMMIT / "config.json"
    assert model == folder / "snapshots" / COMMIT / "model.safetensors"
    assert (folder / "refs" / "main").read_text() == COMMIT
    # Snapshot entries are relative links to blobs named by etag (git sha1, or sha256 for LFS).
    assert os.readlink(config) == f"../../blobs/{git_blob_sha1(config.read_bytes())}"
    assert os.readlink(model) == f"../../blobs/{sha256(weights_bytes[1])}"
    assert model.read_bytes() == weights_bytes[1]
    assert not list(folder.glob("blobs/*.incomplete"))

    huggingface_hub = pytest.importorskip("huggingface_hub")
    for name, path in (("config.json", config), ("model.safetensors", model)):
        assert huggingface_hub.try_to_load_from_cache(REPO, name, cache_dir=str(tmp_path)) == str(path)
        assert huggingface_hub.hf_hub_download(REPO, name, cache_dir=str(tmp_path), local_files_only=True) == str(path)


def test_files_huggingface_hub_downloaded_are_found_offline(hub, tmp_path, monkeypatch):
    huggingface_hub = pytest.importorskip("huggingface_hub")
    theirs = huggingface_hub.hf_hub_download(REPO, "model.safetensors", cache_dir=str(tmp_path),
                                             endpoint=hub.endpoint)
    hub.stop()
    ours = rank_rerank.hf_resolve(REPO, "model.safetensors", cache_dir=str(tmp_path), offline=True)
    assert ours == pathlib.Path(theirs)


def test_loaded_weights_equal_what_was_served(hub, tmp_path, weights_bytes):
    arrays = rank_rerank.hf_load_weights(REPO, cache_dir=str(tmp_path), endpoint=hub.endpoint)
    assert set(arrays) == set(weights_bytes[0])
    for name, expected in weights_bytes[0].items():
        np.testing.assert_array_equal(arrays[name], expected)


def test_token_goes_to_the_hub_but_not_to_the_cdn(hub, tmp_path, weights_bytes):
    hub.add_repo("org/private", {"model.safetensors": weights_bytes[1]}, commit=COMMIT, token="secret",
                 lfs={"model.safetensors"})
    with pytest.raises(RuntimeError, match="HTTP 401.*HF_TOKEN"):
        resolve(hub, tmp_path, "model.safetensors", repo="org/private")
    path = resolve(hub, tmp_path, "model.safetensors", repo="org/private", token="secret")
    assert pathlib.Path(path).read_bytes() == weights_bytes[1]
    assert hub.requests(prefix="/org/private/")[-1][2].get("Authorization") == "Bearer secret"
    cdn = hub.requests("GET", "/cdn/")
    assert cdn and all("Authorization" not in r[2] for r in cdn)


def test_token_from_the_environment(hub, tmp_path, monkeypatch, weights_bytes):
    hub.add_repo("org/private", {"config.json": b"{}"}, commit=COMMIT, token="secret")
    monkeypatch.setenv("HF_TOKEN", "secret")
    assert pathlib.Path(resolve(hub, tmp_path, "config.json", repo="org/private")).read_bytes() == b"{}"


def test_interrupted_transfer_resumes_with_a_range_request(hub, tmp_path, weights_bytes):
    data = weights_bytes[1]
    hub.cut_after[f"/cdn/{sha256(data)}"] = 5000
    path = resolve(hub, tmp_path, "model.safetensors")
    assert pathlib.Path(path).read_bytes() == data
    gets = hub.requests("GET", "/cdn/")
    assert len(gets) == 2
    assert "Range" not in gets[0][2]
    assert gets[1][2]["Range"] == "bytes=5000-"


def test_partial_file_of_an_earlier_attempt_is_resumed(hub, tmp_path, weights_bytes):
    data = weights_bytes[1]
    blobs = tmp_path / "models--org--model" / "blobs"
    blobs.mkdir(parents=True)
    (blobs / f"{sha256(data)}.incomplete").write_bytes(data[:3000])
    assert pathlib.Path(resolve(hub, tmp_path, "model.safetensors")).read_bytes() == data
    assert [r[2].get("Range") for r in hub.requests("GET", "/cdn/")] == ["bytes=3000-"]


def test_server_ignoring_range_restarts_the_file(hub, tmp_path, weights_bytes):
    data = weights_bytes[1]
    hub.ignore_range = True
    blobs = tmp_path / "models--org--model" / "blobs"
    blobs.mkdir(parents=True)
    (blobs / f"{sha256(data)}.incomplete").write_bytes(b"garbage that is not a prefix")
    assert pathlib.Path(resolve(hub, tmp_path, "model.safetensors")).read_bytes() == data


def test_missing_file_is_a_404_remembered_in_the_cache(hub, tmp_path):
    with pytest.raises(ValueError, match="'vocab.txt' does not exist in org/model at revision main"):
        resolve(hub, tmp_path, "vocab.txt")
    assert resolve(hub, tmp_path, "vocab.txt", missing_ok=True) is None
    assert (tmp_path / "models--org--model" / ".no_exist" / COMMIT / "vocab.txt").is_file()
    hub.stop()
    assert rank_rerank.hf_resolve(REPO, "vocab.txt", cache_dir=str(tmp_path), offline=True, missing_ok=True) is None


def test_unknown_revision_is_an_error(hub, tmp_path):
    with pytest.raises(ValueError, match="RevisionNotFound"):
        resolve(hub, tmp_path, "config.json", revision="v9")


def test_revision_names_are_url_encoded(hub, tmp_path):
    hub.repos[REPO]["branches"]["refs/pr/1"] = COMMIT
    path = resolve(hub, tmp_path, "config.json", revision="refs/pr/1")
    assert pathlib.Path(path).read_bytes() == b'{"hidden_size": 48}'
    assert hub.requests("HEAD")[-1][1] == "/org/model/resolve/refs%2Fpr%2F1/config.json"
    assert (tmp_path / "models--org--model" / "refs" / "refs" / "pr" / "1").read_text() == COMMIT


def test_offline_mode_uses_only_the_cache(hub, tmp_path, monkeypatch):
    path = resolve(hub, tmp_path, "config.json")
    hub.stop()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert rank_rerank.hf_resolve(REPO, "config.json", cache_dir=str(tmp_path)) == path
    with pytest.raises(RuntimeError, match="HF_HUB_OFFLINE is set and 'model.safetensors' of org/model"):
        rank_rerank.hf_resolve(REPO, "model.safetensors", cache_dir=str(tmp_path))


def test_unreachable_hub_falls_back_to_the_cache(hub, tmp_path):
    endpoint = hub.endpoint
    path = resolve(hub, tmp_path, "config.json")
    hub.stop()
    assert rank_rerank.hf_resolve(REPO, "config.json", cache_dir=str(tmp_path), endpoint=endpoint) == path
    with pytest.raises(RuntimeError, match="cannot reach"):
        rank_rerank.hf_resolve(REPO, "model.safetensors", cache_dir=str(tmp_path), endpoint=endpoint)


def test_cached_commit_needs_no_request(hub, tmp_path):
    resolve(hub, tmp_path, "config.json")
    before = len(hub.log)
    resolve(hub, tmp_path, "config.json", revision=COMMIT)
    assert len(hub.log) == before


def test_environment_selects_cache_and_endpoint(hub, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "envcache"))
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    assert rank_rerank.hf_cache_dir() == tmp_path / "envcache"
    path = rank_rerank.hf_resolve(REPO, "config.json")
    assert str(path).startswith(str(tmp_path / "envcache" / "models--org--model"))


def test_sharded_and_torch_checkpoints_from_the_hub(tmp_path):
    rng = np.random.default_rng(5)
    shards = [{"a": rng.standard_normal((4, 3)).astype(np.float32)}, {"b": rng.standard_normal(7).astype(np.float32)}]
    files = {"model.safetensors.index.json":
             b'{"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors", '
             b'"b": "model-00002-of-00002.safetensors"}}'}
    for i, tensors in enumerate(shards):
        files[f"model-0000{i + 1}-of-00002.safetensors"] = save(tensors)
    torch_bin = (pathlib.Path(__file__).parents[1] / "fixtures/torch_bin/f32.bin").read_bytes()
    server = FakeHub()
    server.add_repo("org/sharded", files, lfs=set(files) - {"model.safetensors.index.json"})
    server.add_repo("org/torch", {"pytorch_model.bin": torch_bin}, lfs={"pytorch_model.bin"})
    server.start()
    try:
        sharded = rank_rerank.hf_load_weights("org/sharded", cache_dir=str(tmp_path), endpoint=server.endpoint)
        np.testing.assert_array_equal(sharded["a"], shards[0]["a"])
        np.testing.assert_array_equal(sharded["b"], shards[1]["b"])
        torch = rank_rerank.hf_load_weights("org/torch", cache_dir=str(tmp_path), endpoint=server.endpoint)
        assert set(torch) == {"matrix", "vector", "scalar", "empty"}
        with pytest.raises(ValueError, match="no checkpoint in org/empty"):
            server.add_repo("org/empty", {"config.json": b"{}"})
            rank_rerank.hf_load_weights("org/empty", cache_dir=str(tmp_path), endpoint=server.endpoint)
    finally:
        server.stop()


def test_local_directories_need_no_hub(tmp_path):
    save_file({"w": np.ones(3, dtype=np.float32)}, str(tmp_path / "model.safetensors"))
    assert rank_rerank.hf_resolve(str(tmp_path), "model.safetensors") == tmp_path / "model.safetensors"
    assert rank_rerank.hf_resolve(str(tmp_path), "vocab.txt", missing_ok=True) is None
    np.testing.assert_array_equal(rank_rerank.hf_load_weights(str(tmp_path))["w"], np.ones(3, dtype=np.float32))
    with pytest.raises(ValueError, match="not a Hugging Face repo id|neither an existing directory"):
        rank_rerank.hf_resolve("a/b/c", "config.json")
    with pytest.raises(ValueError, match="relative path"):
        rank_rerank.hf_resolve(str(tmp_path), "../etc/passwd")
