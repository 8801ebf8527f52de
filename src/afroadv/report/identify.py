"""What a file that is not evaluate results is, when afroadv wrote it, and what to run on it instead.

`afroadv report` is often pointed at the wrong afroadv output (the generated set rather than the
results of evaluating it); a message that names the thing and the next command beats "malformed JSON".
"""

from __future__ import annotations

import json
from pathlib import Path

from afroadv.data.writers import manifest_path

SET_SUFFIXES = (".jsonl", ".parquet")
MANIFEST_SUFFIX = ".manifest.json"
SHEET_COLUMNS = {"id", "sentence1", "sentence2", "label_preserved", "realistic"}


def _json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _first_json_line(path: Path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.loads(f.readline())
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _kind(doc) -> str | None:
    return doc.get("kind") if isinstance(doc, dict) else None


def _set_message(path: Path, kind: str | None, set_file: Path) -> str | None:
    run = f"run `afroadv evaluate --sets {set_file} --model MODEL --out results.json` and give that file"
    if kind == "generated-set":
        what = "a generated set" if path == set_file else f"the manifest of a generated set ({set_file.name})"
    elif kind == "attack-set":
        what = "an attack's adversarial set" if path == set_file else f"the manifest of an attack's adversarial set ({set_file.name})"
    else:
        return None
    return f"{path} is {what}, not evaluate results: {run}"


def _folder(path: Path) -> str | None:
    if (path / "cells").is_dir() or ((path / "results.json").is_file() and (path / "report").is_dir()):
        merged = path / "results.json"
        where = f"its merged results are {merged}" if merged.is_file() else f"its results so far are {path / 'cells'}/*.json"
        return f"{path} is a sweep folder, not a results file: {where} (and its report is in {path / 'report'})"
    if (path / "summary.json").is_file() and (path / "adversarial.jsonl").is_file():
        return (f"{path} is an attack folder, not evaluate results: score its adversarial set with "
                f"`afroadv evaluate --sets {path / 'adversarial.jsonl'} --model MODEL --out results.json`")  # fmt: skip
    if (path / "report.md").is_file() and (path / "report.html").is_file():
        return f"{path} is a report folder (report.md, report.html), not a results file"
    if ((path / "config.json").is_file() and any(path.glob("*.safetensors"))) or (path / "modules.json").is_file():
        return f"{path} is a model folder, not a results file: `afroadv evaluate --model {path} ...` scores it"
    return f"{path} is a folder, not a results file: give the results JSON files from `afroadv evaluate` (e.g. {path}/*.json)"


def _file(path: Path) -> str | None:
    name = path.name
    if name.endswith(MANIFEST_SUFFIX):
        doc = _json(path)
        output = doc.get("output") if isinstance(doc, dict) else None
        set_name = output.get("file") if isinstance(output, dict) and isinstance(output.get("file"), str) else None
        set_file = path.with_name(set_name) if set_name else path.with_name(name[: -len(MANIFEST_SUFFIX)] + ".jsonl")
        return _set_message(path, _kind(doc), set_file)
    if path.suffix in SET_SUFFIXES:
        beside = manifest_path(path)
        if beside.is_file():
            message = _set_message(path, _kind(_json(beside)), path)
            if message:
                return message
        if path.suffix == ".jsonl":
            first = _first_json_line(path)
            if _kind(first) == "afroadv-attack-checkpoint":
                return f"{path} is an attack checkpoint (`afroadv attack` resumes from it), not evaluate results"
            if isinstance(first, dict) and {"rank", "deviation", "queries"} <= set(first):
                return f"{path} is an attack's per-pair log, not evaluate results (its summary is {path.with_name('summary.json')})"
            if isinstance(first, dict) and {"sentence1", "sentence2", "recipe"} <= set(first):
                return (f"{path} is a set of sentence pairs (no manifest beside it), not evaluate results: "
                        f"run `afroadv evaluate --sets {path} --model MODEL --out results.json`")  # fmt: skip
        return None
    if path.suffix == ".csv":
        try:
            header = path.read_text(encoding="utf-8").split("\n", 1)[0]
        except (OSError, UnicodeDecodeError):
            return None
        if SHEET_COLUMNS <= {c.strip() for c in header.split(",")}:
            return f"{path} is a review sheet, not evaluate results: score filled sheets with `afroadv validate score`"
        return None
    if path.suffix in (".yaml", ".yml"):
        return (f"{path} is a YAML file (a recipe, or thresholds for `afroadv check`), not evaluate results: "
                "`afroadv report` reads the results JSON files from `afroadv evaluate`")  # fmt: skip
    doc = _json(path)
    kind = _kind(doc)
    if kind == "afroadv-train":
        return (f"{path} is a training summary (`afroadv train`), not evaluate results: score the trained model "
                "with `afroadv evaluate --model MODEL_FOLDER ... --out results.json`, then report that")  # fmt: skip
    if isinstance(doc, dict) and "success_rate" in doc and isinstance(doc.get("files"), dict):
        adv = path.with_name(str(doc["files"].get("adversarial", "adversarial.jsonl")))
        return (f"{path} is an attack summary, not evaluate results: score the adversarial set with "
                f"`afroadv evaluate --sets {adv} --model MODEL --out results.json`")  # fmt: skip
    return None


def what_it_is(path: Path) -> str | None:
    """One line naming an afroadv output that is not evaluate results, or None when it is not one we know."""
    path = Path(path)
    if path.is_dir():
        return _folder(path)
    if path.is_file():
        return _file(path)
    return None
