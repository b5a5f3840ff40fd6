"""rank_rerank with NumPy arrays and with torch tensors (CUDA tensors when there is a GPU).

Vectors come back as NumPy arrays; the scoring functions take NumPy arrays, torch tensors and
anything else with the buffer or DLPack protocol, without copies where dtype and layout allow.
The torch part is skipped when torch is not installed.

    .venv/bin/python examples/numpy_and_torch.py [--model DIR_OR_HF_ID]
"""
import argparse

import numpy as np

import rank_rerank as rr
from _common import default_model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    reranker = rr.Reranker(args.model or default_model(), kind="dense_maxsim"
                           if args.model is None else "auto")
    docs = ["Return a random integer N such that a <= N <= b.",
            "Compress data in one shot and return the compressed bytes.",
            "Shuffle list x in place, and return None."]
    values, offsets = reranker.encode_documents(docs)
    print(f"NumPy: vectors {values.dtype}{values.shape}, offsets {offsets.tolist()}")

    # MaxSim straight on NumPy arrays, checked against NumPy itself.
    query_values, _ = reranker.encode_documents(["pick a random number"])
    doc_list = [values[offsets[i]:offsets[i + 1]] for i in range(len(docs))]
    scores = rr.maxsim_batch(query_values, doc_list)
    by_numpy = [float((query_values @ d.T).max(axis=1).sum()) for d in doc_list]
    print("maxsim_batch:", np.round(scores, 4).tolist(), "NumPy:", np.round(by_numpy, 4).tolist())

    try:
        import torch
    except ImportError:
        print("torch is not installed: the torch part is skipped")
        return
    device = "cuda" if torch.cuda.is_available() else "cpu"
    q = torch.from_numpy(query_values).to(device)
    d = [torch.from_numpy(x).to(device) for x in doc_list]
    if device == "cpu":
        print("torch CPU tensors:", np.round(rr.maxsim_batch(q, d), 4).tolist())
    else:
        by_torch = [float((q @ x.T).amax(dim=1).sum()) for x in d]
        print("torch CUDA tensors (scored by torch):", np.round(by_torch, 4).tolist())
        print("copied to the host for rank_rerank:",
              np.round(rr.maxsim_batch(q.cpu(), [x.cpu() for x in d]), 4).tolist())


if __name__ == "__main__":
    main()
