"""`afroadv study`: the robustness-vs-size question in one command — train every model with every
method, evaluate every trained model (and each model before training) on every language × recipe,
pooled over seeds, and lay the drop out against model size.

Three phases, each resumable cell by cell in OUT:

1. **train** — one cell per (model, method): `OUT/models/<model>-<method>/`, a normal
   `afroadv train` folder. A finished folder (afroadv_train.json) is skipped, a checkpointed one
   resumes. Locally the cells run one after another; `--backend dask` gives each its own worker
   (a LocalCluster on 127.0.0.1, or `--scheduler` for a cluster with `--resources GPU=1` workers).
   Multi-GPU training of XL/XXL (FSDP) is run per cell with `accelerate launch ... train --out
   OUT/models/<model>-<method>` with the same options; the study then finds it finished.
2. **evaluate** — `afroadv sweep`'s cells (one per model × language, every recipe of the study
   that the language supports, `--seeds` pooled) in `OUT/eval/`, on the same backend.
3. **report** — `OUT/study.md`, `OUT/study.json` (one row per model × method × language × recipe,
   with its CI) and `OUT/drop_vs_size.png` (one panel per language × recipe: the drop against
   parameters, a line per method, the CI of each point as its bar).

`OUT/study.json` keeps the plan; a rerun with different training options is refused (its finished
cells would not be what the plan says), while more models, methods, languages or seeds just add cells.
"""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from afroadv.errors import AfroadvError

STUDY_FILE = "study.json"
_HOW_NOT_WHAT = {"threads", "device", "save_steps"}  # change where and how fast a cell trains, not what it learns
MODELS_DIR = "models"
EVAL_DIR = "eval"
BASELINE = "not fine-tuned"
# TrainOptions fields a study passes through (the same for every cell)
TRAIN_FIELDS = ("data", "limit", "epochs", "max_steps", "batch_size", "lr", "max_seq_length", "freeze_embeddings",
                "copies", "consistency_weight", "consistency_target", "unlabeled", "train_recipes", "bf16", "gradient_checkpointing",
                "save_steps", "threads", "device", "seed", "prompt")


@dataclass(frozen=True)
class TrainCell:
    model: str
    method: str
    options: tuple[tuple[str, object], ...]  # TrainOptions keywords beyond model / method / out
    langs: tuple[str, ...] = ()  # the study's languages: codeswitch-aug's targets, consistency's unlabeled text

    @property
    def name(self) -> str:
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", self.model).strip("._") or "model"
        return f"{safe}-{self.method}"

    def train_options(self, out: Path, *, resume: bool = False, progress: bool | None = False):
        from afroadv.train import TrainOptions

        kw = dict(self.options)
        recipes = kw.pop("train_recipes", None) or ()
        if self.method != "consistency":  # its own options; the other methods train without recipes
            recipes = ()
            for k in ("unlabeled", "consistency_weight", "consistency_target"):
                kw.pop(k, None)
        langs = self.langs if self.method in ("codeswitch-aug", "consistency") else ()
        if self.method in ("plain", "consistency"):
            kw.pop("copies", None)
        return TrainOptions(model=self.model, method=self.method, out=out, recipes=tuple(recipes), langs=tuple(langs),
                            resume=resume, progress=progress, **kw)


@dataclass
class Study:
    models: tuple[str, ...]
    methods: tuple[str, ...]
    langs: tuple[str, ...]
    recipes: dict[str, tuple[str, ...]]  # per language: the study's recipes it supports
    seeds: tuple[int, ...]
    train: dict = field(default_factory=dict)
    evaluate: dict = field(default_factory=dict)  # dtype, batch_size, device, bootstrap, limit
    baseline: bool = True

    def train_cells(self) -> list[TrainCell]:
        opts = tuple(sorted((k, v) for k, v in self.train.items() if v is not None))
        return [TrainCell(m, meth, opts, self.langs) for m in self.models for meth in self.methods]

    def spec(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


def _say(msg: str) -> None:
    print(f"[study] {msg}", file=sys.stderr, flush=True)


def plan_study(models: list[str], methods: list[str], langs: list[str], recipes: list[str], seeds: list[int], *,
               baseline: bool = True, dtype: str | None = None, eval_batch_size: int = 32, bootstrap: int = 1000,
               eval_limit: int | None = None, **train) -> Study:
    """Check the whole plan before any work: methods, training options, languages, recipes, seeds."""
    from afroadv.langs import get_language
    from afroadv.metrics import MIN_BOOTSTRAP
    from afroadv.options import check_count, check_dtype, check_limit, check_seeds
    from afroadv.perturb.recipe import load_recipe, recipes_for
    from afroadv.train import METHODS

    unknown = set(train) - set(TRAIN_FIELDS)
    if unknown:
        raise AfroadvError(f"plan_study: unknown training option(s) {', '.join(sorted(unknown))}")
    models, methods = list(dict.fromkeys(models)), list(dict.fromkeys(methods))
    if not models:
        raise AfroadvError("no model given (--models xlmr-base,xlmr-large)")
    if not methods:
        raise AfroadvError(f"no method given (--methods {','.join(METHODS)})")
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise AfroadvError(f"unknown method {bad[0]!r}; choose from {', '.join(METHODS)}")
    if not langs:
        raise AfroadvError("no language given (--langs afr,amh,hau,kin)")
    if not recipes:
        raise AfroadvError("no recipe given (--recipes charnoise,keyboard or all)")
    seeds = tuple(check_seeds(seeds))
    languages = list({lang.code: lang for lang in (get_language(x) for x in langs)}.values())
    per_lang: dict[str, tuple[str, ...]] = {}
    if recipes == ["all"]:
        for lang in languages:
            per_lang[lang.code] = tuple(r.name for r in recipes_for(lang) if r.expect == "same")
    else:
        loaded = [load_recipe(r) for r in dict.fromkeys(recipes)]
        for rec in loaded:
            if not any(rec.supports(lang) for lang in languages):
                raise AfroadvError(f"recipe {rec.name!r} supports none of --langs {','.join(x.code for x in languages)}; "
                                   f"it supports: {', '.join(rec.supported_languages())}")
        for lang in languages:
            per_lang[lang.code] = tuple(r.name for r in loaded if r.supports(lang))
    empty = [c for c, rs in per_lang.items() if not rs]
    if empty:
        raise AfroadvError(f"none of the recipes applies to {', '.join(empty)}")
    if train.get("unlabeled") is not None:
        train["unlabeled"] = list(train["unlabeled"])
    if train.get("train_recipes"):
        train["train_recipes"] = list(train["train_recipes"])
    study = Study(tuple(models), tuple(methods), tuple(per_lang), per_lang, seeds, dict(train),
                  {"dtype": check_dtype(dtype), "batch_size": check_count(eval_batch_size, "--eval-batch-size"),
                   "device": train.get("device"),
                   "bootstrap": check_count(bootstrap, "--bootstrap", minimum=MIN_BOOTSTRAP),
                   "limit": check_limit(eval_limit)}, baseline)
    for cell in study.train_cells():  # every cell's options, checked now (out is never touched here)
        cell.train_options(Path("study-check"))
    _check_method_inputs(study)
    return study


def _check_method_inputs(study: Study) -> None:
    """What a cell would only find out when it starts (after other cells trained): consistency's
    recipes, sources and overlap guard, codeswitch-aug's lexicons; and options no method uses."""
    from afroadv.augment import Augmenter

    from afroadv.consistency import TARGETS

    t = study.train
    if t.get("consistency_target") not in (None, *TARGETS):
        raise AfroadvError(f"--consistency-target must be {' or '.join(TARGETS)}, not {t['consistency_target']!r}")
    if "consistency" in study.methods:
        from afroadv.consistency import ConsistencyDraws
        from afroadv.unlabeled import check_overlap, resolve_sources

        draws = ConsistencyDraws(tuple(t.get("train_recipes") or ()), study.langs, t.get("seed") or 0)
        check_overlap(resolve_sources(tuple(t["unlabeled"]) if t.get("unlabeled") else None, draws.langs), draws.langs)
    else:
        used = [o for o, k in (("--unlabeled", "unlabeled"), ("--train-recipes", "train_recipes")) if t.get(k)]
        if used:
            raise AfroadvError(f"{', '.join(used)} only apply to --methods consistency")
    if "codeswitch-aug" in study.methods:
        Augmenter("codeswitch-aug", t.get("copies") or 1, t.get("seed") or 0, (), study.langs)


# ----------------------------------------------------------------------------- the folder


def _check_folder(study: Study, out: Path) -> None:
    """A study folder holds one plan's training: a rerun may add cells, never change how cells train."""
    from afroadv.data.writers import check_out_dir, write_text_atomic

    check_out_dir(out, "--out")
    path = out / STUDY_FILE
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8")).get("plan", {})
        except ValueError:
            raise AfroadvError(f"{path} is not valid JSON; choose another --out") from None
        before = old.get("train", {})
        changed = sorted(k for k in {*before, *study.train} - _HOW_NOT_WHAT if before.get(k) != study.train.get(k))
        if changed:
            raise AfroadvError(f"{out} holds a study trained with other options ({', '.join(changed)}); "
                               "choose another --out or use the same training options")
    elif out.is_dir() and any(p.name not in (MODELS_DIR, EVAL_DIR) for p in out.iterdir()):
        # (models/ alone is fine: cells trained beforehand, e.g. XXL under accelerate launch)
        raise AfroadvError(f"--out {out} is not empty and holds no {STUDY_FILE}; choose a new folder")
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps({"kind": "afroadv-study", "plan": study.spec(), "rows": []}, indent=2) + "\n")


def _train_cell(cell: TrainCell, folder: str) -> dict:
    """One training cell (in this process or a Dask worker); resumes a checkpointed folder."""
    from afroadv.train import CHECKPOINTS, _complete_checkpoints, train

    out = Path(folder)
    resume = bool(_complete_checkpoints(out / CHECKPOINTS))
    info = train(cell.train_options(out, resume=resume))
    return {"steps": info.get("training", {}).get("global_steps"), "seconds": info.get("training", {}).get("seconds")}


def _finished(cell: TrainCell, folder: Path) -> bool:
    """A finished folder counts only if it was trained as this cell says (a folder trained beforehand
    under accelerate launch must use the study's options)."""
    from afroadv.train import TRAIN_INFO, option_as_run, resume_keys

    path = folder / TRAIN_INFO
    if not path.is_file():
        return False
    try:
        done = json.loads(path.read_text(encoding="utf-8")).get("options") or {}
    except ValueError:
        raise AfroadvError(f"{path} is not valid JSON: delete {folder} and re-run") from None
    want = cell.train_options(folder).run_config()
    diff = [k for k in resume_keys(cell.method) if option_as_run(done, k) != want.get(k)]
    if diff:
        raise AfroadvError(f"{folder} was trained with other options than this study's ({', '.join(diff)}); "
                           "delete it or train it with the study's options")
    return True


def _run_training(study: Study, out: Path, backend: str, scheduler: str | None, workers: int) -> None:
    cells = study.train_cells()
    pending = [c for c in cells if not _finished(c, out / MODELS_DIR / c.name)]
    _say(f"train: {len(cells)} cell(s) (model x method), {len(cells) - len(pending)} finished earlier, "
         f"{len(pending)} to run" + (f" on {backend}" if pending else ""))
    if not pending:
        return
    (out / MODELS_DIR).mkdir(exist_ok=True)
    from afroadv.sweep import failure_text

    failures: list[tuple[TrainCell, str]] = []
    if backend == "dask":
        failures = _train_dask(pending, out, scheduler, workers, study)
    else:
        for i, cell in enumerate(pending, 1):
            t0 = time.perf_counter()
            try:
                _train_cell(cell, str(out / MODELS_DIR / cell.name))
            except Exception as e:  # noqa: BLE001 - keep going: the finished cells are kept, a re-run resumes
                failures.append((cell, failure_text(e)))
                _say(f"[{i}/{len(pending)}] train {cell.name}: FAILED: {e}")
                continue
            _say(f"[{i}/{len(pending)}] train {cell.name}: done in {time.perf_counter() - t0:.0f} s")
    if failures:
        first = "; ".join(f"{c.name}: {msg}" for c, msg in failures[:2])
        raise AfroadvError(f"{len(failures)} of {len(cells)} training cell(s) failed ({first}); "
                           "the finished ones are kept, re-run the same command to resume")


def _train_dask(pending: list[TrainCell], out: Path, scheduler: str | None, workers: int, study: Study):
    from afroadv.sweep import _local_gpus, collect, dask_client

    device = str(study.train.get("device") or "")
    gpu = device.startswith("cuda") or (not device and not scheduler and _local_gpus() > 0)
    if gpu and not scheduler and workers > 1:
        # every local worker would see the same GPUs: training cells take turns on it (for several
        # GPUs, start one `dask worker --resources GPU=1` per GPU with CUDA_VISIBLE_DEVICES and pass --scheduler)
        _say("dask: training cells on this machine's GPU run one at a time (one worker)")
        workers = 1
    gpu_work = f"{len(pending)} training cell(s) need a GPU" if gpu else None
    with dask_client(scheduler, workers, 1 if gpu else 0, gpu_work, _say) as client:
        futures = {client.submit(_train_cell, c, str(out / MODELS_DIR / c.name), key=f"afroadv-train-{c.name}",
                                 pure=False, resources={"GPU": 1} if gpu else None): c for c in pending}
        return collect(client, futures, lambda fut, cell: fut.result(), lambda cell: f"train {cell.name}",
                       "training cells (dask)", _say)


def _eval_cells(study: Study, out: Path) -> tuple[list, dict[str, tuple[str, str]]]:
    """Sweep cells for every trained folder (and each base model), and who each evaluated model is."""
    from afroadv.sweep import plan_cells

    who: dict[str, tuple[str, str]] = {}
    for cell in study.train_cells():
        who[str(out / MODELS_DIR / cell.name)] = (cell.model, cell.method)
    if study.baseline:
        for m in study.models:
            who[m] = (m, BASELINE)
    ev = study.evaluate
    cells = []
    for lang, recipes in study.recipes.items():
        cells += plan_cells(list(who), [lang], list(recipes), seeds=list(study.seeds), dtype=ev["dtype"],
                            batch_size=ev["batch_size"], device=ev["device"], bootstrap=ev["bootstrap"],
                            limit=ev.get("limit"))
    return cells, who


# ----------------------------------------------------------------------------- report


def study_rows(eval_dir: Path, cells: list, who: dict[str, tuple[str, str]]) -> list[dict]:
    from afroadv.report import load_results
    from afroadv.sweep import CELLS_DIR

    params: dict[str, int | None] = {}
    rows = []
    for cell in cells:
        base, method = who[cell.model]
        for r in load_results(eval_dir / CELLS_DIR / cell.filename):
            if r.get("task") != "sts" or r["model"] != cell.model:
                continue
            if method == BASELINE:
                params[base] = r.get("model_params")
            rows.append({"model": base, "method": method, "params": r.get("model_params"), "lang": r["lang"],
                         "recipe": r["recipe"], "n": r["n"], "spearman": r["score"], "spearman_ci": list(r["score_ci"]),
                         "drop": r.get("drop"), "drop_ci": list(r["drop_ci"]) if r.get("drop_ci") else None,
                         "per_seed_drop": r.get("per_seed_drop") or {}})
    for r in rows:  # a trained folder counts as its base model's size (the same architecture)
        r["params"] = params.get(r["model"]) or r["params"]
    return rows


def _fmt(v, ci) -> str:
    if v is None:
        return "–"
    mark = "" if ci is None or ci[0] <= 0 <= ci[1] else " *"
    return f"{v:.1f} [{ci[0]:.1f}, {ci[1]:.1f}]{mark}" if ci else f"{v:.1f}"


def study_markdown(rows: list[dict], study: Study) -> str:
    from afroadv.report.tables import fmt_params

    methods = [BASELINE, *study.methods] if study.baseline else list(study.methods)
    lines = ["# afroadv study: drop against model size", "",
             f"Models {', '.join(study.models)}; methods {', '.join(study.methods)}; seeds {', '.join(map(str, study.seeds))} "
             "pooled (drop = mean over the seeds' draws, 95% CI over pairs × draws; * = CI excludes 0). "
             "Spearman ×100 on each language's SemRel test set.", ""]
    for lang, recipes in study.recipes.items():
        lines += [f"## {lang}", "", "| model | params | method | clean Spearman | " + " | ".join(f"drop: {r}" for r in recipes) + " |",
                  "|---|---:|---|---|" + "---|" * len(recipes)]
        for model in study.models:
            for method in methods:
                got = {r["recipe"]: r for r in rows if r["model"] == model and r["method"] == method and r["lang"] == lang}
                if not got:
                    continue
                clean = got.get("clean")
                size = fmt_params(next(iter(got.values()))["params"])
                clean_text = f"{clean['spearman']:.1f} [{clean['spearman_ci'][0]:.1f}, {clean['spearman_ci'][1]:.1f}]" if clean else "–"
                lines.append(f"| {model} | {size} | {method} | {clean_text} | "
                             + " | ".join(_fmt(got[r]["drop"], got[r]["drop_ci"]) if r in got else "–" for r in recipes) + " |")
        lines.append("")
    lines += ["## Mean drop over every language × recipe cell", "",
              "(an unweighted mean of the cells above, without a CI of its own)", "",
              "| model | params | " + " | ".join(methods) + " |", "|---|---:|" + "---:|" * len(methods)]
    for model in study.models:
        sized = [r for r in rows if r["model"] == model]
        if not sized:
            continue
        cells = []
        for method in methods:
            drops = [r["drop"] for r in sized if r["method"] == method and r["drop"] is not None]
            cells.append(f"{sum(drops) / len(drops):.2f}" if drops else "–")
        lines.append(f"| {model} | {fmt_params(sized[0]['params'])} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_drop_vs_size(rows: list[dict], study: Study) -> bytes | None:
    """One panel per language × recipe: drop against parameters (log), a line per method, CI bars."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.figure import Figure
    except ImportError:
        return None
    panels = [(lang, r) for lang, recipes in study.recipes.items() for r in recipes]
    if not panels or len({r["params"] for r in rows if r["params"]}) < 1:
        return None
    import io

    from afroadv.report.tables import fmt_params

    cols = min(4, len(panels))
    nrows = (len(panels) + cols - 1) // cols
    fig = Figure(figsize=(3.2 * cols, 2.6 * nrows), layout="constrained")
    methods = [BASELINE, *study.methods] if study.baseline else list(study.methods)
    for i, (lang, recipe) in enumerate(panels):
        ax = fig.add_subplot(nrows, cols, i + 1)
        for j, method in enumerate(methods):
            pts = sorted((r["params"], r["drop"], r["drop_ci"]) for r in rows
                         if r["lang"] == lang and r["recipe"] == recipe and r["method"] == method
                         and r["params"] and r["drop"] is not None)
            if not pts:
                continue
            xs = [p[0] * (1 + 0.05 * (j - (len(methods) - 1) / 2)) for p in pts]  # methods side by side at one size
            ys = [p[1] for p in pts]
            lo = [max(0.0, p[1] - p[2][0]) if p[2] else 0 for p in pts]
            hi = [max(0.0, p[2][1] - p[1]) if p[2] else 0 for p in pts]
            ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", ms=3.5, capsize=2, lw=1.2, label=method)
        ax.axhline(0, color="0.6", lw=0.7)
        ax.set_xscale("log")
        sizes = sorted({r["params"] for r in rows if r["params"]})
        ax.set_xticks(sizes, [fmt_params(p) for p in sizes])
        ax.minorticks_off()
        if len(sizes) == 1:
            ax.set_xlim(sizes[0] / 1.5, sizes[0] * 1.5)
        ax.set_title(f"{lang}: {recipe}", fontsize=9.5, loc="left")
        ax.tick_params(labelsize=8)
        if i % cols == 0:
            ax.set_ylabel("drop (Spearman ×100)", fontsize=8.5)
        if i >= len(panels) - cols:
            ax.set_xlabel("parameters", fontsize=8.5)
    handles, labels = fig.axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8.5)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    return buf.getvalue()


# ----------------------------------------------------------------------------- run


def run_study(study: Study, out: Path, *, backend: str = "local", scheduler: str | None = None, workers: int = 2) -> dict:
    """Train, evaluate, report; every phase skips what an earlier run finished."""
    from afroadv.data.writers import atomic_path, write_text_atomic
    from afroadv.sweep import BACKENDS, run_sweep

    if backend not in BACKENDS:
        raise AfroadvError(f"unknown backend {backend!r}; choose {' or '.join(BACKENDS)}")
    if scheduler and backend != "dask":
        raise AfroadvError("--scheduler needs --backend dask")
    out = Path(out)
    _check_folder(study, out)
    t0 = time.perf_counter()
    _run_training(study, out, backend, scheduler, workers)
    cells, who = _eval_cells(study, out)
    _say(f"evaluate: {len(cells)} cell(s) (model x language)")
    run_sweep(cells, out / EVAL_DIR, backend=backend, scheduler=scheduler, workers=workers, report=False)
    rows = study_rows(out / EVAL_DIR, cells, who)
    write_text_atomic(out / "study.md", study_markdown(rows, study))
    png = plot_drop_vs_size(rows, study)
    if png:
        with atomic_path(out / "drop_vs_size.png") as tmp:
            tmp.write_bytes(png)
    doc = {"kind": "afroadv-study", "plan": study.spec(), "rows": rows,
           "models": {folder: {"model": m, "method": meth} for folder, (m, meth) in who.items()}}
    write_text_atomic(out / STUDY_FILE, json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    _say(f"done in {time.perf_counter() - t0:.0f} s: {out / 'study.md'}" + (f", {out / 'drop_vs_size.png'}" if png else ""))
    return doc


__all__ = ["Study", "TrainCell", "plan_study", "run_study", "study_markdown", "study_rows"]
