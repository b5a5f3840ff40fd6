"""Bad inputs to the MaxSim bindings: a ValueError that says what is wrong, never a crash."""

import numpy as np
import pytest

import rank_rerank as rr

Q = np.ones((3, 4), np.float32)
D = np.ones((5, 4), np.float32)


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: rr.maxsim(Q, np.ones((5, 6), np.float32)), ["dimension", "[3, 4]", "[5, 6]"]),
        (lambda: rr.maxsim(np.ones((0, 4), np.float32), D), ["query", "no tokens"]),
        (lambda: rr.maxsim(Q, D, weights=[1, 2]), ["weights", "2", "3"]),
        (lambda: rr.maxsim(Q, D, similarity="l2"), ["similarity", "l2"]),
        (lambda: rr.maxsim(Q, np.ones(4, np.float32)), ["doc", "2-D"]),
        (lambda: rr.maxsim(Q, np.ones((2, 3, 4), np.float32)), ["doc", "2-D"]),
        (lambda: rr.maxsim(Q, D, dtype="float8"), ["dtype", "float8"]),
        (lambda: rr.maxsim(Q, D.astype(np.int8)), ["int8", "scales"]),
        (lambda: rr.maxsim(Q, D.astype(np.int8), scales=[1.0, 2.0]), ["scales", "2", "5"]),
        (lambda: rr.maxsim(Q, D, scales=np.ones(5)), ["scales", "float32"]),
        (lambda: rr.maxsim(Q, D.astype(np.uint8)), ["bit"]),
        (lambda: rr.maxsim(Q, np.zeros((5, 1), np.uint8), dtype="bit", dim=9), ["dim=9", "bytes"]),
        (lambda: rr.maxsim(Q, D.astype(np.uint16)), ["bfloat16"]),
        (lambda: rr.maxsim(Q, D, dtype="bfloat16"), ["float32", "dtype"]),
        (lambda: rr.maxsim(Q, D, dim=7), ["dim=7", "4"]),
        (lambda: rr.maxsim(Q, [[1.0, 2.0], [3.0]]), []),
        (lambda: rr.maxsim_packed(Q, D, [0, 3, 2, 5]), ["offsets", "decrease"]),
        (lambda: rr.maxsim_packed(Q, D, [0, 3]), ["offsets", "5 rows"]),
        (lambda: rr.maxsim_packed(Q, D, [1, 5]), ["offsets[0]"]),
        (lambda: rr.maxsim_packed(Q, D, [0.0, 5.0]), ["integers"]),
        (lambda: rr.maxsim_padded(Q, np.ones((2, 3, 4), np.float32), lengths=[1, 4]), ["lengths[1]"]),
        (lambda: rr.maxsim_padded(Q, np.ones((2, 3, 4), np.float32), lengths=[1]), ["lengths", "n_docs"]),
        (lambda: rr.maxsim_padded(Q, np.ones((2, 3, 4), np.float32), mask=np.ones((2, 2))), ["mask", "(2, 3)"]),
        (lambda: rr.maxsim_padded(Q, np.ones((2, 3, 4), np.float32), lengths=[1, 1], mask=np.ones((2, 3))), ["not both"]),
        (lambda: rr.maxsim_padded(Q, np.ones((2, 3, 4), np.float32), padding="zero"), ["padding"]),
        (lambda: rr.maxsim_padded(Q, D), ["3-D"]),
        (lambda: rr.maxsim_all_pairs([Q, np.ones((0, 4), np.float32)], [D]), ["query 1", "no tokens"]),
        (lambda: rr.maxsim_all_pairs([Q], [D, np.ones((2, 5), np.float32)]), ["docs[1]", "dim"]),
        (lambda: rr.maxsim_all_pairs(Q, D, query_offsets=[0, 4], doc_offsets=[0, 5]), ["offsets"]),
        (lambda: rr.maxsim_candidates([Q], [D], [[0, 1]]), ["candidate_ids", "[0, 1)"]),
        (lambda: rr.maxsim_candidates([Q], [D], [[-1]]), ["candidate_ids"]),
        (lambda: rr.maxsim_candidates([Q, Q], [D], [0, 0], candidate_offsets=[0, 2, 1]), ["candidate_offsets"]),
        (lambda: rr.maxsim_candidates([Q, Q], [D], [[0]]), ["candidate_offsets", "n_queries"]),
        (lambda: rr.highlight_matches(Q, D, float("nan")), ["threshold", "NaN"]),
        (lambda: rr.maxsim_alignments(Q, np.ones((2, 5), np.float32)), ["dimension"]),
        (lambda: rr.maxsim_batch(Q, [D, np.ones((1, 3), np.float32)]), ["docs[1]"]),
    ],
)
def test_bad_inputs_raise_value_error(call, words):
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    for word in words:
        assert word in message, message


def test_unsupported_dtype_pairs_raise_runtime_error():
    # A bit-packed query only scores bit documents; float documents have no such kernel.
    with pytest.raises((ValueError, RuntimeError)):
        rr.maxsim(np.zeros((2, 1), np.uint8), D[:, :1].repeat(8, axis=1).astype(np.float16))


def test_not_a_crash_on_odd_objects():
    with pytest.raises((ValueError, TypeError)):
        rr.maxsim(Q, "not an array")
    with pytest.raises((ValueError, TypeError)):
        rr.maxsim(Q, None)
    with pytest.raises((ValueError, TypeError)):
        rr.maxsim_batch(Q, 5)
    with pytest.raises((ValueError, TypeError)):
        rr.maxsim(Q, D, weights="abc")


def test_empty_batches_are_fine():
    assert rr.maxsim_all_pairs([Q], []).shape == (1, 0)
    assert rr.maxsim_all_pairs([], [D]).shape == (0, 1)
    assert rr.maxsim_candidates([Q], [D], [[]]).shape == (0,)
    assert rr.maxsim_padded(Q, np.ones((0, 3, 4), np.float32)).shape == (0,)
    assert rr.maxsim_packed(Q, np.ones((0, 4), np.float32), [0]).shape == (0,)
