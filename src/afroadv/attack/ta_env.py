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

import importlib.util
import os
import sys
from pathlib import Path

from afroadv.data.writers import write_text_atomic
from afroadv.errors import AfroadvError
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
        words = (data_dir() / "stopwords" / "eng.txt").read_text(encoding="utf-8")
        # Atomic, through a random temp name in the same folder: a predictable name could be
        # pre-created (or linked elsewhere) in a shared cache, and two processes staging at once
        # would write into the same file.
        write_text_atomic(target, words)
    return root


def stage_post_install_marker() -> Path:
    """The file whose absence makes textattack's first import run `nltk.download` six times."""
    marker = textattack_cache_dir() / "post_install_check_3"
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch(exist_ok=True)
    except OSError as e:
        raise AfroadvError(f"cannot write textattack's cache folder {marker.parent} (TA_CACHE_DIR): "
                           f"{e.strerror or e}") from None
    return marker


INSTALL_HINT = 'pip install "afroadv[textattack]"'


def require_textattack(what: str = "--engine textattack") -> None:
    """One line naming the extra when textattack (optional: through flair it caps transformers
    below 5) or the NLTK it imports is not installed."""
    missing = [m for m in ("textattack", "nltk") if importlib.util.find_spec(m) is None]
    if missing:
        raise AfroadvError(f"{what} needs {' and '.join(missing)}, which the default install "
                           f"leaves out: {INSTALL_HINT}")


def import_textattack():
    """Import and return the textattack module, offline and without clobbering cache variables.

    Every afroadv path to textattack goes through here (goal.py, transformations.py, ta_wrapper.py
    and the runner call it before their own `from textattack ...` lines): a plain first import with
    a fresh TextAttack cache would call `nltk.download` six times and then fail on stop words."""
    require_textattack()
    import nltk

    nltk_root = str(stage_nltk_data())
    if nltk_root not in nltk.data.path:  # also when textattack is already imported: later lookups need it
        nltk.data.path.insert(0, nltk_root)
    if "textattack" in sys.modules:
        return sys.modules["textattack"]
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


def textattack_words():
    """TextAttack's own word splitter, `textattack.shared.utils.words_from_text` (imported offline)."""
    import_textattack()
    from textattack.shared.utils import words_from_text

    return words_from_text
