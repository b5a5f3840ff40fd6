"""`rank-rerank tokenize` against the values the real `tokenizers` package produced for the
committed fixtures (tests/fixtures/tokenizers/expected.json), plus its errors and exit codes.

  python tests/cli/test_tokenize.py BUILD/cli/rank-rerank tests/fixtures/tokenizers
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

BINARY, FIXTURES = sys.argv[1], sys.argv[2]
EXPECTED = json.load(open(os.path.join(FIXTURES, "expected.json"), encoding="utf-8"))
FAILURES = []


def run(args, stdin=b""):
    return subprocess.run([BINARY, *args], input=stdin, capture_output=True, timeout=120)


def check(condition, message):
    if not condition:
        FAILURES.append(message)


def outputs(proc):
    return [json.loads(line) for line in proc.stdout.decode().splitlines()]


def compare(got, want, what):
    for key in ("ids", "type_ids", "attention_mask"):
        check(got[key] == want[key], f"{what}: {key} {got[key]} != {want[key]}")
    check(got["offsets"] == [list(o) for o in want["offsets"]], f"{what}: offsets differ")


for name, cases in EXPECTED["tokenizers"].items():
    path = os.path.join(FIXTURES, name + ".json")
    # Texts that fit on one line (a line ending is a separator, not text).
    singles = [c for c in cases["single"] if not any(b in bytes.fromhex(c["text_hex"]) for b in b"\n\r")]
    stdin = b"".join(bytes.fromhex(c["text_hex"]) + b"\n" for c in singles)
    proc = run(["tokenize", "--tokenizer", path], stdin)
    check(proc.returncode == 0, f"{name}: exit {proc.returncode} {proc.stderr!r}")
    got = outputs(proc)
    check(len(got) == len(singles), f"{name}: {len(got)} lines for {len(singles)}")
    for g, c in zip(got, singles):
        compare(g, c, f"{name} {c['text_hex']}")
    proc = run(["tokenize", "--tokenizer", path, "--no-special-tokens"], stdin)
    for g, c in zip(outputs(proc), singles):
        check(g["ids"] == c["ids_without_special_tokens"], f"{name}: --no-special-tokens {c['text_hex']}")
    pairs = cases["pairs"]
    stdin = b"".join(bytes.fromhex(c["text_hex"]) + b"\t" + bytes.fromhex(c["pair_hex"]) + b"\r\n" for c in pairs)
    proc = run(["tokenize", "--tokenizer", path, "--pair", "--batch", "2"], stdin)
    check(proc.returncode == 0, f"{name}: --pair exit {proc.returncode} {proc.stderr!r}")
    for g, c in zip(outputs(proc), pairs):
        compare(g, c, f"{name} pair {c['text_hex']}")
    # Truncation: `tokenizers`' right-truncated batch without its padding.
    batch = next(b for b in cases["batches"] if not b["pairs"] and b["direction"] == "right")
    texts = [bytes.fromhex(h) for h in batch["texts_hex"]]
    keep = [i for i, t in enumerate(texts) if b"\n" not in t and b"\r" not in t]
    proc = run(["tokenize", "--tokenizer", path, "--max-length", str(batch["max_length"])],
               b"".join(texts[i] + b"\n" for i in keep))
    for g, i in zip(outputs(proc), keep):
        want = batch["encodings"][i]
        n = sum(want["attention_mask"])
        start = 0 if want["attention_mask"][0] == 1 else len(want["ids"]) - n
        trimmed = {k: want[k][start:start + n] for k in ("ids", "type_ids", "attention_mask", "offsets")}
        compare(g, trimmed, f"{name} --max-length {texts[i]!r}")

# A model directory works like its tokenizer.json.
with tempfile.TemporaryDirectory() as tmp:
    shutil.copy(os.path.join(FIXTURES, "wordpiece_cased.json"), os.path.join(tmp, "tokenizer.json"))
    proc = run(["tokenize", "--tokenizer", tmp], b"Hello\n")
    check(proc.returncode == 0 and len(outputs(proc)) == 1, f"model directory: {proc.stderr!r}")

wordpiece = os.path.join(FIXTURES, "wordpiece_cased.json")
proc = run(["tokenize", "--tokenizer", wordpiece, "--pair"], b"a\tb\nc\td\nno tab here\n")
check(proc.returncode == 1 and b"line 3" in proc.stderr, f"bad pair line: {proc.returncode} {proc.stderr!r}")
proc = run(["tokenize", "--tokenizer", wordpiece, "--pair", "--batch", "1"], b"a\tb\tc\n")
check(proc.returncode == 1 and b"line 1" in proc.stderr, f"two tabs: {proc.returncode} {proc.stderr!r}")
proc = run(["tokenize", "--tokenizer", "/nonexistent/tokenizer.json"], b"x\n")
check(proc.returncode == 3 and b"cannot open" in proc.stderr, f"missing file: {proc.returncode} {proc.stderr!r}")
proc = run(["tokenize", "--tokenizer", wordpiece, "--max-length", "-3"])
check(proc.returncode == 2, f"bad option value: {proc.returncode}")
proc = run(["tokenize"])
check(proc.returncode == 2 and b"--tokenizer" in proc.stderr, f"missing option: {proc.returncode} {proc.stderr!r}")
proc = run(["--help"])
check(proc.returncode == 0 and b"Exit codes" in proc.stdout, f"--help: {proc.returncode}")
proc = run(["tokenize", "--tokenizer", wordpiece], b"")
check(proc.returncode == 0 and proc.stdout == b"", "empty input")

if FAILURES:
    print("\n".join(FAILURES))
    sys.exit(1)
print("cli tokenize: all checks passed")
