"""The model-using `rank-rerank` subcommands against the peers' outputs committed as fixtures
(PyLate ColBERT embeddings, sentence-transformers cross-encoder scores), scored here with NumPy;
plus their bad inputs and exit codes. One subcommand per run (one CTest test each):

  python tests/cli/test_commands.py BUILD/cli/rank-rerank tests/fixtures/models <subcommand>
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from safetensors.numpy import load_file

BINARY, FIXTURES, COMMAND = sys.argv[1], sys.argv[2], sys.argv[3]
COLBERT = os.path.join(FIXTURES, "colbert_tiny_pylate")
CROSS = os.path.join(FIXTURES, "cross_tiny_1")
TEXTS = json.load(open(os.path.join(FIXTURES, "colbert_texts.json"), encoding="utf-8"))
FAILURES = []
SCRATCH = tempfile.mkdtemp(prefix="rank_rerank_cli_")


def run(args, stdin="", env=None):
    return subprocess.run([BINARY, *args], input=stdin.encode(), capture_output=True, timeout=300,
                          env=env)


def check(condition, message):
    if not condition:
        FAILURES.append(message)


def lines(proc):
    return [json.loads(line) for line in proc.stdout.decode().splitlines()]


def write(name, text):
    path = os.path.join(SCRATCH, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def maxsim(q, d):
    return float((q.astype(np.float64) @ d.astype(np.float64).T).max(axis=1).sum()) if len(d) else 0.0


def colbert_reference():
    ref = load_file(os.path.join(FIXTURES, "colbert_tiny_pylate_reference.safetensors"))
    qo, do = ref["query_offsets"], ref["document_offsets"]
    q = [ref["query_embeddings"][qo[i]:qo[i + 1]] for i in range(len(qo) - 1)]
    d = [ref["document_embeddings"][do[i]:do[i + 1]] for i in range(len(do) - 1)]
    return q, d


def expect_exit(proc, code, words, what):
    err = proc.stderr.decode()
    check(proc.returncode == code, f"{what}: exit {proc.returncode}, wanted {code}: {err}")
    check(words in err, f"{what}: wanted '{words}' in stderr: {err}")


def test_rerank():
    q, d = colbert_reference()
    records = [{"id": i, "query": query, "documents": TEXTS["documents"]}
               for i, query in enumerate(TEXTS["queries"])]
    path = write("queries.jsonl", "\n".join(json.dumps(r) for r in records) + "\n")
    proc = run(["rerank", "--model", COLBERT, "--input", path, "--batch-tokens", "50", "--stats"])
    check(proc.returncode == 0, f"rerank: exit {proc.returncode} {proc.stderr!r}")
    out = lines(proc)
    check(len(out) == len(records), f"rerank: {len(out)} lines for {len(records)} queries")
    for qi, line in enumerate(out):
        check(line["id"] == qi and line["query"] == TEXTS["queries"][qi], f"rerank: line {qi} echo")
        want = [maxsim(q[qi], doc) for doc in d]
        got = line["results"]
        check(sorted(h["index"] for h in got) == list(range(len(d))), f"rerank {qi}: indices")
        for h in got:
            check(abs(h["score"] - want[h["index"]]) <= 1e-4 * max(1, abs(want[h["index"]])),
                  f"rerank {qi}: score {h} vs {want[h['index']]}")
        check([h["score"] for h in got] == sorted((h["score"] for h in got), reverse=True),
              f"rerank {qi}: not sorted")
    stats = [json.loads(s) for s in proc.stderr.decode().splitlines() if s.startswith("{")]
    listed = json.loads(run(["devices", "--json"]).stdout)
    automatic = next((d["device"] for d in listed if d["device"].startswith("cuda")), "cpu")
    check(stats and stats[-1]["queries"] == len(records) and stats[-1]["device"] == automatic,
          f"rerank --stats: {stats} (the automatic device is {automatic})")
    # TSV and --query forms, top-k, documents with ids, returned texts.
    tsv = "".join(f"{TEXTS['queries'][0]}\t{doc}\n" for doc in TEXTS["documents"][:3])
    proc = run(["rerank", "-m", COLBERT, "--format", "tsv", "--top-k", "2"], tsv)
    out = lines(proc)
    check(len(out) == 1 and len(out[0]["results"]) == 2, f"rerank tsv: {out}")
    proc = run(["rerank", "-m", COLBERT, "-q", "cat on mat", "--return-documents"],
               "".join(doc + "\n" for doc in TEXTS["documents"][:2]))
    out = lines(proc)
    check(out and {h["text"] for h in out[0]["results"]} == set(TEXTS["documents"][:2]),
          f"rerank --query: {out}")
    proc = run(["rerank", "-m", COLBERT],
               json.dumps({"query": "q", "documents": [{"id": "a", "text": "x"}, {"id": "b", "text": "y"}]}))
    out = lines(proc)
    check(out and {h["id"] for h in out[0]["results"]} == {"a", "b"}, f"rerank ids: {out}")
    # Bad inputs name the file and line.
    bad = write("bad.jsonl", json.dumps(records[0]) + "\n{not json\n")
    expect_exit(run(["rerank", "-m", COLBERT, "-i", bad]), 1, "bad.jsonl:2: not valid JSON", "rerank bad json")
    expect_exit(run(["rerank", "-m", COLBERT], '{"query": 1, "documents": []}'), 1,
                '<stdin>:1: expected a string field "query"', "rerank bad query")
    expect_exit(run(["rerank", "-m", COLBERT], '{"query": "q", "documents": [3]}'), 1,
                "<stdin>:1: each entry", "rerank bad document")
    expect_exit(run(["rerank", "-m", COLBERT, "--format", "tsv"], "no tab here\n"), 1,
                "<stdin>:1: expected query<TAB>document", "rerank bad tsv")
    expect_exit(run(["rerank", "-m", COLBERT, "-i", os.path.join(SCRATCH, "absent.jsonl")]), 4,
                "cannot open", "rerank missing input")
    expect_exit(run(["rerank", "-m", os.path.join(FIXTURES, "no_such_model")]), 3,
                "no_such_model", "rerank missing model")
    expect_exit(run(["rerank", "-m", COLBERT, "--device", "tpu"]), 3, "tpu", "rerank bad device")
    expect_exit(run(["rerank", "-m", COLBERT, "--devices", "cpu,cpu"]), 3, "CUDA devices only",
                "rerank --devices of CPUs")
    expect_exit(run(["rerank", "-m", COLBERT, "--device", "cpu", "--devices", "cuda:0,cuda:1"]), 3,
                "either device or devices", "rerank --device with --devices")
    expect_exit(run(["rerank", "-m", COLBERT, "--format", "xml"]), 2, "--format", "rerank bad format")
    expect_exit(run(["rerank", "-m", COLBERT, "--top-k", "0"]), 2, "top-k", "rerank top-k 0")
    expect_exit(run(["rerank"]), 2, "--model", "rerank without --model")


def test_encode():
    q, d = colbert_reference()
    docs = TEXTS["documents"]
    path = write("docs.jsonl", "".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(docs)))
    out = os.path.join(SCRATCH, "docs.rrv")
    proc = run(["encode", "-m", COLBERT, "-i", path, "-o", out, "--json"])
    check(proc.returncode == 0, f"encode: exit {proc.returncode} {proc.stderr!r}")
    summary = lines(proc)[0]
    check(summary["documents"] == len(docs) and summary["dim"] == 20, f"encode summary {summary}")
    # Read back with the safetensors package: the layout docs/formats.md documents.
    from safetensors import safe_open
    with safe_open(out, "numpy") as f:
        meta = f.metadata()
        vectors, offsets = f.get_tensor("vectors"), f.get_tensor("offsets")
        id_bytes, id_offsets = f.get_tensor("id_bytes"), f.get_tensor("id_offsets")
    check(meta["format"] == "rank-rerank/document-vectors" and meta["model.kind"] == "colbert",
          f"encode metadata {meta}")
    ids = [bytes(id_bytes[id_offsets[i]:id_offsets[i + 1]]).decode() for i in range(len(docs))]
    check(ids == [f"d{i}" for i in range(len(docs))], f"encode ids {ids}")
    for i, ref in enumerate(d):
        got = vectors[offsets[i]:offsets[i + 1]]
        check(got.shape == ref.shape and np.abs(got - ref).max(initial=0) <= 1e-4, f"encode doc {i}")
    # Scoring by id from the file equals the reference.
    proc = run(["rerank", "-m", COLBERT, "--vectors", out],
               json.dumps({"query": TEXTS["queries"][0], "ids": ["d4", "d0"]}) + "\n")
    got = lines(proc)[0]["results"]
    for h in got:
        want = maxsim(q[0], d[[4, 0][h["index"]]])
        check(abs(h["score"] - want) <= 1e-4 * max(1, want), f"rerank --vectors {h} vs {want}")
        check(h["id"] == ["d4", "d0"][h["index"]], f"rerank --vectors id {h}")
    # f16 storage, plain lines (ids are line numbers), TSV.
    half = os.path.join(SCRATCH, "half.rrv")
    proc = run(["encode", "-m", COLBERT, "-o", half, "--storage", "float16"], "a b c\nd e\n")
    check(proc.returncode == 0, f"encode f16: {proc.stderr!r}")
    with safe_open(half, "numpy") as f:
        check(f.get_tensor("vectors").dtype == np.float16, "encode f16 dtype")
    tsv = os.path.join(SCRATCH, "docs.tsv")
    write("docs.tsv", "x\tfirst\ny\tsecond\n")
    check(run(["encode", "-m", COLBERT, "-i", tsv, "-o", os.path.join(SCRATCH, "t.rrv")]).returncode == 0,
          "encode tsv")
    # A progress bar when stderr is a terminal (a pseudo-terminal here), none otherwise.
    master, slave = os.openpty()
    proc = subprocess.run([BINARY, "encode", "-m", COLBERT, "-o", os.path.join(SCRATCH, "p.rrv"),
                           "--chunk", "2"], input=b"a\nb\nc\n", stdout=subprocess.PIPE,
                          stderr=slave, timeout=300)
    os.close(slave)
    drawn = os.read(master, 1 << 16)
    os.close(master)
    check(proc.returncode == 0 and b"3/3 documents" in drawn and b"[" in drawn,
          f"encode progress bar on a terminal: {drawn!r}")
    check(b"documents  " not in run(["encode", "-m", COLBERT, "-o", os.path.join(SCRATCH, "p.rrv")],
                                     "a\n").stderr, "encode: no progress bar when stderr is not a terminal")
    # Another model's file, unknown ids, bad input.
    expect_exit(run(["rerank", "-m", os.path.join(FIXTURES, "colbert_tiny_chain"), "--vectors", out],
                    '{"query": "q", "ids": ["d0"]}'), 3, "fingerprint differs", "rerank other model")
    expect_exit(run(["rerank", "-m", COLBERT, "--vectors", out], '{"query": "q", "ids": ["zz"]}'), 1,
                "'zz'", "rerank unknown id")
    corrupt = write("corrupt.rrv", "garbage")
    expect_exit(run(["rerank", "-m", COLBERT, "--vectors", corrupt], ""), 3, "corrupt.rrv", "rerank corrupt file")
    expect_exit(run(["encode", "-m", COLBERT, "-o", os.path.join(SCRATCH, "u.rrv"), "--format", "tsv"], "x\ta\nx\tb\n"),
                1, "'x' appears more than once", "encode duplicate ids")
    expect_exit(run(["encode", "-m", COLBERT, "-o", os.path.join(SCRATCH, "u.rrv"), "--format", "jsonl"],
                    '{"id": "a", "text": "x"}\n{"text": "y"}\n'), 1, "<stdin>:2: expected an \"id\"",
                "encode missing id")
    expect_exit(run(["encode", "-m", COLBERT, "-o", out, "--storage", "int8"], "a\n"), 2, "--storage",
                "encode bad storage")
    expect_exit(run(["encode", "-m", CROSS, "-o", os.path.join(SCRATCH, "c.rrv")], "a\n"), 5,
                "cross-encoder", "encode with a cross-encoder")


def test_score():
    pairs = json.load(open(os.path.join(FIXTURES, "cross_pairs.json"), encoding="utf-8"))
    want = load_file(os.path.join(FIXTURES, "cross_tiny_1_reference.safetensors"))["scores"][:, 0]
    tsv = "".join(f"{q}\t{d}\n" for q, d in pairs)
    proc = run(["score", "-m", CROSS, "--batch-tokens", "64"], tsv)
    check(proc.returncode == 0, f"score: exit {proc.returncode} {proc.stderr!r}")
    got = [float(x) for x in proc.stdout.decode().split()]
    check(len(got) == len(pairs), f"score: {len(got)} scores for {len(pairs)} pairs")
    check(np.allclose(got, want, rtol=1e-4, atol=1e-5), f"score: {got} vs {want.tolist()}")
    jsonl = "".join(json.dumps({"query": q, "document": d}) + "\n" for q, d in pairs[:2])
    out = lines(run(["score", "-m", CROSS, "--format", "jsonl", "--json"], jsonl))
    check([round(o["score"], 5) for o in out] == [round(float(x), 5) for x in want[:2]], f"score jsonl {out}")
    expect_exit(run(["score", "-m", CROSS], "a\tb\tc\n"), 1, "<stdin>:1: expected query<TAB>document",
                "score two tabs")
    expect_exit(run(["score", "-m", CROSS, "--format", "jsonl"], '{"query": "a"}\n'), 1,
                '<stdin>:1: expected a string field "document"', "score missing document")


def test_bench():
    proc = run(["bench", "-m", COLBERT, "--docs", "5", "--doc-words", "10", "--repeat", "2", "--warmup", "0",
                "--json", "--device", "cpu"])
    check(proc.returncode == 0, f"bench: exit {proc.returncode} {proc.stderr!r}")
    out = lines(proc)[0]
    for key in ("latency_ms_p50", "latency_ms_p90", "tokens_per_second_p50", "documents_per_second_p50"):
        check(out[key] > 0, f"bench: {key} = {out[key]}")
    check(out["device"] == "cpu" and out["kind"] == "colbert", f"bench: {out}")
    proc = run(["bench", "-m", COLBERT, "--docs", "3", "--repeat", "1"])
    check(b"latency" in proc.stdout and proc.returncode == 0, f"bench text: {proc.stdout!r}")
    expect_exit(run(["bench", "-m", COLBERT, "--docs", "0"]), 2, "docs", "bench zero docs")


def test_devices():
    proc = run(["devices", "--json"])
    check(proc.returncode == 0, f"devices: {proc.stderr!r}")
    out = json.loads(proc.stdout)
    check(out[0]["device"] == "cpu" and out[0]["multiprocessors"] >= 1, f"devices: {out}")
    check(out[0]["bf16_kernel"] in ("amx", "avx512_bf16", "decoded_f32"), f"devices: {out}")
    proc = run(["devices"])
    check(proc.stdout.decode().startswith("cpu"), f"devices text: {proc.stdout!r}")
    # OpenBLAS's kernels: on a CPU with AVX2 the command never runs the generic ones it left to
    # itself (it restarts itself with OPENBLAS_CORETYPE where OpenBLAS fell back to them)...
    unset = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    blas = json.loads(run(["devices", "--json"], env=unset).stdout)[0]["blas"]
    flags = open("/proc/cpuinfo").read().split() if os.path.exists("/proc/cpuinfo") else []
    if "avx2" in flags and "fma" in flags:
        check(blas in ("Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"),
              f"devices: OpenBLAS kernels {blas} on a CPU with AVX2")
    # ...but a user's own choice stands, and the CPU backend then says what it costs.
    forced = {**unset, "OPENBLAS_CORETYPE": "Prescott"}
    blas = json.loads(run(["devices", "--json"], env=forced).stdout)[0]["blas"]
    check(blas == "Prescott", f"devices with OPENBLAS_CORETYPE=Prescott: {blas}")
    if "avx2" in flags and "fma" in flags:
        proc = run(["rerank", "-m", COLBERT, "--device", "cpu", "-q", "cat"], "a cat\n", env=forced)
        check(proc.returncode == 0 and b"OPENBLAS_CORETYPE=" in proc.stderr,
              f"rerank with generic OpenBLAS kernels: no advice on stderr {proc.stderr!r}")


def test_info():
    for model, kind, dim in ((COLBERT, "colbert", 20), (CROSS, "cross_encoder", 0)):
        proc = run(["info", "-m", model, "--json"])
        check(proc.returncode == 0, f"info {kind}: {proc.stderr!r}")
        out = json.loads(proc.stdout)
        check(out["kind"] == kind and out["dim"] == dim and len(out["fingerprint"]) == 16, f"info: {out}")
    proc = run(["info", "-m", CROSS, "--kind", "dense_maxsim"])
    check(b"kind: dense_maxsim" in proc.stdout, f"info text: {proc.stdout!r}")
    # The CPU computes in bfloat16 when asked; float16 needs a GPU.
    proc = run(["info", "-m", CROSS, "--device", "cpu", "--dtype", "bfloat16", "--json"])
    check(proc.returncode == 0 and json.loads(proc.stdout)["dtype"] == "bfloat16",
          f"info on the CPU in bfloat16: {proc.stdout!r} {proc.stderr!r}")
    expect_exit(run(["info", "-m", CROSS, "--device", "cpu", "--dtype", "float16"]), 3, "CUDA",
                "info float16 on the CPU")
    expect_exit(run(["info", "-m", COLBERT, "--kind", "splade"]), 3, "splade", "info bad kind")


{"rerank": test_rerank, "encode": test_encode, "score": test_score, "bench": test_bench,
 "devices": test_devices, "info": test_info}[COMMAND]()
if FAILURES:
    print("\n".join(FAILURES))
    sys.exit(1)
print(f"cli {COMMAND}: ok")
