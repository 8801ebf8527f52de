"""Reading `afroadv evaluate` results files: validate kind, version and every row, normalise rows, merge.

Version rule. A file of this afroadv major.minor is read as is. A file of an older major.minor is
refused by default (`afroadv check` and `afroadv sweep` compare or resume only like with like) and
read by `build_report` with `older=True`: its rows have the same schema (the row check below holds
them to it), but its perturbed sets were drawn by that version's recipes, which is what a minor
version bump means here, so the report prints a note beside them. A newer version is always
refused: this code cannot know its schema.

Invariance rows. Rows written since the calibrated measure carry `invariance` (0–100) with its CI,
`retrieval_at1` and the wordswap `control`; rows written before carry only the raw cosine `margin`
(self − random). Both load: an older row keeps its margin (`invariance` None) and `margin_only_files`
names the files, so the report and `check` can say that margin is not comparable across models.

Random weights. Rows of size-faithful random-weight models carry `random_weights: true`;
`refuse_random_mix` is the one rule that keeps them apart from real models' rows.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from afroadv import __version__
from afroadv.errors import AfroadvError
from afroadv.validate.registry import check_row_validation

KIND = "evaluation-results"
CLEAN = "clean"
TASKS = ("sts", "ordinal", "bitext", "invariance")
SCORE = {"sts": "spearman", "ordinal": "spearman", "bitext": "accuracy"}


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _metric(v, where: str, key: str) -> float | None:
    """A metric value: a number, or null / NaN (a degenerate set), returned as float or None."""
    if v is None:
        return None
    if not _is_num(v):
        raise AfroadvError(f"{where}.{key} must be a number or null, not {type(v).__name__}")
    v = float(v)
    return None if math.isnan(v) else v


def _ci(v, where: str, key: str) -> tuple[float, float] | None:
    if v is None:
        return None
    if not (isinstance(v, (list, tuple)) and len(v) == 2 and all(_is_num(x) or x is None for x in v)):
        raise AfroadvError(f"{where}.{key} must be [lo, hi] or null")
    if any(x is None or math.isnan(float(x)) for x in v):
        return None
    return float(v[0]), float(v[1])


def _text(row: dict, key: str, where: str, required: bool = True) -> str:
    v = row.get(key)
    if v is None and not required:
        return ""
    if not isinstance(v, str) or not v.strip():
        raise AfroadvError(f"{where}.{key} must be a non-empty string")
    return v


def _check_row(row, where: str) -> dict:
    if not isinstance(row, dict):
        raise AfroadvError(f"{where} is not a JSON object")
    task = row.get("task")
    expect = row.get("expect", "same")
    if expect not in ("same", "decrease"):
        raise AfroadvError(f"{where}.expect is {expect!r}; expected same or decrease")
    required = ["model", "lang", "task", "recipe", "n"]
    if expect == "decrease":
        required += ["dataset", "directional_pass_rate"]
    elif task in SCORE:
        required += ["dataset", SCORE[task]]
        if row.get("recipe") != CLEAN:
            required.append("drop")
    elif task == "invariance":
        required += ["mean_cos_self", "mean_cos_random", "invariance" if "margin" not in row else "margin"]
    for key in required:
        if key not in row:
            raise AfroadvError(f"{where} lacks field {key!r}")
    if task not in TASKS:
        raise AfroadvError(f"{where}.task is {task!r}; expected one of {', '.join(TASKS)}")
    out = {
        "model": _text(row, "model", where),
        "lang": _text(row, "lang", where),
        "task": task,
        "recipe": _text(row, "recipe", where),
        "dataset": _text(row, "dataset", where, required=task != "invariance"),
    }
    n = row["n"]
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise AfroadvError(f"{where}.n must be a non-negative integer")
    out["n"] = n
    p = row.get("model_params")
    if p is not None and not (_is_num(p) and math.isfinite(p) and p > 0):
        raise AfroadvError(f"{where}.model_params must be a positive number or null")
    out["model_params"] = int(p) if p is not None else None
    label = row.get("model_label")
    out["model_label"] = label if isinstance(label, str) and label else None
    rw = row.get("random_weights", False)
    if not isinstance(rw, bool):
        raise AfroadvError(f"{where}.random_weights must be true or false")
    out["random_weights"] = rw
    out["expect"] = expect
    if expect == "decrease":  # a directional set: the share of changed pairs whose similarity fell
        if task == "invariance":
            raise AfroadvError(f"{where}: a directional row needs pairs (sts or bitext), not {task}")
        for key in ("directional_pass_rate", "mean_similarity_drop", "edit_rate", "changed_share"):
            out[key] = _metric(row.get(key), where, key)
        rate = out["directional_pass_rate"]
        if rate is not None and not 0 <= rate <= 1:
            raise AfroadvError(f"{where}.directional_pass_rate must be a share between 0 and 1")
        out["directional_pass_rate_ci"] = _ci(row.get("directional_pass_rate_ci"), where, "directional_pass_rate_ci")
        margin = _metric(row.get("dir_margin", 0.0), where, "dir_margin")
        out["dir_margin"] = 0.0 if margin is None else margin
    elif task in SCORE:
        score = SCORE[task]
        out["score"] = _metric(row[score], where, score)
        out["score_ci"] = _ci(row.get(f"{score}_ci"), where, f"{score}_ci")
        if task == "sts":
            out["pearson"] = _metric(row.get("pearson"), where, "pearson")
        if out["recipe"] != CLEAN:
            out["drop"] = _metric(row["drop"], where, "drop")
            out["drop_ci"] = _ci(row.get("drop_ci"), where, "drop_ci")
            out["edit_rate"] = _metric(row.get("edit_rate"), where, "edit_rate")
            out["changed_share"] = _metric(row.get("changed_share"), where, "changed_share")
            out["per_seed_drop"] = _per_seed_drop(row.get("per_seed"), where)
    else:
        for key in ("mean_cos_self", "mean_cos_random", "margin", "invariance", "retrieval_at1"):
            out[key] = _metric(row.get(key), where, key)
        for key in ("margin_ci", "invariance_ci", "retrieval_at1_ci"):
            out[key] = _ci(row.get(key), where, key)
        out["calibrated"] = "invariance" in row
        out["retrieval_k"] = row.get("retrieval_k") if isinstance(row.get("retrieval_k"), int) else None
        out["control"] = _control(row.get("control"), f"{where}.control")
    out["validation"] = None if out["recipe"] == CLEAN else check_row_validation(row.get("validation"), where)
    return out


def _per_seed_drop(v, where: str) -> dict[int, float | None]:
    """A pooled row's (`evaluate --seeds`) drop under each seed, {seed: drop}; {} for a row of one draw."""
    if v is None:
        return {}
    if not isinstance(v, dict) or not all(isinstance(k, str) and k.isdigit() and isinstance(x, dict) for k, x in v.items()):
        raise AfroadvError(f"{where}.per_seed must map each seed to its row's values")
    return {int(k): _metric(x.get("drop"), f"{where}.per_seed.{k}", "drop") for k, x in v.items()}


def _control(c, where: str) -> dict | None:
    """An invariance row's control ({recipe, rate, invariance, invariance_ci, ...}), checked, or None."""
    if c is None:
        return None
    if not isinstance(c, dict) or not isinstance(c.get("recipe"), str):
        raise AfroadvError(f"{where} must be an object with a recipe, or null")
    out = {"recipe": c["recipe"]}
    for key in ("rate", "word_rate", "invariance", "retrieval_at1"):
        out[key] = _metric(c.get(key), where, key)
    for key in ("invariance_ci", "retrieval_at1_ci"):
        out[key] = _ci(c.get(key), where, key)
    return out


def refuse_random_mix(files: list[tuple[Path, list[dict]]], what: str) -> None:
    """One AfroadvError when results of random-weight models (`random:xlmr-*`, rows marked
    `random_weights: true`) meet results of real models: their scores mean nothing, so comparing or
    merging them with a real model's would pass noise off as a measurement. Random-only is fine
    (speed runs); `what` names the operation in the message."""
    fake = next(((p, r["model"]) for p, rows in files for r in rows if r.get("random_weights")), None)
    real = next(((p, r["model"]) for p, rows in files for r in rows if not r.get("random_weights")), None)
    if fake and real:
        raise AfroadvError(f"cannot {what} results of random-weight model {fake[1]} ({fake[0]}) with results of "
                           f"real model {real[1]} ({real[0]}): random-weight models are for speed and memory only")


def margin_only_files(loaded: list) -> list[str]:
    """Names of the files with invariance rows that carry only the raw margin (written before `invariance`)."""
    return [rf.path.name for rf in loaded if any(r["task"] == "invariance" and not r["calibrated"] for r in rf.rows)]


def _major_minor(version) -> tuple[int, int] | None:
    if not isinstance(version, str):
        return None
    parts = version.strip().split(".")
    return (int(parts[0]), int(parts[1])) if len(parts) >= 2 and all(p.isdigit() for p in parts[:2]) else None


@dataclass
class ResultsFile:
    path: Path
    version: str
    sha256: str
    manifest: dict
    rows: list[dict] = field(default_factory=list)

    @property
    def older(self) -> bool:
        """Written by an earlier afroadv major.minor (so by other recipes)."""
        return _major_minor(self.version) < _major_minor(__version__)


def _refuse(path: Path, why: str) -> AfroadvError:
    """Say what the file is when it is something afroadv wrote (a set, an attack, a sweep…), else why."""
    from afroadv.report.identify import what_it_is

    return AfroadvError(what_it_is(path) or f"{path}: {why}")


def load_file(path: Path, older: bool = False) -> ResultsFile:
    """One validated results file; `older=True` also reads files of an earlier afroadv major.minor."""
    path = Path(path)
    if path.is_dir():
        raise _refuse(path, "a folder, not an afroadv results file")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise AfroadvError(f"cannot read results file {path}: {e.strerror or e}") from None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _refuse(path, "not UTF-8 text, so not an afroadv results file") from None
    except json.JSONDecodeError as e:
        raise _refuse(path, f"malformed JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(doc, dict):
        raise _refuse(path, "not an afroadv results file (top level is not a JSON object)")
    if doc.get("kind") != KIND:
        raise _refuse(path, f"not an afroadv results file (kind {doc.get('kind')!r}, expected {KIND!r})")
    version = doc.get("afroadv_version")
    theirs, ours = _major_minor(version), _major_minor(__version__)
    if theirs is None:
        raise AfroadvError(f"{path}: malformed results file (afroadv_version {version!r} is not a version)")
    if theirs > ours or (theirs < ours and not older):
        raise AfroadvError(
            f"{path}: written by afroadv {version}, this is afroadv {__version__}; "
            f"re-run `afroadv evaluate` with this version (major.minor must match)"
        )
    results = doc.get("results")
    if not isinstance(results, list):
        raise AfroadvError(f"{path}: malformed results file ('results' must be a list)")
    manifest = doc.get("manifest")
    if manifest is not None and not isinstance(manifest, dict):
        raise AfroadvError(f"{path}: malformed results file ('manifest' must be an object)")
    rows = [_check_row(r, f"{path}: results[{i}]") for i, r in enumerate(results)]
    return ResultsFile(path, version, hashlib.sha256(raw).hexdigest(), manifest or {}, rows)


def load_results(path: Path, older: bool = False) -> list[dict]:
    """The validated, normalised rows of one results file (raises AfroadvError on any problem)."""
    return load_file(path, older).rows


def row_key(row: dict) -> tuple:
    return row["model"], row["lang"], row["dataset"], row["recipe"]


def merge_results(files: list[Path], older: bool = False) -> list[dict]:
    """Rows of all files; a later file wins on the same (model, lang, dataset, recipe)."""
    return merge_loaded([load_file(p, older) for p in files])


def merge_loaded(loaded: list[ResultsFile]) -> list[dict]:
    merged: dict[tuple, dict] = {}
    for rf in loaded:
        for row in rf.rows:
            merged.pop(row_key(row), None)  # re-insert: the winner's position follows its file
            merged[row_key(row)] = row
    return list(merged.values())
