"""Writes examples/data/stdlib_passages.jsonl: the first paragraph of the docstrings of Python
standard-library modules and of their public functions and classes, the demo's sample corpus.

The text is Python's documentation, under the Python Software Foundation License (see
examples/data/README.md). Run with the Python whose docstrings you want (the committed file was
made with CPython 3.11):  python scripts/make_sample_corpus.py
"""
import importlib
import inspect
import json
import pathlib
import re

MODULES = [
    "argparse", "array", "ast", "asyncio", "base64", "bisect", "bz2", "calendar", "cmath",
    "codecs", "collections", "colorsys", "concurrent.futures", "configparser", "contextlib",
    "copy", "csv", "dataclasses", "datetime", "decimal", "difflib", "email", "enum", "filecmp",
    "fnmatch", "fractions", "ftplib", "functools", "getpass", "gettext", "glob", "gzip",
    "hashlib", "heapq", "hmac", "html", "http.client", "imaplib", "inspect", "io", "ipaddress",
    "itertools", "json", "locale", "logging", "lzma", "math", "mimetypes", "operator", "os",
    "os.path", "pathlib", "pickle", "platform", "pprint", "queue", "random", "re", "sched",
    "secrets", "shelve", "shlex", "shutil", "signal", "smtplib", "socket", "sqlite3",
    "statistics", "string", "struct", "subprocess", "tarfile", "tempfile", "textwrap",
    "threading", "time", "timeit", "tokenize", "traceback", "unicodedata", "unittest",
    "urllib.parse", "urllib.request", "uuid", "warnings", "weakref", "xml.etree.ElementTree",
    "zipfile", "zlib",
]
PER_MODULE = 4  # the module's own docstring plus up to this many of its members
MIN_CHARS, MAX_CHARS = 50, 600


def first_paragraph(doc):
    if not doc:
        return None
    para = re.split(r"\n\s*\n", inspect.cleandoc(doc).strip())[0]
    text = " ".join(para.split())
    # Signature lines ("sqrt(x, /)") say nothing a reader searches for.
    if not (MIN_CHARS <= len(text) <= MAX_CHARS) or re.match(r"^[\w.]+\(.*\)$", text):
        return None
    return text


def passages():
    seen = set()
    for name in MODULES:
        module = importlib.import_module(name)
        entries = [(name, module.__doc__)]
        public = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
        for member in sorted(public):
            obj = getattr(module, member, None)
            if inspect.isfunction(obj) or inspect.isbuiltin(obj) or inspect.isclass(obj):
                entries.append((f"{name}.{member}", obj.__doc__))
        kept = 0
        for ident, doc in entries:
            text = first_paragraph(doc)
            if text is None or text in seen:
                continue
            seen.add(text)
            yield {"id": ident, "text": text}
            kept += 1
            if kept > PER_MODULE:
                break


def main():
    out = pathlib.Path(__file__).resolve().parent.parent / "examples" / "data" / "stdlib_passages.jsonl"
    rows = list(passages())
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} passages -> {out}")


if __name__ == "__main__":
    main()
