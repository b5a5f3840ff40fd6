"""load_weights on safetensors files, compared with the safetensors package that wrote them."""

import gc
import json

import numpy as np
import pytest
from safetensors import TensorSpec, serialize_file
from safetensors.numpy import load_file, save_file

import rank_rerank

NUMPY_DTYPES = [np.float32, np.float16, np.float64, np.int8, np.int16, np.int32, np.int64,
                np.uint8, np.uint16, np.uint32, np.uint64, np.bool_, np.complex64]


def random_array(rng, dtype, shape):
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    if dtype == np.complex64:
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def test_every_numpy_dtype_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    tensors = {f"t_{np.dtype(d).name}": random_array(rng, d, (3, 5)) for d in NUMPY_DTYPES}
    tensors["scalar"] = np.array(1.25, dtype=np.float32)
    tensors["empty"] = np.zeros((0, 7), dtype=np.float16)
    tensors["f16_specials"] = np.array([np.inf, -np.inf, np.nan, -0.0, 6e-8], dtype=np.float16)
    path = str(tmp_path / "all.safetensors")
    save_file(tensors, path)
    ours = rank_rerank.load_weights(path)
    reference = load_file(path)
    assert set(ours) == set(reference)
    for name, expected in reference.items():
        assert ours[name].dtype == expected.dtype, name
        assert ours[name].shape == expected.shape, name
        np.testing.assert_array_equal(ours[name], expected, err_msg=name)


def test_formats_numpy_lacks_come_back_as_raw_bits(tmp_path):
    bits = np.array([0x3F80, 0xC020, 0x7F80, 0x0001], dtype=np.uint16)  # bf16: 1, -2.5, inf, tiny
    f8 = np.arange(6, dtype=np.uint8)
    path = str(tmp_path / "raw.safetensors")
    serialize_file({"bf16": TensorSpec(dtype="bfloat16", shape=[2, 2], data_ptr=bits.ctypes.data, data_len=bits.nbytes),
                    "f8": TensorSpec(dtype="float8_e4m3fn", shape=[3, 2], data_ptr=f8.ctypes.data, data_len=f8.nbytes)},
                   path)
    arrays = rank_rerank.load_weights(path)
    assert arrays["bf16"].dtype == np.uint16
    np.testing.assert_array_equal(arrays["bf16"], bits.reshape(2, 2))
    assert arrays["f8"].dtype == np.uint8 and arrays["f8"].shape == (3, 2)
    np.testing.assert_array_equal(arrays["f8"].ravel(), f8)
    info = rank_rerank.weights_info(path)
    assert info["tensors"] == {"bf16": {"dtype": "BF16", "shape": [2, 2]}, "f8": {"dtype": "F8_E4M3", "shape": [3, 2]}}


def test_arrays_are_read_only_views_that_keep_the_file_mapped(tmp_path):
    path = str(tmp_path / "w.safetensors")
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    b = np.arange(5, dtype=np.float32)
    save_file({"a": a, "b": b}, path)
    arrays = rank_rerank.load_weights(path)
    first, second = sorted(arrays.values(), key=lambda x: x.__array_interface__["data"][0])
    # Zero-copy: the two tensors sit back to back, as in the file.
    assert first.__array_interface__["data"][0] + first.nbytes == second.__array_interface__["data"][0]
    assert not arrays["a"].flags.writeable
    with pytest.raises(ValueError):
        arrays["a"][0, 0] = 1
    kept = arrays["a"]
    del arrays, first, second
    gc.collect()
    np.testing.assert_array_equal(kept, a)


def test_metadata_and_info(tmp_path):
    path = str(tmp_path / "m.safetensors")
    save_file({"w": np.ones((2, 3), dtype=np.float16)}, path, metadata={"format": "pt", "k": "v"})
    info = rank_rerank.weights_info(path)
    assert info["metadata"] == {"format": "pt", "k": "v"}
    assert info["tensors"] == {"w": {"dtype": "F16", "shape": [2, 3]}}
    assert info["source"] == path


def test_sharded_checkpoint(tmp_path):
    rng = np.random.default_rng(1)
    shards = [{"a": rng.standard_normal((2, 2)).astype(np.float32)},
              {"b": rng.standard_normal(3).astype(np.float32), "c": np.arange(4, dtype=np.int64)}]
    weight_map = {}
    for i, tensors in enumerate(shards):
        name = f"model-{i + 1:05d}-of-00002.safetensors"
        save_file(tensors, str(tmp_path / name))
        weight_map.update(dict.fromkeys(tensors, name))
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    for source in (tmp_path / "model.safetensors.index.json", tmp_path):
        arrays = rank_rerank.load_weights(str(source))
        for tensors in shards:
            for name, expected in tensors.items():
                np.testing.assert_array_equal(arrays[name], expected)


def test_damaged_files_raise_value_errors_naming_the_file(tmp_path):
    path = tmp_path / "w.safetensors"
    save_file({"w": np.ones(100, dtype=np.float32)}, str(path))
    data = path.read_bytes()
    cases = {
        "truncated.safetensors": (data[:-10], "reach past the end of the data section"),
        "short.safetensors": (data[:5], "fewer than the 8-byte header length"),
        "header.safetensors": (data[:8] + b"[" + data[9:], "malformed JSON"),
        "grown.safetensors": (data + b"\0" * 4, "the data section has 404 bytes but the tensors cover 400"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=message) as error:
            rank_rerank.load_weights(str(tmp_path / name))
        assert name in str(error.value)
    with pytest.raises(RuntimeError, match="cannot open"):
        rank_rerank.load_weights(str(tmp_path / "missing.safetensors"))
