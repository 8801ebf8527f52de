"""Import textattack 0.3.11 offline, without side effects on the rest of the process.

What it does at first import, and how this module answers it:
- calls `nltk.download` for six resources unless `<TA cache>/post_install_check_3` exists → the
  marker is staged (and `nltk.download` is blocked during the import, so nothing is ever fetched);
- builds `StopwordModification()` at module level, which needs NLTK's English stop words → a
  `corpora/stopwords/english` file is staged from data/stopwords/eng.txt (stopwords-iso, MIT) and
  put on `nltk.data.path`;
- `TA_CACHE_DIR` would overwrite HF_HOME, XDG_CACHE_HOME and others process-wide → it is never set
  here, and any of those variables it changes during import are restored.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from afroadv.resources import cache_root, data_dir

_CLOBBERED = ("TFHUB_CACHE_DIR", "PYTORCH_TRANSFORMERS_CACHE", "HF_HOME", "XDG_CACHE_HOME", "TOKENIZERS_PARALLELISM")


class NetworkBlocked(RuntimeError):
    pass


def textattack_cache_dir() -> Path:
    return Path(os.environ.get("TA_CACHE_DIR", os.path.expanduser("~/.cache/textattack")))


def stage_nltk_data() -> Path:
    """An NLTK data folder holding what textattack's import needs (English stop words)."""
    root = cache_root() / "nltk_data"
    target = root / "corpora" / "stopwords" / "english"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        words = (data_dir() / "stopwords" / "eng.txt").read_text(encoding="utf-8")
        tmp = target.with_suffix(".tmp")
        tmp.write_text(words, encoding="utf-8")
        os.replace(tmp, target)
    return root


def stage_post_install_marker() -> Path:
    marker = textattack_cache_dir() / "post_install_check_3"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch(exist_ok=True)
    return marker


def import_textattack():
    """Import and return the textattack module, offline and without clobbering cache variables."""
    if "textattack" in sys.modules:
        return sys.modules["textattack"]
    import nltk

    nltk_root = str(stage_nltk_data())
    if nltk_root not in nltk.data.path:
        nltk.data.path.insert(0, nltk_root)
    stage_post_install_marker()
    saved = {k: os.environ.get(k) for k in _CLOBBERED}
    real_download = nltk.download

    def _no_download(*args, **kwargs):
        raise NetworkBlocked(f"afroadv blocked nltk.download{args!r}: everything textattack needs is staged")

    nltk.download = _no_download
    try:
        import textattack
    finally:
        nltk.download = real_download
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return textattack
