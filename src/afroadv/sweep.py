"""`afroadv sweep`: evaluate a grid of models × languages × recipes, resumably, locally or on Dask.

Cells. One cell = one model on one language with ALL the sweep's recipes = one `evaluate` call,
written to `<out>/cells/<model>__<lang>.json`. Not model × lang × recipe, because within one
evaluate call the model loads once, every clean sentence is encoded once for all recipes, and the
clean row (shared by all recipes of a language) comes from exactly one file; splitting by recipe
would repeat the model load and clean encoding per recipe and make several files claim the same
clean cell. The metrics do not depend on which other recipes share the call (each recipe's
perturbation and bootstrap derive from --seed alone), so the split changes cost, not numbers.

Resume. A cell is finished, and skipped, when its file loads as a valid results file of this
afroadv version, its manifest's `sweep_cell` block equals the cell's spec (model, model
fingerprint, language, recipes, dataset, split, seed or `--seeds` list, limit, bootstrap) and it holds rows for the
model, language and every recipe. Anything else (absent, torn, stale parameters, changed model
weights) is run again. Files are written atomically, so an interrupted sweep leaves whole files.

Outputs: the cell files; `<out>/results.json`, every cell's rows merged in plan order (models
outer, languages inner) with a merged manifest, which `afroadv check` and `afroadv report` read;
and `<out>/report/` from `afroadv.report.build_report` on the cell files.

Backends. `local` runs cells one after another in this process. `dask` submits one task per
unfinished cell to a Dask distributed cluster: `--scheduler tcp://HOST:8786` for an existing one,
otherwise a LocalCluster of `--workers` worker processes (one thread each) with the scheduler,
workers and nannies all bound to 127.0.0.1, every dashboard off and the scheduler's HTTP endpoints on
an ephemeral 127.0.0.1 port, so nothing listens on or contacts a non-loopback address (checked
with strace: every bind and connect is to 127.0.0.1). Workers return the results document; this process writes the
files, so workers need no shared file system (they need afroadv of the same version, the model
and the data). Both backends run the same `run_cell`, so results are identical (timings aside).

GPU cells. A cell is a GPU cell when `--device` is cuda[:N], or when no device is given and the
model is XL-class (`ResolvedModel.is_large`: XLM-R XL/XXL or >= 1B parameters, which need a GPU in
practice). GPU cells are submitted with worker resources {"GPU": 1}; start GPU workers with
`dask worker tcp://HOST:8786 --nthreads 1 --resources GPU=1` (one worker per GPU, e.g.
CUDA_VISIBLE_DEVICES=i). The sweep refuses to start when it has GPU cells and no worker offers
the resource (the tasks would wait forever). A LocalCluster offers GPU=1 per worker when this
machine has a CUDA GPU; with more workers than GPUs, workers share GPUs.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from afroadv.errors import AfroadvError

__all__ = ["TIMING_FIELDS", "Cell", "plan_cells", "run_cell", "run_sweep"]

CELLS_DIR = "cells"
MERGED = "results.json"
REPORT_DIR = "report"
BACKENDS = ("local", "dask")
TIMING_FIELDS = ("seconds", "load_seconds", "forward_seconds", "cache", "texts_encoded")  # differ between runs of the same cell


@dataclass(frozen=True)
class Cell:
    model: str
    lang: str
    recipes: tuple[str, ...]
    recipe_names: tuple[str, ...]  # as rows name them (a recipe given as a YAML path has a name inside)
    dataset: str | None
    split: str
    seed: int
    limit: int | None
    bootstrap: int
    fingerprint: str
    gpu: bool = False
    batch_size: int = 32
    device: str | None = None
    kind: str | None = None
    trust_remote_code: bool = False
    allow_pickle: bool = False
    prompt: str | None = None  # None: the model's own
    dir_margin: float = 0.0  # how much a directional pair must fall to pass
    retrieval_k: int = 100  # invariance sets: candidates of self-retrieval (evaluate.RETRIEVAL_K)
    dtype: str | None = None  # None: models/precision.py's default where the cell runs
    seeds: tuple[int, ...] | None = None  # `--seeds`: each set drawn once per seed, pooled (then `seed` is seeds[0])

    def spec(self) -> dict:
        """What the numbers depend on: a finished file must carry exactly this."""
        return {"model": self.model, "fingerprint": self.fingerprint, "lang": self.lang, "recipes": list(self.recipes),
                "dataset": self.dataset, "split": self.split,
                **({"seeds": list(self.seeds)} if self.seeds else {"seed": self.seed}), "limit": self.limit,
                "bootstrap": self.bootstrap, **({} if self.prompt is None else {"prompt": self.prompt}),
                **({"dir_margin": self.dir_margin} if self.dir_margin else {}),
                **({"retrieval_k": self.retrieval_k} if self.retrieval_k != 100 else {}),
                **({} if self.dtype is None else {"dtype": self.dtype})}

    @property
    def label(self) -> str:
        return f"{self.model} {self.lang}"

    @property
    def filename(self) -> str:
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", self.model).strip("._") or "model"
        if safe != self.model:  # a path or hub id: keep names unique
            safe += "-" + hashlib.sha256(self.model.encode("utf-8")).hexdigest()[:8]
        return f"{safe}__{self.lang}.json"


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def plan_cells(models: list[str], langs: list[str], recipes: list[str], *, dataset: str | None = None, split: str = "test",
               seed: int = 0, limit: int | None = None, bootstrap: int = 1000, batch_size: int = 32, device: str | None = None,
               kind: str | None = None, trust_remote_code: bool = False, allow_pickle: bool = False,
               prompt: str | None = None, dir_margin: float = 0.0, retrieval_k: int = 100,
               dtype: str | None = None, seeds: list[int] | None = None) -> list[Cell]:
    """Validate the whole grid up front (models, languages, recipes) and return its cells (`seeds`:
    every cell pools these draws, as `evaluate --seeds`)."""
    from afroadv.data.catalog import load_dataset
    from afroadv.langs import get_language
    from afroadv.metrics import MIN_BOOTSTRAP
    from afroadv.options import (check_count, check_device, check_dir_margin, check_dtype, check_limit, check_prompt,
                                 check_seed, check_seeds)
    from afroadv.models import resolve_model
    from afroadv.models.registry import refuse_random_with_real
    from afroadv.perturb.recipe import load_recipe, recipes_for

    models = list(dict.fromkeys(models))
    if not models:
        raise AfroadvError("no model given (--models a,b)")
    if not langs:
        raise AfroadvError("no language given (--langs hau,kin)")
    if not recipes:
        raise AfroadvError("no recipe given (--recipes charnoise,codeswitch or all)")
    seed, limit, prompt, dir_margin = check_seed(seed), check_limit(limit), check_prompt(prompt), check_dir_margin(dir_margin)
    seeds = None if seeds is None else tuple(check_seeds(seeds))
    seed = seeds[0] if seeds else seed
    bootstrap = check_count(bootstrap, "--bootstrap", minimum=MIN_BOOTSTRAP)
    retrieval_k = check_count(retrieval_k, "--retrieval-k", minimum=2)
    dtype = check_dtype(dtype)
    batch_size, device = check_count(batch_size, "--batch-size"), check_device(device, here=False)
    languages = list({lang.code: lang for lang in (get_language(x) for x in langs)}.values())
    for lang in languages:  # bad data (a missing file, scores off the scale ...) stops the sweep before any cell
        load_dataset(lang, dataset, split)
    resolved = {m: resolve_model(m, kind=kind, trust_remote_code=trust_remote_code, allow_pickle=allow_pickle) for m in models}
    refuse_random_with_real(resolved)
    if recipes != ["all"]:
        loaded = {r: load_recipe(r) for r in dict.fromkeys(recipes)}
        for lang in languages:
            for rec in loaded.values():
                if not rec.supports(lang):
                    raise AfroadvError(f"recipe {rec.name!r} does not support {lang.code}; it supports: "
                                       f"{', '.join(rec.supported_languages())} (use --recipes all for each language's own)")
    cells = []
    for m in models:
        rm = resolved[m]
        gpu = bool(device and device.startswith("cuda")) or (device is None and rm.is_large)
        for lang in languages:
            if recipes == ["all"]:
                recs = recipes_for(lang)
                names = tuple(r.name for r in recs)
                if not recs:
                    raise AfroadvError(f"no recipe supports {lang.code}")
                given = names
            else:
                given, names = tuple(loaded), tuple(loaded[r].name for r in loaded)
            cells.append(Cell(model=m, lang=lang.code, recipes=given, recipe_names=names, dataset=dataset, split=split,
                              seed=seed, limit=limit, bootstrap=bootstrap, fingerprint=rm.fingerprint, gpu=gpu,
                              batch_size=batch_size, device=device, kind=kind, trust_remote_code=trust_remote_code,
                              allow_pickle=allow_pickle, prompt=prompt, dir_margin=dir_margin, retrieval_k=retrieval_k,
                              dtype=dtype, seeds=seeds))
    return cells


def run_cell(cell: Cell) -> dict:
    """Evaluate one cell and return its results document (runs in a Dask worker or in-process)."""
    from afroadv.evaluate import build_sets, evaluate

    sets = build_sets(cell.lang, list(cell.recipes), cell.dataset, cell.split, list(cell.seeds or []) or cell.seed, cell.limit)
    doc = evaluate([cell.model], sets, n_boot=cell.bootstrap, seed=cell.seed, batch_size=cell.batch_size,
                   trust_remote_code=cell.trust_remote_code, allow_pickle=cell.allow_pickle, device=cell.device, kind=cell.kind,
                   quiet=True, prompt=cell.prompt, dir_margin=cell.dir_margin, retrieval_k=cell.retrieval_k, dtype=cell.dtype)
    doc["manifest"]["sweep_cell"] = cell.spec()
    return doc


def _expected_dtype(cell: Cell) -> str | None:
    """The dtype the cell runs in here; None for a GPU cell without --dtype (its worker decides)."""
    if cell.dtype is not None:
        return cell.dtype
    if cell.gpu:
        return None
    from afroadv.models.precision import pick_device, pick_dtype

    return pick_dtype(pick_device(cell.device))


def is_finished(path: Path, cell: Cell) -> bool:
    """The file is a whole, valid results file of this version for exactly this cell."""
    from afroadv.report import load_results

    if not path.is_file():
        return False
    try:
        rows = load_results(path)
        manifest = json.loads(path.read_text(encoding="utf-8")).get("manifest") or {}
    except (AfroadvError, ValueError, OSError):
        return False
    if manifest.get("sweep_cell") != cell.spec():
        return False
    expected = _expected_dtype(cell)
    ran = {m.get("dtype") for m in manifest.get("models") or [] if isinstance(m, dict)}
    if expected is not None and ran != {expected}:  # e.g. finished in fp32 elsewhere, now bf16 by default
        return False
    got = {r["recipe"] for r in rows if r["model"] == cell.model and r["lang"] == cell.lang}
    return bool(rows) and set(cell.recipe_names) <= got


def _write_cell(path: Path, doc: dict, cell: Cell) -> None:
    from afroadv.evaluate import write_results

    write_results(path, doc)
    if not is_finished(path, cell):  # e.g. a remote worker with another afroadv version
        path.unlink(missing_ok=True)
        made_by = doc.get("afroadv_version") if isinstance(doc, dict) else None
        raise AfroadvError(f"the results for {cell.label} do not validate (made by afroadv {made_by})")


# ---------------------------------------------------------------------------------------------
# Backends


def failure_text(e: BaseException) -> str:
    """A failed cell's reason: our own errors as they are, anything else with its type."""
    return f"{'' if isinstance(e, AfroadvError) else type(e).__name__ + ': '}{e}"


def _run_local(pending: list[tuple[Cell, Path]], progress) -> list[tuple[Cell, str]]:
    from afroadv.progress import track

    failures = []
    for i, (cell, path) in enumerate(track(pending, "sweep cells"), 1):
        t0 = time.perf_counter()
        try:
            _write_cell(path, run_cell(cell), cell)
        except Exception as e:  # noqa: BLE001 - keep going: the finished cells are saved, a re-run resumes
            failures.append((cell, failure_text(e)))
            progress(f"[{i}/{len(pending)}] {cell.label}: FAILED: {e}")
            continue
        progress(f"[{i}/{len(pending)}] {cell.label}: done in {time.perf_counter() - t0:.1f}s -> {path}")
    return failures


def _local_gpus() -> int:
    try:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:  # noqa: BLE001 - no usable torch/CUDA: no GPU
        return 0


def local_cluster(workers: int, gpus: int = 0):
    """A LocalCluster on loopback only: scheduler, nannies and workers bind 127.0.0.1, no dashboards."""
    import logging

    from dask.distributed import LocalCluster

    kwargs = {"resources": {"GPU": 1}} if gpus else {}
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", protocol="tcp://",
                        scheduler_port=0, dashboard_address=None, worker_dashboard_address=None,
                        # the scheduler's HTTP endpoints (health, metrics) exist even without a dashboard:
                        # loopback, ephemeral port (not 0.0.0.0, not a fixed 8787 another cluster may hold)
                        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                        silence_logs=logging.ERROR, **kwargs)


@contextmanager
def dask_client(scheduler: str | None, workers: int, gpus: int, gpu_work: str | None, progress):
    """A Dask client: connected to `scheduler`, or to a LocalCluster of `workers` processes on
    127.0.0.1 (offering GPU=1 each when `gpus`), closed afterwards. `gpu_work` names the work that
    needs a GPU worker (e.g. "3 GPU cell(s) (xlmr-xl)"): a cluster without one is refused."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise AfroadvError("--backend dask needs dask.distributed: pip install 'dask[distributed]'") from None
    cluster = None
    try:
        if scheduler:
            if not re.fullmatch(r"((tcp|tls|ws|wss|ucx)://)?[\w.\-\[\]:]+:\d+", scheduler):
                raise AfroadvError(f"--scheduler {scheduler!r} is not a Dask scheduler address such as tcp://HOST:8786")
            try:
                client = Client(scheduler, timeout="20s", set_as_default=False)
            except (OSError, TimeoutError, ValueError) as e:
                raise AfroadvError(f"cannot connect to the Dask scheduler at {scheduler}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
            progress(f"dask: connected to {scheduler}")
        else:
            if workers < 1:
                raise AfroadvError("--workers must be at least 1")
            cluster = local_cluster(workers, gpus)
            client = Client(cluster, set_as_default=False)
            progress(f"dask: LocalCluster with {workers} worker process(es) at {cluster.scheduler_address} (loopback only)")
        with client:
            try:
                client.wait_for_workers(1, timeout=60)
            except TimeoutError:
                raise AfroadvError(f"no Dask worker joined the scheduler {scheduler or ''} within 60 s") from None
            if gpu_work and scheduler:
                info = client.scheduler_info(n_workers=-1).get("workers", {})
                if not any((w.get("resources") or {}).get("GPU") for w in info.values()):
                    raise AfroadvError(f"{gpu_work} but no worker offers the GPU "
                                       "resource: start workers with `dask worker ... --resources GPU=1`, or pass --device cpu")
            yield client
    finally:
        if cluster is not None:
            cluster.close()


def _run_dask(pending: list[tuple[Cell, Path]], scheduler: str | None, workers: int, progress) -> list[tuple[Cell, str]]:
    gpu_cells = [c for c, _ in pending if c.gpu]
    gpus = 0
    if gpu_cells and not scheduler:
        gpus = _local_gpus()
        if not gpus:
            raise AfroadvError(f"{len(gpu_cells)} cell(s) need a GPU ({gpu_cells[0].model}) but this machine has none; "
                               "pass --device cpu to run them on the CPU, or --scheduler for a cluster with GPU workers")
    gpu_work = f"{len(gpu_cells)} GPU cell(s) ({gpu_cells[0].model})" if gpu_cells else None
    with dask_client(scheduler, workers, gpus, gpu_work, progress) as client:
        futures = {}
        for cell, path in pending:
            key = "afroadv-cell-" + hashlib.sha256(json.dumps(cell.spec(), sort_keys=True).encode()).hexdigest()[:16]
            fut = client.submit(run_cell, cell, key=key, pure=False, resources={"GPU": 1} if cell.gpu else None)
            futures[fut] = (cell, path)
        def finish(fut, item) -> str:
            cell, path = item
            _write_cell(path, fut.result(), cell)
            return f"-> {path}"

        return collect(client, futures, finish, lambda item: item[0].label, "sweep cells (dask)", progress)


def collect(client, futures: dict, finish, label, what: str, progress) -> list[tuple[object, str]]:
    """Finish each Dask future as it completes (`finish(future, item)`, which may return a note for
    the log); a failure is reported and collected, not raised, so the other cells finish.
    Returns [(item, reason)]."""
    from dask.distributed import as_completed

    from afroadv.progress import track

    failures = []
    done = track(as_completed(list(futures), loop=client.loop), what, total=len(futures))
    for i, fut in enumerate(done, 1):
        item = futures[fut]
        try:
            note = finish(fut, item)
        except Exception as e:  # noqa: BLE001 - a worker's error, reported with the others
            failures.append((item, failure_text(e)))
            progress(f"[{i}/{len(futures)}] {label(item)}: FAILED: {e}")
            continue
        progress(f"[{i}/{len(futures)}] {label(item)}: done" + (f" {note}" if note else ""))
    return failures


# ---------------------------------------------------------------------------------------------
# Merge


def merge_cell_docs(cells: list[Cell], paths: list[Path]) -> dict:
    """One results document: every cell's rows in plan order, and a merged manifest."""
    from afroadv import __version__
    from afroadv.evaluate import RESULTS_KIND

    rows, models, sets, index = [], {}, [], []
    bootstrap = None
    for cell, path in zip(cells, paths):
        raw = path.read_bytes()
        doc = json.loads(raw.decode("utf-8"))
        rows.extend(doc["results"])
        man = doc["manifest"]
        bootstrap = bootstrap or man.get("bootstrap")
        for m in man.get("models", []):
            kept = models.setdefault(m.get("model"), m)
            seen = kept.get("dtypes") or [kept.get("dtype")]
            if m.get("dtype") and m["dtype"] not in seen:
                kept["dtypes"] = [*seen, m["dtype"]]  # check sees every cell's dtype
        for s in man.get("sets", []):
            if s not in sets:
                sets.append(s)
        index.append({"model": cell.model, "lang": cell.lang, "file": f"{CELLS_DIR}/{path.name}",
                      "sha256": hashlib.sha256(raw).hexdigest()})
    first = cells[0]
    seeds = {"seeds": list(first.seeds)} if first.seeds else {"seed": first.seed}
    manifest = {
        "afroadv_version": __version__,
        **seeds,
        "bootstrap": bootstrap,
        "models": list(models.values()),
        "sets": sets,
        "sweep": {"models": list(dict.fromkeys(c.model for c in cells)), "langs": list(dict.fromkeys(c.lang for c in cells)),
                  "dataset": first.dataset, "split": first.split, "limit": first.limit, **seeds,
                  "bootstrap": first.bootstrap, "cells": index},
    }
    return {"afroadv_version": __version__, "kind": RESULTS_KIND, "results": rows, "manifest": manifest}


def strip_timing(obj):
    """A copy without the fields that differ between identical runs (for comparing backends)."""
    if isinstance(obj, dict):
        return {k: strip_timing(v) for k, v in obj.items() if k not in TIMING_FIELDS and k != "sha256"}
    if isinstance(obj, list):
        return [strip_timing(v) for v in obj]
    return obj


@dataclass
class SweepSummary:
    out: Path
    cells: int
    skipped: int
    ran: int
    results: Path
    report: dict
    seconds: float

    def as_dict(self) -> dict:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}


def run_sweep(cells: list[Cell], out: Path, *, backend: str = "local", scheduler: str | None = None, workers: int = 2,
              report: bool = True, quiet: bool = False) -> SweepSummary:
    """Run the unfinished cells, then write `<out>/results.json` and `<out>/report/`."""
    from afroadv.data.writers import check_out_dir
    from afroadv.evaluate import write_results
    from afroadv.options import check_count

    progress = (lambda msg: None) if quiet else (lambda msg: _say(f"[sweep] {msg}"))
    if backend not in BACKENDS:
        raise AfroadvError(f"unknown backend {backend!r}; choose {' or '.join(BACKENDS)}")
    if scheduler and backend != "dask":
        raise AfroadvError("--scheduler needs --backend dask")
    if not cells:
        raise AfroadvError("nothing to sweep")
    workers = check_count(workers, "--workers")
    out = check_out_dir(Path(out), "sweep folder")
    cell_dir = check_out_dir(out / CELLS_DIR, "sweep cells folder")
    cell_dir.mkdir(parents=True, exist_ok=True)  # (checked writable just above)
    paths = [cell_dir / c.filename for c in cells]
    pending = [(c, p) for c, p in zip(cells, paths) if not is_finished(p, c)]
    skipped = len(cells) - len(pending)
    t0 = time.perf_counter()
    progress(f"{len(cells)} cell(s) (model x language): {skipped} finished earlier (skipped), {len(pending)} to run"
             + (f" on {backend}" if pending else ""))
    failures = []
    if pending:
        if backend == "dask":
            failures = _run_dask(pending, scheduler, workers, progress)
        else:
            failures = _run_local(pending, progress)
    if failures:
        first = "; ".join(f"{c.label}: {msg}" for c, msg in failures[:2])
        raise AfroadvError(f"{len(failures)} of {len(cells)} cell(s) failed ({first}); the finished cells are saved in "
                           f"{cell_dir}, re-run the same command to resume")
    merged = out / MERGED
    write_results(merged, merge_cell_docs(cells, paths))
    written = {}
    if report:
        from afroadv.report import build_report

        written = build_report(paths, out / REPORT_DIR)
    return SweepSummary(out, len(cells), skipped, len(pending), merged, {k: str(v) for k, v in written.items()},
                        round(time.perf_counter() - t0, 2))
