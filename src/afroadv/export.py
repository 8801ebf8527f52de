"""`afroadv export`: a set file as a Hugging Face `datasets` folder or an MTEB custom STS task.

Why: researchers evaluate encoders with `datasets` and MTEB; an exported set loads there as it is
(`datasets.load_from_disk(DIR)`, `afroadv.integrations.mteb.load_task(DIR)`), with score typed
float64 (null for bitext) and the set's manifest beside the data, so its provenance travels with it.

`clean=True` exports the set's original sentences (orig_sentence1/2) instead of the perturbed ones:
the clean baseline the perturbed set is measured against, with the same ids and gold scores.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from afroadv import __version__
from afroadv.data.sets import read_set_records, to_hf_dataset
from afroadv.data.writers import check_out_dir, dumps_json, dumps_record, read_set_manifest
from afroadv.errors import AfroadvError

FORMATS = ("hf", "mteb")
MARKER = "afroadv_export.json"  # what makes a folder an earlier export, which a new one may replace
MANIFEST = "afroadv.manifest.json"
MTEB_DATA = "test.jsonl"
HF_COLUMNS = ["id", "sentence1", "sentence2", "score", "source_id", "lang", "task", "recipe",
              "orig_sentence1", "orig_sentence2", "changed", "edit_rate", "seed"]  # fmt: skip
_NEEDED = ("id", "source_id", "lang", "task", "recipe", "sentence1", "sentence2", "score",
           "orig_sentence1", "orig_sentence2")  # fmt: skip


def check_export_destination(out: Path) -> Path:
    """Before any work: `out` is a folder that can be made, an empty one, or an earlier export."""
    out = check_out_dir(Path(out), "export folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise AfroadvError(f"export folder {out} is not empty and holds no earlier afroadv export; "
                           "give a new or empty folder")
    return out


def load_set(set_path: Path, *, clean: bool = False) -> tuple[list[dict], dict]:
    """The set's records (perturbed, or with `clean` the originals) and its manifest ({} if none)."""
    set_path = Path(set_path)
    records = read_set_records(set_path)
    manifest = read_set_manifest(set_path) or {}
    missing = [c for c in _NEEDED if c not in records[0]]
    if missing:
        raise AfroadvError(f"{set_path}: not an afroadv set (missing {', '.join(missing)})")
    if clean:
        records = [dict(r, id=r["source_id"], recipe="clean", sentence1=r["orig_sentence1"],
                        sentence2=r["orig_sentence2"], changed=False, edit_rate=0.0) for r in records]
    return records, manifest


def export_info(set_path: Path, records: list[dict], manifest: dict, clean: bool, fmt: str) -> dict:
    """What an export records about itself (afroadv_export.json)."""
    return {"afroadv_version": __version__, "format": fmt, "set": set_path.name, "clean": clean,
            "rows": len(records), "lang": records[0]["lang"], "task": records[0]["task"],
            "recipe": records[0]["recipe"], "dataset": (manifest.get("dataset") or {}).get("name"),
            "set_sha256": (manifest.get("output") or {}).get("sha256")}


def export_set(set_path: Path, fmt: str, out: Path, *, clean: bool = False) -> Path:
    """Write the set at `set_path` to the folder `out` as `fmt` ("hf" or "mteb"); returns `out`.

    The folder appears whole or not at all (built in a temp folder beside it, then renamed); an
    earlier export in `out` is replaced."""
    if fmt not in FORMATS:
        raise AfroadvError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    out = check_export_destination(out)
    records, manifest = load_set(set_path, clean=clean)
    info = export_info(Path(set_path), records, manifest, clean, fmt)
    writer = _write_hf if fmt == "hf" else _write_mteb
    with _replacing_folder(out) as tmp:
        writer(tmp, records, manifest, info)
        (tmp / MANIFEST).write_text(dumps_json(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        (tmp / MARKER).write_text(dumps_json(info, indent=2) + "\n", encoding="utf-8")
    return out


def _write_hf(tmp: Path, records: list[dict], manifest: dict, info: dict) -> None:
    try:
        import datasets  # noqa: F401
    except ImportError:
        raise AfroadvError("--format hf needs the datasets package (pip install 'afroadv[ml]')") from None
    from datasets.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    ds = to_hf_dataset(records, [c for c in HF_COLUMNS if c in records[0]])
    was_disabled = are_progress_bars_disabled()
    disable_progress_bars()  # a second's work: its bar would only be noise in logs
    try:
        ds.save_to_disk(str(tmp))
    finally:
        if not was_disabled:
            enable_progress_bars()


def mteb_metadata(records: list[dict], manifest: dict, info: dict) -> dict:
    """What an MTEB custom STS task needs besides the pairs: name, languages, score range, split.
    A directional set's gold scores are its clean pairs' (the changed pairs should score lower): refused."""
    if not info["clean"] and (manifest.get("recipe") or {}).get("expect") == "decrease":
        raise AfroadvError(f"{info['set']} is a directional set (expect: decrease): its gold scores are the clean "
                           "pairs', so an MTEB STS task would score changed pairs against them; evaluate it with "
                           "`afroadv evaluate --sets`, or export the clean pairs (--clean)")
    scale = (manifest.get("dataset") or {}).get("score_scale") or [0.0, 1.0]
    lang, recipe, dataset = info["lang"], info["recipe"], info["dataset"] or Path(info["set"]).stem
    tag = lang
    profile = manifest.get("language_profile")  # a language outside the registry: its script as learned
    if profile:
        from afroadv.text import language_tag

        tag = language_tag(lang, profile.get("script"))
    return {
        "name": f"afroadv-{dataset}-{lang}-{recipe}",
        "description": f"afroadv {recipe} set of {dataset} ({lang}), {len(records)} pairs"
                       + (" (the clean originals)" if info["clean"] else ""),
        "type": "STS",
        "eval_splits": ["test"],
        "eval_langs": [tag],
        "main_score": "cosine_spearman",
        "min_score": float(scale[0]),
        "max_score": float(scale[1]),
        "data_file": MTEB_DATA,
        "revision": (info.get("set_sha256") or "unsaved")[:12],
        "afroadv_version": __version__,
    }


def _write_mteb(tmp: Path, records: list[dict], manifest: dict, info: dict) -> None:
    if info["task"] != "sts" or any(r["score"] is None for r in records):
        what = "ordinal levels, not similarity scores" if info["task"] == "ordinal" else "no gold scores"
        raise AfroadvError(f"{info['set']} is a {info['task']} set with {what}; MTEB STS tasks need gold similarity "
                           "scores (export it with --format hf)")
    metadata = mteb_metadata(records, manifest, info)
    with open(tmp / MTEB_DATA, "w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(dumps_record({"id": r["id"], "sentence1": r["sentence1"], "sentence2": r["sentence2"],
                                  "score": float(r["score"])}) + "\n")
    (tmp / "mteb_task.json").write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@contextmanager
def _replacing_folder(target: Path):
    """A temp folder beside `target`, renamed onto it when the block succeeds (an earlier export
    there is moved aside first and deleted after); on failure nothing of the new one remains."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.afroadv-", dir=target.parent))
    except OSError as e:
        raise AfroadvError(f"cannot write in {target.parent}: {e.strerror}") from None
    try:
        yield tmp
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o777 & ~mask)
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.rename(target, old / "x")
        os.rename(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise AfroadvError(f"cannot write {target}: {e.strerror or e}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
