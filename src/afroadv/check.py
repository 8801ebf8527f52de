"""`afroadv check`: a robustness gate for CI. Compare a results file with a committed baseline and
decide pass (exit 0), regression (exit 1) or unusable input (exit 2).

What is compared. Every cell of the baseline — one result row, named by (model, language, dataset,
recipe) — must have a partner in the results file. Three measures, all in points on the score's
own 0–100 scale (STS and ordinal Spearman ×100, bitext accuracy in %, invariance 0–100):

- a perturbed STS/ordinal/bitext cell: its drop (clean − perturbed). *Worse by* = new drop − baseline drop.
- a clean STS/ordinal/bitext cell: its clean score. *Worse by* = baseline score − new score. A model
  that got uniformly worse (or a random one) loses little under perturbation, because it has little
  to lose; the clean cells are what catches it.
- an invariance cell: its calibrated invariance. *Worse by* = baseline − new invariance. A cell
  whose baseline row was written before the calibrated measure (only the raw cosine `margin`) is
  gated on margin ×100 when the results row has a margin too (with a note), and refused otherwise:
  the two measures differ, so refresh the baseline with --update-baseline.
- a directional cell (a recipe with `expect: decrease`: numswap, entityswap, negation, wordswap): its
  pass rate, the share of changed pairs whose similarity fell. *Worse by* = 100 × (baseline − new
  rate), in percentage points; its limit is `max_pass_rate_decrease` (default 5 points; set it in the
  thresholds file — it has no command-line flag) and rule 2 uses the pass rate's bootstrap CI.

The regression rule (noise must not fail a build). A cell regresses when BOTH hold:

1. it is worse by more than its limit (`--max-drop-increase`, default 1.0 point, for drops and
   invariance; `--max-clean-decrease`, default 1.0 point, for clean scores), and
2. the change lies outside the new result's paired-bootstrap 95% CI: the baseline value is below
   the new drop's CI (baseline drop < new drop_ci low), or above the new clean score's /
   invariance's CI (baseline > new ci high). Where the new result has no CI (a degenerate set), rule 1 alone
   decides and the table says "no CI".

A change that passes rule 1 but not rule 2 is listed as `noise` and does not fail. Separately,
`--min-clean X` is a hard floor: a clean STS/bitext score below X fails whatever its CI.

Limits per language / recipe come from a YAML file (`--thresholds`); see `load_thresholds`.

Unusable input (AfroadvError → exit 2): a file that is missing, malformed, not a results file, or
from another afroadv major.minor version; a results file without a manifest; results of a random-weight
model (`random:xlmr-*`) against a real model's, either way; different seeds (a
file made with `--seeds` is gated on its pooled values and compares only with the same seed list);
baseline cells missing from the results; a cell whose task (score scale) or number of pairs
differs; a set whose input data, seed or recipe parameters differ (the manifests'
`input_sha256`, `seed`, `parameters`, `lexicons`, `split`); an ambiguous match.

Matching models. By default (`--match-on auto`) cells match on (model, lang, dataset, recipe),
except when each file holds exactly one model: then they match on (lang, dataset, recipe), so a new
checkpoint (another name) can be gated against the old one's baseline. `--match-on` takes an
explicit comma list of model, lang, dataset, recipe (lang and recipe required).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from afroadv.errors import AfroadvError

__all__ = ["CellCheck", "CheckResult", "Thresholds", "check", "format_check", "load_thresholds", "update_baseline", "validate_results"]

CLEAN = "clean"
SCORED = ("sts", "ordinal", "bitext")
MATCH_FIELDS = ("model", "lang", "dataset", "recipe")
LIMIT_KEYS = ("max_drop_increase", "max_clean_decrease", "min_clean", "max_pass_rate_decrease")
DEFAULT_LIMITS = {"max_drop_increase": 1.0, "max_clean_decrease": 1.0, "min_clean": None, "max_pass_rate_decrease": 5.0}
SET_FIELDS = ("input_sha256", "seed", "seeds", "parameters", "lexicons", "split", "n", "task")
MEASURE = {"drop": "drop", "clean": "clean score", "invariance": "invariance", "margin": "margin x100",
           "pass_rate": "pass rate %"}


# ---------------------------------------------------------------------------------------------
# Loading


@dataclass
class Loaded:
    path: Path
    rows: list[dict]
    manifest: dict
    raw: bytes

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys(r["model"] for r in self.rows))


def _load(path: Path, role: str) -> Loaded:
    from afroadv.report import load_results

    path = Path(path)
    if not path.is_file():
        raise AfroadvError(f"{role} file not found: {path}")
    rows = load_results(path)  # validates kind, version, row fields (one-line AfroadvError)
    raw = path.read_bytes()
    manifest = json.loads(raw.decode("utf-8")).get("manifest")
    if not isinstance(manifest, dict) or not manifest:
        raise AfroadvError(f"{path}: no manifest, so its seed and data cannot be verified; re-run `afroadv evaluate`")
    if not rows:
        raise AfroadvError(f"{path}: no result rows")
    return Loaded(path, rows, manifest, raw)


# ---------------------------------------------------------------------------------------------
# Thresholds


def _limit_value(v, where: str):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise AfroadvError(f"{where} must be a number or null, not {v!r}")
    return float(v)


def _limits_block(raw, where: str) -> dict:
    if not isinstance(raw, dict):
        raise AfroadvError(f"{where} must be a mapping of limits")
    out = {}
    for k, v in raw.items():
        key = str(k).replace("-", "_")
        if key not in LIMIT_KEYS:
            raise AfroadvError(f"{where}: unknown key {k!r}; expected {', '.join(LIMIT_KEYS)}")
        val = _limit_value(v, f"{where}.{k}")
        if key != "min_clean" and val is not None and val < 0:
            raise AfroadvError(f"{where}.{k} must be >= 0")
        out[key] = val
    return out


@dataclass
class Thresholds:
    """Limits by specificity: defaults < tasks < langs < recipes < cells (the last match wins)."""

    defaults: dict = field(default_factory=dict)
    tasks: dict = field(default_factory=dict)
    langs: dict = field(default_factory=dict)
    recipes: dict = field(default_factory=dict)
    cells: list = field(default_factory=list)  # [(match dict, limits dict)]
    source: str = ""

    def for_cell(self, cli: dict, row: dict) -> dict:
        limits = dict(DEFAULT_LIMITS)
        limits.update(self.defaults)
        limits.update({k: v for k, v in cli.items() if v is not None})  # explicit CLI flags beat the file's defaults
        limits.update(self.tasks.get(row["task"], {}))
        limits.update(self.langs.get(row["lang"], {}))
        limits.update(self.recipes.get(row["recipe"], {}))
        for match, lim in self.cells:
            if all(row.get(k) == v for k, v in match.items()):
                limits.update(lim)
        return limits


def load_thresholds(path: Path | None) -> Thresholds:
    """Read a thresholds YAML (yaml.safe_load). Example:

        max_drop_increase: 1.0          # defaults for every cell (an explicit CLI flag overrides these)
        max_clean_decrease: 1.0
        min_clean: 20
        tasks:   {bitext: {max_drop_increase: 2.0}}
        langs:   {kin: {max_drop_increase: 2.5, min_clean: 10}}
        recipes: {codeswitch: {max_drop_increase: 3.0}, translit: {max_drop_increase: null}}
        cells:
          - {lang: hau, recipe: codeswitch, max_drop_increase: 5.0}

    Keys may use - or _. null disables a limit. Language keys are canonical codes (hau, kin, ...)
    or any alias `afroadv langs` knows. Later, more specific entries win.
    """
    if path is None:
        return Thresholds()
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AfroadvError(f"thresholds file not found: {path}") from None
    except OSError as e:
        raise AfroadvError(f"cannot read thresholds file {path}: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise AfroadvError(f"{path}: invalid YAML ({str(e).splitlines()[0]})") from None
    if raw is None:
        return Thresholds(source=str(path))
    if not isinstance(raw, dict):
        raise AfroadvError(f"{path}: a thresholds file is a mapping (max_drop_increase, langs, recipes, ...)")
    th = Thresholds(source=str(path))
    top = {}
    for k, v in raw.items():
        key = str(k).replace("-", "_")
        if key in LIMIT_KEYS:
            top[k] = v
        elif key in ("tasks", "langs", "recipes"):
            if v is None:
                continue
            if not isinstance(v, dict):
                raise AfroadvError(f"{path}: {k} must map a name to its limits")
            block = {}
            for name, lim in v.items():
                name = str(name)
                if key == "langs":
                    from afroadv.learned import canonical_code

                    name = canonical_code(name)
                block[name] = _limits_block(lim, f"{path}: {k}.{name}")
            setattr(th, key, block)
        elif key == "cells":
            if not isinstance(v, list):
                raise AfroadvError(f"{path}: cells must be a list of {{lang/recipe/model/dataset/task: ..., limits}}")
            for i, entry in enumerate(v):
                where = f"{path}: cells[{i}]"
                if not isinstance(entry, dict):
                    raise AfroadvError(f"{where} must be a mapping")
                match = {str(mk): str(mv) for mk, mv in entry.items() if str(mk) in (*MATCH_FIELDS, "task")}
                if not match:
                    raise AfroadvError(f"{where} names no cell (give lang, recipe, model, dataset or task)")
                if "lang" in match:
                    from afroadv.learned import canonical_code

                    match["lang"] = canonical_code(match["lang"])
                lim = _limits_block({mk: mv for mk, mv in entry.items() if str(mk) not in match}, where)
                th.cells.append((match, lim))
        else:
            raise AfroadvError(f"{path}: unknown key {k!r}; expected {', '.join(LIMIT_KEYS)}, tasks, langs, recipes, cells")
    th.defaults = _limits_block(top, f"{path}")
    return th


# ---------------------------------------------------------------------------------------------
# Comparison


@dataclass
class CellCheck:
    key: tuple
    model: str
    baseline_model: str
    lang: str
    dataset: str
    recipe: str
    task: str
    measure: str  # "drop" | "clean" | "invariance" | "margin" (an older baseline) | "pass_rate"
    baseline: float | None
    new: float | None
    new_ci: tuple[float, float] | None
    worse_by: float | None  # positive = worse, in points
    limit: float | None
    outside_ci: bool | None  # None: the new result has no CI
    below_floor: float | None = None  # the --min-clean floor this clean score is under
    status: str = "ok"  # ok | noise | FAIL


@dataclass
class CheckResult:
    results: Path
    baseline: Path
    cells: list[CellCheck]
    match_on: tuple[str, ...]
    results_models: list[str]
    baseline_models: list[str]
    extra_cells: list[tuple]
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[CellCheck]:
        return [c for c in self.cells if c.status == "FAIL"]

    @property
    def noise(self) -> list[CellCheck]:
        return [c for c in self.cells if c.status == "noise"]

    @property
    def passed(self) -> bool:
        return not self.failed


def _match_fields(match_on: str | None, res: Loaded, base: Loaded) -> tuple[tuple[str, ...], list[str]]:
    notes = []
    if match_on in (None, "", "auto"):
        if len(res.models) == 1 and len(base.models) == 1:
            if res.models != base.models:
                notes.append(f"comparing model {res.models[0]} against baseline model {base.models[0]} "
                             "(one model per file: cells match on lang, dataset, recipe)")
            return ("lang", "dataset", "recipe"), notes
        return MATCH_FIELDS, notes
    fields = tuple(f.strip() for f in match_on.split(",") if f.strip())
    bad = [f for f in fields if f not in MATCH_FIELDS]
    if bad:
        raise AfroadvError(f"--match-on: unknown field {bad[0]!r}; choose from {', '.join(MATCH_FIELDS)} (or auto)")
    if "lang" not in fields or "recipe" not in fields:
        raise AfroadvError("--match-on must include lang and recipe")
    fields = tuple(f for f in MATCH_FIELDS if f in fields)
    if "model" not in fields and res.models != base.models:
        notes.append(f"comparing model(s) {', '.join(res.models)} against baseline model(s) {', '.join(base.models)}")
    return fields, notes


def _index(lf: Loaded, fields: tuple[str, ...], role: str) -> dict[tuple, dict]:
    out: dict[tuple, dict] = {}
    for r in lf.rows:
        k = tuple(r[f] for f in fields)
        if k in out:
            hint = " (it holds several models: match on model, or give one model per file)" if "model" not in fields else ""
            raise AfroadvError(f"{lf.path}: two {role} rows for the cell {'/'.join(map(str, k))}{hint}")
        out[k] = r
    return out


def _set_index(lf: Loaded, fields: tuple[str, ...]) -> dict[tuple, dict]:
    sets = lf.manifest.get("sets") or []
    if not isinstance(sets, list):
        raise AfroadvError(f"{lf.path}: malformed manifest ('sets' must be a list)")
    out: dict[tuple, dict] = {}
    for s in sets:
        if not isinstance(s, dict):
            raise AfroadvError(f"{lf.path}: malformed manifest (a set entry is not an object)")
        k = tuple(str(s.get(f) or "") for f in fields if f != "model")
        if k in out and any(out[k].get(f) != s.get(f) for f in SET_FIELDS):
            raise AfroadvError(f"{lf.path}: the manifest lists two different sets for {'/'.join(k)}")
        out[k] = s
    return out


def _short(v) -> str:
    s = json.dumps(v, sort_keys=True) if not isinstance(v, str) else v
    return s if len(s) <= 24 else s[:21] + "..."


def _dtypes(lf: Loaded) -> set[str]:
    """The compute dtypes the file's models ran in (a sweep's merged model entry lists each cell's
    under `dtypes`); files before --dtype record none."""
    models = lf.manifest.get("models")
    found = set()
    for m in models if isinstance(models, list) else []:
        if isinstance(m, dict):
            listed = m.get("dtypes") if isinstance(m.get("dtypes"), list) else [m.get("dtype")]
            found.update(d for d in listed if isinstance(d, str))
    return found


def _check_dtypes(res: Loaded, base: Loaded, allow_mix: bool, notes: list[str]) -> None:
    """bf16 and fp32 runs of one model differ by a little, and a gate should not mistake that for a
    change of the model: refused unless asked for (e.g. a bf16 CI runner against an fp32 baseline)."""
    rd, bd = _dtypes(res), _dtypes(base)
    if bool(rd) != bool(bd):
        older, known = (base, rd) if rd else (res, bd)
        notes.append(f"{older.path} records no dtype (made before --dtype: fp32 on CPU, bf16/fp16 on GPU); "
                     f"the other ran in {', '.join(sorted(known))}")
    if not rd or not bd or rd == bd:
        return
    said = f"results ran in {', '.join(sorted(rd))}, baseline in {', '.join(sorted(bd))}"
    if not allow_mix:
        raise AfroadvError(f"dtypes differ: {said}; re-run with the baseline's --dtype, or pass --allow-dtype-mix")
    notes.append(f"dtypes differ ({said}); compared as asked (--allow-dtype-mix)")


def _seed_option(manifest: dict) -> str | None:
    """How a file was drawn, as its command line said it: `--seed N`, or `--seeds a,b,c` (pooled draws)."""
    if isinstance(manifest.get("seeds"), list):
        return "--seeds " + ",".join(map(str, manifest["seeds"]))
    return None if manifest.get("seed") is None else f"--seed {manifest['seed']}"


def _check_compatible(res: Loaded, base: Loaded, fields: tuple[str, ...]) -> None:
    rs, bs = _seed_option(res.manifest), _seed_option(base.manifest)
    if rs is None or bs is None:
        raise AfroadvError(f"{res.path if rs is None else base.path}: the manifest has no seed; re-run `afroadv evaluate`")
    if rs != bs:  # pooled draws gate on their pooled drop and CI: only the same draws compare
        raise AfroadvError(f"seeds differ: results {res.path} used {rs}, baseline {base.path} used {bs}")
    rl = (res.manifest.get("bootstrap") or {}).get("ci")
    bl = (base.manifest.get("bootstrap") or {}).get("ci")
    if rl is not None and bl is not None and rl != bl:
        raise AfroadvError(f"CI levels differ: results {rl}, baseline {bl}")
    rk, bk = res.manifest.get("retrieval_k"), base.manifest.get("retrieval_k")
    if rk is not None and bk is not None and rk != bk:
        raise AfroadvError(f"invariance retrieval candidates differ: results --retrieval-k {rk}, baseline {bk}")
    rsets, bsets = _set_index(res, fields), _set_index(base, fields)
    for k, b in bsets.items():
        r = rsets.get(k)
        if r is None:
            continue  # a missing cell is reported by row, with a better message
        for f in SET_FIELDS:
            if b.get(f) is not None and r.get(f) is not None and b.get(f) != r.get(f):
                what = {"input_sha256": "input pairs (dataset, split or --limit)", "parameters": "recipe parameters",
                        "lexicons": "lexicon versions", "n": "number of pairs"}.get(f, f)
                raise AfroadvError(f"set {'/'.join(k)} differs from the baseline's in its {what}: "
                                   f"{_short(r.get(f))} vs {_short(b.get(f))}; compare runs on the same data "
                                   "or refresh the baseline with --update-baseline")


def _cell(key, r: dict, b: dict, fields, limits: dict) -> CellCheck:
    task = b["task"]
    if r["task"] != task:
        raise AfroadvError(f"cell {'/'.join(map(str, key))} is {task} in the baseline but {r['task']} in the results: "
                           "different scores cannot be compared")
    if r["n"] != b["n"]:
        raise AfroadvError(f"cell {'/'.join(map(str, key))} has {r['n']} pairs in the results but {b['n']} in the baseline: "
                           "the sets differ (dataset, split or --limit)")
    if r["expect"] != b["expect"]:
        raise AfroadvError(f"cell {'/'.join(map(str, key))} is expect: {b['expect']} in the baseline but "
                           f"{r['expect']} in the results: a drop and a pass rate cannot be compared")
    if b["expect"] == "decrease":  # a directional set: its pass rate, in points
        if r.get("dir_margin") != b.get("dir_margin"):
            raise AfroadvError(f"cell {'/'.join(map(str, key))}: pass rates at different --dir-margin (results "
                               f"{r.get('dir_margin')}, baseline {b.get('dir_margin')}) cannot be compared")
        measure = "pass_rate"
        bv, nv = (None if v is None else 100 * v for v in (b["directional_pass_rate"], r["directional_pass_rate"]))
        ci = r["directional_pass_rate_ci"]
        ci = None if ci is None else (100 * ci[0], 100 * ci[1])
        limit = limits["max_pass_rate_decrease"]
    elif task in SCORED and b["recipe"] == CLEAN:
        measure, bv, nv, ci = "clean", b["score"], r["score"], r["score_ci"]
        limit = limits["max_clean_decrease"]
    elif task in SCORED:
        measure, bv, nv, ci = "drop", b["drop"], r["drop"], r["drop_ci"]
        limit = limits["max_drop_increase"]
    elif b["calibrated"]:
        if not r["calibrated"]:
            raise AfroadvError(f"cell {'/'.join(map(str, key))}: the results row has only the raw margin (older "
                               "results) but the baseline has invariance; re-run `afroadv evaluate`")
        measure, bv, nv, ci = "invariance", b["invariance"], r["invariance"], r["invariance_ci"]
        limit = limits["max_drop_increase"]
    else:
        if r["calibrated"]:
            raise AfroadvError(f"cell {'/'.join(map(str, key))}: the baseline has only the raw cosine margin (written "
                               "before calibrated invariance), the results have invariance; refresh the baseline with "
                               "--update-baseline")
        measure, bv, nv = "margin", b["margin"], r["margin"]
        bv = None if bv is None else 100 * bv
        nv = None if nv is None else 100 * nv
        ci = None if r["margin_ci"] is None else (100 * r["margin_ci"][0], 100 * r["margin_ci"][1])
        limit = limits["max_drop_increase"]
    c = CellCheck(key=key, model=r["model"], baseline_model=b["model"], lang=b["lang"], dataset=b["dataset"],
                  recipe=b["recipe"], task=task, measure=measure, baseline=bv, new=nv, new_ci=ci,
                  worse_by=None, limit=limit, outside_ci=None)
    if nv is None and bv is not None:
        raise AfroadvError(f"cell {'/'.join(map(str, key))}: the {MEASURE[measure]} is undefined (null) in the results "
                           f"but {bv:.2f} in the baseline")
    if nv is None or bv is None:
        c.status = "ok"  # undefined in both (or only in the baseline): nothing to compare
        return c
    c.worse_by = (nv - bv) if measure == "drop" else (bv - nv)
    if ci is not None:
        c.outside_ci = bv < ci[0] if measure == "drop" else bv > ci[1]
    if limit is not None and c.worse_by > limit + 1e-9:
        c.status = "FAIL" if c.outside_ci in (True, None) else "noise"
    floor = limits["min_clean"]
    if measure == "clean" and floor is not None and nv < floor:
        c.below_floor = floor
        c.status = "FAIL"
    return c


def check(results: Path, baseline: Path, *, max_drop_increase: float | None = None, max_clean_decrease: float | None = None,
          min_clean: float | None = None, thresholds: Path | None = None, match_on: str | None = None,
          allow_dtype_mix: bool = False) -> CheckResult:
    """Compare every baseline cell with its partner in `results` (see the module docstring for the rule).

    Raises AfroadvError on unusable input; returns a CheckResult (`.passed`, `.failed`, `.noise`)."""
    from afroadv.report.load import refuse_random_mix

    for name, v in (("--max-drop-increase", max_drop_increase), ("--max-clean-decrease", max_clean_decrease)):
        if v is not None and (not math.isfinite(v) or v < 0):
            raise AfroadvError(f"{name} must be a number >= 0")
    th = load_thresholds(thresholds)
    res, base = _load(results, "results"), _load(baseline, "baseline")
    refuse_random_mix([(res.path, res.rows), (base.path, base.rows)], "compare")
    fields, notes = _match_fields(match_on, res, base)
    _check_compatible(res, base, fields)
    _check_dtypes(res, base, allow_dtype_mix, notes)
    rindex, bindex = _index(res, fields, "results"), _index(base, fields, "baseline")
    missing = [k for k in bindex if k not in rindex]
    if missing:
        names = ", ".join("/".join(map(str, k)) for k in missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
        other = {tuple(v for f, v in zip(fields, k) if f != "dataset") for k in rindex}
        if "dataset" in fields and any(tuple(v for f, v in zip(fields, k) if f != "dataset") in other for k in missing):
            raise AfroadvError(f"datasets differ: baseline cell(s) {names} are scored on another dataset in {res.path}")
        raise AfroadvError(f"{len(missing)} baseline cell(s) missing from {res.path}: {names} "
                           f"(matching on {', '.join(fields)})")
    cli = {"max_drop_increase": max_drop_increase, "max_clean_decrease": max_clean_decrease, "min_clean": min_clean}
    cells = [_cell(k, rindex[k], b, fields, th.for_cell(cli, b)) for k, b in bindex.items()]
    extra = [k for k in rindex if k not in bindex]
    if extra:
        notes.append(f"{len(extra)} result cell(s) not in the baseline were not checked "
                     "(refresh the baseline with --update-baseline to gate them)")
    if any(c.measure == "margin" for c in cells):
        notes.append("invariance cells of older results carry only the raw cosine margin: gated on margin x100, which "
                     "depends on each model's random-pair level; re-run evaluate and --update-baseline to gate on invariance")
    rb, bb = (res.manifest.get("bootstrap") or {}).get("n"), (base.manifest.get("bootstrap") or {}).get("n")
    if rb and bb and rb != bb:
        notes.append(f"bootstrap resamples differ ({rb} vs {bb} in the baseline); the CIs are the results'")
    return CheckResult(Path(results), Path(baseline), cells, fields, res.models, base.models, extra, notes)


def validate_results(path: Path) -> None:
    """Raise AfroadvError unless `path` is a usable results file (valid, this version, with a manifest)."""
    _load(path, "results")


def update_baseline(results: Path, baseline: Path) -> None:
    """Validate `results` and copy it byte for byte onto `baseline` atomically."""
    from afroadv.data.writers import atomic_path

    res = _load(results, "results")
    baseline = Path(baseline)
    if baseline.exists() and baseline.is_dir():
        raise AfroadvError(f"baseline {baseline} is a folder")
    with atomic_path(baseline) as tmp:
        tmp.write_bytes(res.raw)


# ---------------------------------------------------------------------------------------------
# Formatting


def _num(v: float | None, signed: bool = False) -> str:
    if v is None:
        return "n/a"
    s = f"{v:+.2f}" if signed else f"{v:.2f}"
    return s.replace("-0.00", "0.00").replace("+0.00", "0.00")


def _limit_text(c: CellCheck) -> str:
    if c.below_floor is not None:
        return f"min {c.below_floor:g}"
    return "none" if c.limit is None else f"{c.limit:g}"


def _ci_text(c: CellCheck) -> str:
    if c.outside_ci is None:
        return "no CI"
    if c.outside_ci:
        return "yes"
    return "no (noise)" if c.status == "noise" else "no"


def format_check(cr: CheckResult, *, all_cells: bool = False) -> str:
    """The summary line, notes, and a table of the cells that regressed or changed within noise."""
    lines = []
    n = len(cr.cells)
    if cr.passed:
        extra = f"; {len(cr.noise)} change(s) over a limit but inside the bootstrap CI (noise)" if cr.noise else ""
        lines.append(f"afroadv check: PASS: {n} cell(s) within thresholds{extra}")
    else:
        lines.append(f"afroadv check: REGRESSION: {len(cr.failed)} of {n} cell(s) regressed (results {cr.results} vs baseline {cr.baseline})")
    for note in cr.notes:
        lines.append(f"note: {note}")
    shown = cr.cells if all_cells else [c for c in cr.cells if c.status != "ok"]
    if shown:
        header = ["status", "model", "lang", "dataset", "recipe", "measure", "baseline", "new [95% CI]", "worse by", "limit", "outside CI"]
        body = []
        for c in shown:
            new = _num(c.new) + (f" [{_num(c.new_ci[0])}, {_num(c.new_ci[1])}]" if c.new_ci else "")
            body.append([c.status, c.model, c.lang, c.dataset or "-", c.recipe, MEASURE[c.measure], _num(c.baseline), new,
                         _num(c.worse_by, signed=True), _limit_text(c), _ci_text(c)])
        widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header))]
        right = {6, 8}
        fmt = lambda row: "  ".join(str(v).rjust(w) if i in right else str(v).ljust(w) for i, (v, w) in enumerate(zip(row, widths))).rstrip()
        lines.append("")
        lines.append(fmt(header))
        lines.append(fmt(["-" * w for w in widths]))
        lines.extend(fmt(r) for r in body)
        lines.append("")
        lines.append("worse by: drop increase, or clean score / invariance / directional pass-rate decrease, in points (0-100 scale). A cell fails when it is "
                     "worse by more than its limit AND the baseline value lies outside the new result's 95% CI, or its clean "
                     "score is under --min-clean.")
    return "\n".join(lines)
