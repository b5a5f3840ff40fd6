"""Writes the pytorch_model.bin fixtures under tests/fixtures/torch_bin/ with the real torch.save.

torch is too large for CI, so this runs by hand in a throwaway virtualenv and only its small
outputs are committed:

    python3 -m venv /tmp/torchvenv
    /tmp/torchvenv/bin/pip install torch numpy   # the CPU wheel index works too where reachable
    /tmp/torchvenv/bin/python scripts/make_torch_bin_fixtures.py tests/fixtures/torch_bin

expected.json records, for every tensor of every state-dict fixture, the dtype, the shape and the
values in row-major order as torch itself reports them (tolist()), so readers are checked against
torch rather than against themselves. Files that must be refused are listed with a fragment the
error message has to contain.
"""

import collections
import json
import os
import sys

import torch


def values_of(t):
    flat = t.reshape(-1)
    if t.dtype == torch.bool:
        return [int(v) for v in flat.tolist()]
    if t.dtype in (torch.float16, torch.bfloat16):
        return [float(v) for v in flat.float().tolist()]
    return flat.tolist()


DTYPE_NAMES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}


def describe(state_dict):
    return {
        name: {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "values": values_of(t)}
        for name, t in state_dict.items()
    }


class RunsShellOnLoad:
    """Pickles as a call to os.system: what a hostile checkpoint looks like."""

    def __reduce__(self):
        return (os.system, ("echo this checkpoint ran a shell command",))


def main(out_dir):
    torch.manual_seed(0)
    os.makedirs(out_dir, exist_ok=True)
    expected = {"state_dicts": {}, "refused": {}}

    def save_state_dict(filename, state_dict):
        torch.save(state_dict, os.path.join(out_dir, filename))
        expected["state_dicts"][filename] = describe(state_dict)

    def save_refused(filename, obj, message, **kwargs):
        torch.save(obj, os.path.join(out_dir, filename), **kwargs)
        expected["refused"][filename] = message

    save_state_dict("f32.bin", collections.OrderedDict([
        ("matrix", torch.randn(3, 4)),
        ("vector", torch.randn(5)),
        ("scalar", torch.tensor(2.5)),
        ("empty", torch.zeros(0, 3)),
    ]))
    save_state_dict("f16.bin", {"weight": torch.randn(4, 3).half(), "bias": torch.randn(3).half()})
    save_state_dict("bf16.bin", {"weight": torch.randn(2, 5).bfloat16()})
    save_state_dict("int64.bin", {"position_ids": torch.arange(12).reshape(1, 12),
                                  "big": torch.tensor([-(2**62), 2**62 + 1, -1])})
    save_state_dict("other_dtypes.bin", {
        "f64": torch.randn(3, dtype=torch.float64),
        "i32": torch.tensor([-7, 0, 2**31 - 1], dtype=torch.int32),
        "i16": torch.tensor([-300, 300], dtype=torch.int16),
        "i8": torch.tensor([-128, 5, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 200, 255], dtype=torch.uint8),
        "mask": torch.tensor([True, False, True]),
    })

    # Views of one storage at different offsets: torch writes the storage once.
    base = torch.randn(4, 6)
    save_state_dict("shared_storage.bin", {"row1": base[1], "rows2to3": base[2:4], "whole": base})

    # Strided views: the reader copies them into contiguous memory.
    grid = torch.randn(3, 5)
    save_state_dict("non_contiguous.bin", {"transposed": grid.t(), "every_other_column": grid[:, ::2],
                                           "contiguous": torch.randn(2, 2)})

    # A module's state dict (OrderedDict with _metadata), and nn.Parameter objects pickled as such.
    module = torch.nn.Sequential(torch.nn.Embedding(6, 4), torch.nn.LayerNorm(4), torch.nn.Linear(4, 2))
    save_state_dict("module_state_dict.bin", module.state_dict())
    params = collections.OrderedDict((name, p) for name, p in module.named_parameters())
    torch.save(params, os.path.join(out_dir, "parameters.bin"))
    expected["state_dicts"]["parameters.bin"] = describe({k: v.detach() for k, v in params.items()})

    save_refused("malicious_os_system.bin", {"weight": torch.ones(2), "payload": RunsShellOnLoad()},
                 "posix.system")
    save_refused("not_a_state_dict.bin", {"weight": torch.ones(2), "step": 3}, "'step'")
    save_refused("legacy_format.bin", {"weight": torch.ones(2)}, "legacy",
                 _use_new_zipfile_serialization=False)

    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump({"torch_version": torch.__version__, **expected}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/torch_bin")
