"""load_weights on pytorch_model.bin archives written by torch.save
(tests/fixtures/torch_bin, made by scripts/make_torch_bin_fixtures.py)."""

import json
import pathlib
import zipfile

import numpy as np
import pytest

import rank_rerank

FIXTURES = pathlib.Path(__file__).parents[1] / "fixtures" / "torch_bin"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())


def as_values(array, dtype):
    if dtype == "BF16":
        return (array.astype(np.uint32) << 16).view(np.float32).astype(np.float64).ravel().tolist()
    if dtype == "BOOL":
        return array.astype(np.int64).ravel().tolist()
    return array.ravel().tolist()


@pytest.mark.parametrize("filename", sorted(EXPECTED["state_dicts"]))
def test_state_dicts_match_torch(filename):
    arrays = rank_rerank.load_weights(str(FIXTURES / filename))
    info = rank_rerank.weights_info(str(FIXTURES / filename))["tensors"]
    expected = EXPECTED["state_dicts"][filename]
    assert set(arrays) == set(expected)
    for name, e in expected.items():
        assert info[name] == {"dtype": e["dtype"], "shape": e["shape"]}
        assert list(arrays[name].shape) == e["shape"]
        assert arrays[name].flags.c_contiguous
        assert as_values(arrays[name], e["dtype"]) == e["values"], name


@pytest.mark.parametrize("filename", sorted(EXPECTED["refused"]))
def test_refused_archives_say_why(filename):
    with pytest.raises((ValueError, RuntimeError), match=EXPECTED["refused"][filename]):
        rank_rerank.load_weights(str(FIXTURES / filename))


def test_malicious_pickle_runs_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="global 'posix.system' is not allowed"):
        rank_rerank.load_weights(str(FIXTURES / "malicious_os_system.bin"))
    assert list(tmp_path.iterdir()) == []


def test_zip64_archives_read_the_same(tmp_path):
    target = tmp_path / "zip64.bin"
    with zipfile.ZipFile(FIXTURES / "f32.bin") as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.infolist():
            with dst.open(item.filename, "w", force_zip64=True) as out:
                out.write(src.read(item.filename))
    ours = rank_rerank.load_weights(str(target))
    reference = rank_rerank.load_weights(str(FIXTURES / "f32.bin"))
    for name in reference:
        np.testing.assert_array_equal(ours[name], reference[name])


def test_compressed_archives_are_refused(tmp_path):
    target = tmp_path / "deflated.bin"
    with zipfile.ZipFile(FIXTURES / "f32.bin") as src, \
            zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item.filename, src.read(item.filename))
    with pytest.raises(RuntimeError, match="is compressed \\(zip method 8\\)"):
        rank_rerank.load_weights(str(target))


def test_truncated_archives_raise(tmp_path):
    data = (FIXTURES / "module_state_dict.bin").read_bytes()
    for size in (0, 10, len(data) // 2, len(data) - 1):
        (tmp_path / "cut.bin").write_bytes(data[:size])
        with pytest.raises((ValueError, RuntimeError)):
            rank_rerank.load_weights(str(tmp_path / "cut.bin"))
