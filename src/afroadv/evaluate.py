"""Evaluation: score clean and perturbed sets with one or more encoders and report the drop with a
paired bootstrap CI — Spearman/Pearson for gold-scored STS, retrieval accuracy@1 for bitext, and
self-vs-random cosine margins for unlabelled (invariance) text.

Every unique sentence is encoded once per model: the embedding cache sits under the encoder, and all
sets of a run are encoded in one call.
"""

from __future__ import annotations

import sys
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from afroadv import __version__
from afroadv.data.sets import read_set_records
from afroadv.data.writers import dumps_json, manifest_path, read_set_manifest, write_text_atomic
from afroadv.errors import AfroadvError
from afroadv.options import check_count, check_device, check_limit, check_prompt, check_seed
from afroadv.generate import COLUMNS, dataset_perturber, pairs_sha256, perturb_pairs
from afroadv.langs import find_language
from afroadv.learned import language_and_dataset, learnable_code, script_level_recipes
from afroadv.metrics import (
    MIN_BOOTSTRAP,
    N_BOOTSTRAP,
    accuracy_drop_ci,
    bootstrap_indices,
    metric_ci,
    paired_drop_ci,
    pearson,
    retrieval_hits,
    spearman,
)
from afroadv.perturb.recipe import load_recipe
from afroadv.validate.registry import LABEL_PRESERVED_MIN, lookup_validation, row_validation, untrustworthy

RESULTS_KIND = "evaluation-results"


@dataclass
class EvalSet:
    """One perturbed set and the clean pairs it was made from (row-aligned)."""

    lang: str
    dataset: str
    task: str
    recipe: str
    ids: list[str]
    clean: list[tuple[str, str]]
    perturbed: list[tuple[str, str]]
    scores: list[float | None]
    edit_rate: float
    changed_share: float
    provenance: dict = field(default_factory=dict)
    validation: dict | None = None  # reviewers' rates for this set's generator (afroadv validate), row form

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.lang, self.dataset, self.task)


def _from_records(records: list[dict], lang: str, dataset: str, provenance: dict) -> EvalSet:
    n = len(records)
    return EvalSet(
        lang=lang,
        dataset=dataset,
        task=records[0]["task"],
        recipe=records[0]["recipe"],
        ids=[r["source_id"] for r in records],
        clean=[(r["orig_sentence1"], r["orig_sentence2"]) for r in records],
        perturbed=[(r["sentence1"], r["sentence2"]) for r in records],
        scores=[r["score"] for r in records],
        edit_rate=float(np.mean([r["edit_rate"] for r in records])) if n else 0.0,
        changed_share=float(np.mean([bool(r["changed"]) for r in records])) if n else 0.0,
        provenance=provenance,
    )


def expand_recipes(lang: str, recipes: list[str]) -> list[str]:
    """`all` → every recipe the language supports (outside the registry: the script-level ones);
    other names stay as given."""
    if recipes != ["all"]:
        return recipes
    from afroadv.perturb import list_recipes

    language = find_language(lang)
    if language is None:
        learnable_code(lang)  # (an unknown name is an error here, not later)
        return script_level_recipes()
    return [r.name for r in list_recipes() if r.supports(language)]


def build_sets(lang: str, recipes: list[str], dataset: str | None, split: str, seed: int, limit: int | None,
               script: str | None = None) -> list[EvalSet]:
    """Generate each recipe's set in memory from the same clean pairs (a language outside the registry
    is learned from the dataset first, as `generate` does)."""
    seed, limit = check_seed(seed), check_limit(limit)
    loaded = [load_recipe(r) for r in recipes]
    found = find_language(lang)
    if found is not None:
        for r in loaded:
            r.perturber(found)  # validate all before any work
    language, ds = language_and_dataset(lang, dataset, split, script)
    for r in loaded:
        r.perturber(language)
    perturbers = [dataset_perturber(r, language, ds) for r in loaded]
    pairs = ds.pairs[:limit] if limit else ds.pairs
    sets = []
    for p in perturbers:
        records = perturb_pairs(p, pairs, seed)
        provenance = {
            "recipe": p.recipe.name,
            "parameters": p.recipe.params(),
            "lexicons": p.resource_versions,
            "seed": seed,
            "input_sha256": pairs_sha256(pairs),
            "split": ds.split,
        }
        if language.learned:
            provenance["language_profile"] = language.learned.summary()
        s = _from_records(records, language.code, ds.name, provenance)
        s.validation = row_validation(lookup_validation(_generator_manifest(s)))
        sets.append(s)
    return sets


def _generator_manifest(s: EvalSet) -> dict:
    """What a written set's manifest would say about the generator of an in-memory set (for its registry key)."""
    p = s.provenance
    return {"afroadv_version": __version__, "lang": s.lang, "dataset": {"name": s.dataset, "split": p["split"]},
            "recipe": {"name": p["recipe"], "parameters": p["parameters"]}, "lexicons": p["lexicons"]}


def _set_validation(path: Path, manifest: dict):
    """The set's own reviewed validation, else — for a set written by `generate` — its generator's registered one."""
    if "validation" in manifest:
        return row_validation(manifest["validation"])
    if manifest.get("kind") == "generated-set":
        try:
            return row_validation(lookup_validation(manifest))
        except AfroadvError as e:
            raise AfroadvError(f"{manifest_path(path)}: {e}") from None
    return None


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(str(version).split(".")[:2])


def read_sets(paths: list[Path]) -> list[EvalSet]:
    """Sets written by `afroadv generate` or `afroadv attack` (JSONL/Parquet + manifest)."""
    sets = []
    for path in map(Path, paths):
        if not path.is_file():
            raise AfroadvError(f"set file not found: {path}")
        manifest = read_set_manifest(path)
        if manifest is None:
            manifest = {}
        else:
            made_by = manifest.get("afroadv_version", "")
            if _major_minor(made_by) != _major_minor(__version__):
                raise AfroadvError(f"{path} was made by afroadv {made_by or '?'}; this is {__version__}: regenerate it")
        records = read_set_records(path)
        missing = [c for c in COLUMNS if c not in records[0]]
        if missing:
            raise AfroadvError(f"{path}: not an afroadv set (missing {', '.join(missing)})")
        if len({r["lang"] for r in records}) != 1 or len({r["recipe"] for r in records}) != 1:
            raise AfroadvError(f"{path}: a set holds one language and one recipe")
        dataset = (manifest.get("dataset") or {}).get("name") or path.stem
        provenance = {"file": path.name, "recipe": manifest.get("recipe"), "seed": manifest.get("seed"),
                      "input_sha256": manifest.get("input_sha256"), "lexicons": manifest.get("lexicons")}
        if "language_profile" in manifest:  # a language outside the registry, learned from the dataset
            provenance["language_profile"] = manifest["language_profile"]
        s = _from_records(records, records[0]["lang"], Path(str(dataset)).name, provenance)
        s.validation = _set_validation(path, manifest)
        sets.append(s)
    return sets


def _r(x: float) -> float:
    return round(float(x), 4)


def _ci(ci) -> list[float]:
    return [_r(ci[0]), _r(ci[1])]


class _Scorer:
    """Embeds/scores through one encoder; texts are gathered first so each is computed once."""

    def __init__(self, encoder):
        self.encoder = encoder
        self.bi = hasattr(encoder, "encode")
        self._emb: dict[str, np.ndarray] = {}
        self._pair_scores: dict[tuple[str, str], float] = {}

    def _items(self, sets: list[EvalSet]) -> list:
        """The unique texts (bi) or pairs (cross) the sets need, in first-seen order."""
        if self.bi:
            return list(OrderedDict.fromkeys(t for s in sets for pair in (*s.clean, *s.perturbed) for t in pair))
        return list(OrderedDict.fromkeys(p for s in sets for p in (*s.clean, *s.perturbed)))

    def plan(self, sets: list[EvalSet], name: str) -> str:
        """One line saying how much is cached and how much is left to compute."""
        items = self._items(sets)
        count = getattr(self.encoder, "count_cached", None)  # encoders without a cache compute everything
        cached = count(items) if count else 0
        what = "sentences" if self.bi else "pairs"
        todo = f"{len(items) - cached} to {'encode' if self.bi else 'score'}"
        return f"[{name}] {len(items)} unique {what} from {len(sets)} set(s): {cached} cached, {todo}"

    def prefetch(self, sets: list[EvalSet]) -> None:
        items = self._items(sets)
        if self.bi:
            for t, v in zip(items, self.encoder.encode(items)):
                self._emb[t] = v
        else:
            for p, v in zip(items, self.encoder.score_pairs(items)):
                self._pair_scores[p] = float(v)

    def emb(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._emb[t] for t in texts])

    def pair_scores(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        if self.bi:
            a, b = self.emb([p[0] for p in pairs]), self.emb([p[1] for p in pairs])
            return (a * b).sum(axis=1)
        missing = [p for p in pairs if p not in self._pair_scores]
        if missing:
            for p, v in zip(missing, self.encoder.score_pairs(missing)):
                self._pair_scores[p] = float(v)
        return np.array([self._pair_scores[p] for p in pairs])


def _hits(scorer: _Scorer, pairs: list[tuple[str, str]]) -> np.ndarray:
    """Per pair: mean of the X→English and English→X retrieval hits (XTREME-R Tatoeba style)."""
    x = scorer.emb([p[0] for p in pairs])
    e = scorer.emb([p[1] for p in pairs])
    return (retrieval_hits(x, e) + retrieval_hits(e, x)) / 2


def _sts_rows(scorer, sets, base, n_boot, seed):
    rows = []
    ref = max(sets, key=lambda s: len(s.ids))
    gold = np.array(ref.scores, float)
    clean_pred = scorer.pair_scores(ref.clean)
    rows.append({**base, "recipe": "clean", "n": len(gold), "spearman": _r(spearman(gold, clean_pred)),
                 "pearson": _r(pearson(gold, clean_pred)), "spearman_ci": _ci(metric_ci(gold, clean_pred, n_boot=n_boot, seed=seed))})
    for s in sets:
        g = np.array(s.scores, float)
        c, p = scorer.pair_scores(s.clean), scorer.pair_scores(s.perturbed)
        drop, ci = paired_drop_ci(g, c, p, "spearman", n_boot=n_boot, seed=seed)
        rows.append({**base, "recipe": s.recipe, "n": len(g), "spearman": _r(spearman(g, p)), "pearson": _r(pearson(g, p)),
                     "spearman_ci": _ci(metric_ci(g, p, n_boot=n_boot, seed=seed)), "clean_spearman": _r(spearman(g, c)),
                     "drop": _r(drop), "drop_ci": _ci(ci), "pearson_drop": _r(pearson(g, c) - pearson(g, p)),
                     "edit_rate": _r(s.edit_rate), "changed_share": _r(s.changed_share), "validation": s.validation})
    return rows


def _bitext_rows(scorer, sets, base, n_boot, seed):
    if not scorer.bi:
        raise AfroadvError("bitext retrieval needs a bi-encoder (a cross-encoder cannot embed sentences)")
    ref = max(sets, key=lambda s: len(s.ids))
    clean = _hits(scorer, ref.clean)
    idx = bootstrap_indices(len(clean), n_boot, seed)
    rows = [{**base, "recipe": "clean", "n": len(clean), "accuracy": _r(100 * clean.mean()),
             "accuracy_ci": _ci(np.percentile(100 * clean[idx].mean(axis=1), [2.5, 97.5]))}]
    for s in sets:
        c, p = _hits(scorer, s.clean), _hits(scorer, s.perturbed)
        drop, ci = accuracy_drop_ci(c, p, n_boot=n_boot, seed=seed)
        idx = bootstrap_indices(len(p), n_boot, seed)
        rows.append({**base, "recipe": s.recipe, "n": len(p), "accuracy": _r(100 * p.mean()),
                     "accuracy_ci": _ci(np.percentile(100 * p[idx].mean(axis=1), [2.5, 97.5])),
                     "clean_accuracy": _r(100 * c.mean()), "drop": _r(drop), "drop_ci": _ci(ci),
                     "edit_rate": _r(s.edit_rate), "changed_share": _r(s.changed_share), "validation": s.validation})
    return rows


def _invariance_rows(scorer, sets, base, n_boot, seed):
    rows = []
    for s in sets:
        n = len(s.ids)
        if n < 2:
            raise AfroadvError(f"invariance set {s.dataset}/{s.recipe} needs at least 2 sentences")
        originals = [c[0] for c in s.clean]
        perm = np.random.default_rng(seed).permutation(n)
        perm = np.where(perm == np.arange(n), (perm + 1) % n, perm)  # never a sentence with itself
        self_cos = scorer.pair_scores([(p[0], o) for p, o in zip(s.perturbed, originals)])
        rand_cos = scorer.pair_scores([(originals[i], originals[j]) for i, j in enumerate(perm)])
        margins = self_cos - rand_cos
        idx = bootstrap_indices(n, n_boot, seed)
        rows.append({**base, "recipe": s.recipe, "n": n, "mean_cos_self": _r(self_cos.mean()),
                     "mean_cos_random": _r(rand_cos.mean()), "margin": _r(margins.mean()),
                     "margin_ci": _ci(np.percentile(margins[idx].mean(axis=1), [2.5, 97.5])),
                     "edit_rate": _r(s.edit_rate), "changed_share": _r(s.changed_share), "validation": s.validation})
    return rows


def _model_params(encoder, resolved) -> int | None:
    if resolved.params:
        return int(resolved.params)
    model = getattr(encoder, "_model", None) or getattr(encoder, "_st", None) or getattr(encoder, "model", None)
    try:
        return int(sum(p.numel() for p in model.parameters()))
    except Exception:
        return None


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def check_evaluate_options(n_boot: int, seed: int, batch_size: int, threads: int | None, device: str | None) -> tuple:
    """evaluate's numeric options, checked (the CLI calls this before generating any set)."""
    return (check_count(n_boot, "--bootstrap", minimum=MIN_BOOTSTRAP), check_seed(seed), check_count(batch_size, "--batch-size"),
            None if threads is None else check_count(threads, "--threads"), check_device(device))


def _model_names(models: list) -> list[str]:
    """The row name of each model (an in-memory one: its adapter's); two models may not share one."""
    from afroadv.models.inmemory import is_in_memory

    names = [m.name if is_in_memory(m) else str(m) for m in models]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise AfroadvError(f"two models are both named {twice[0]!r}: give each a name of its own")
    return names


def evaluate(
    models: list,
    sets: list[EvalSet],
    *,
    n_boot: int = N_BOOTSTRAP,
    seed: int = 0,
    batch_size: int = 32,
    trust_remote_code: bool = False,
    allow_pickle: bool = False,
    device: str | None = None,
    kind: str | None = None,
    quiet: bool = False,
    threads: int | None = None,
    prompt: str | None = None,
) -> dict:
    """Score every set with every model; returns the results document (see RESULTS_KIND).

    A model is a name (alias, folder, hub id) or an in-memory encoder (models/inmemory.py).
    `prompt` is prepended to every text a model sees (None: each model's own default, e.g. e5's
    "query: "); `threads` sets torch's CPU threads (None: torch's default). `quiet` drops the log
    lines; progress bars show whenever stderr is a terminal (afroadv.progress)."""
    from afroadv.models import default_cache, load_encoder, resolve_model
    from afroadv.models.inmemory import as_model, is_in_memory

    n_boot, seed, batch_size, threads, device = check_evaluate_options(n_boot, seed, batch_size, threads, device)
    prompt = check_prompt(prompt)
    if not sets:
        raise AfroadvError("nothing to evaluate: give --lang and --recipe, or --sets")
    if not models:
        raise AfroadvError("no model given")
    models = [as_model(m, prompt=prompt, batch_size=batch_size) for m in models]
    names = _model_names(models)
    resolved = [None if is_in_memory(m) else resolve_model(m, kind=kind, trust_remote_code=trust_remote_code,
                                                           allow_pickle=allow_pickle)
                for m in models]  # fail fast: also refuses a folder's code or pickle weights before anything loads
    cache = default_cache()
    groups: dict[tuple, list[EvalSet]] = OrderedDict()
    for s in sets:
        groups.setdefault(s.key, []).append(s)
    results, model_info = [], []
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    start = time.perf_counter()
    for name, model, rm in zip(names, models, resolved):
        if rm is None:
            encoder = model
        else:
            encoder = load_encoder(rm, kind=kind, batch_size=batch_size, device=device, prefix=prompt)
        scorer = _Scorer(encoder)
        hits0, misses0 = cache.hits, cache.misses
        t0 = time.perf_counter()
        if not quiet:
            _say(scorer.plan(sets, name))
        if hasattr(encoder, "progress_label"):  # afroadv's encoders: a bar over what is really computed (terminal only)
            encoder.progress_label = f"[{name}]"
        scorer.prefetch(sets)
        params = encoder.params if rm is None else _model_params(encoder, rm)
        identity = (rm or encoder).identity()
        for (lang, dataset, task), group in groups.items():
            base = {"model": name, **identity, "model_params": params, "lang": lang, "dataset": dataset, "task": task}
            fn = {"sts": _sts_rows, "bitext": _bitext_rows, "invariance": _invariance_rows}.get(task)
            if fn is None:
                raise AfroadvError(f"unknown task {task!r} in set {dataset}")
            results.extend(fn(scorer, group, base, n_boot, seed))
        info = {"model": name, **identity, "fingerprint": encoder.fingerprint, "params": params,
                "kind": encoder.kind if rm is None else rm.kind, "prompt": encoder.prefix,
                "seconds": round(time.perf_counter() - t0, 2), "texts_encoded": getattr(encoder, "texts_encoded", None),
                "cache": None if encoder.cache is None else {"hits": cache.hits - hits0, "misses": cache.misses - misses0}}
        if rm is None:
            info["in_memory"] = encoder.description
        model_info.append(info)
    manifest = {
        "afroadv_version": __version__,
        "seed": seed,
        "bootstrap": {"n": n_boot, "ci": 0.95, "paired": True},
        "models": model_info,
        "sets": [{"lang": s.lang, "dataset": s.dataset, "task": s.task, "recipe": s.recipe, "n": len(s.ids), **s.provenance}
                 for s in sets],
        "seconds": round(time.perf_counter() - start, 2),
    }
    return {"afroadv_version": __version__, "kind": RESULTS_KIND, "results": results, "manifest": manifest}


def write_results(out: Path, doc: dict) -> None:
    """The results document as strict JSON (a NaN correlation is written as null with a note)."""
    write_text_atomic(Path(out), dumps_json(doc, indent=2) + "\n")


def _validation_cell(r: dict) -> str:
    """`valid 96%` (reviewers' label-preserved rate), `valid –` when the set was never reviewed; `!` flags a
    drop from a generator that changes meaning too often to measure robustness."""
    v = r.get("validation")
    rate = (v or {}).get("label_preserved")
    return f"  valid {'–' if rate is None else f'{100 * rate:.0f}%'}" + ("!" if untrustworthy(v) else "")


def format_table(doc: dict) -> str:
    """A plain-text table of the results for the terminal."""
    lines = []
    for r in doc["results"]:
        if r["task"] == "sts":
            val = f"spearman {r['spearman']:6.2f}"
        elif r["task"] == "bitext":
            val = f"accuracy {r['accuracy']:6.2f}"
        else:
            val = f"margin   {r['margin']:6.3f} [{r['margin_ci'][0]:.3f}, {r['margin_ci'][1]:.3f}]"
        drop = f"  drop {r['drop']:6.2f} [{r['drop_ci'][0]:6.2f}, {r['drop_ci'][1]:6.2f}]" if "drop" in r else ""
        valid = _validation_cell(r) if r["recipe"] != "clean" else ""
        lines.append(f"{r['model']:<14} {r['lang']:<4} {r['dataset']:<8} {r['recipe']:<12} n={r['n']:<5} {val}{drop}{valid}")
    if any(untrustworthy(r.get("validation")) for r in doc["results"]):
        lines.append(f"! reviewers found the gold score preserved in under {100 * LABEL_PRESERVED_MIN:.0f}% of the set's "
                     "perturbed pairs: its drop mixes lost robustness with changed meaning (docs/validation.md)")
    return "\n".join(lines)
