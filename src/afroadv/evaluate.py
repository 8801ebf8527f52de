"""Evaluation: score clean and perturbed sets with one or more encoders and report the drop with a
paired bootstrap CI — Spearman/Pearson for gold-scored STS, Spearman against the level for ordinal
out-of-domain sets, retrieval accuracy@1 for bitext, and for unlabelled (invariance) text the
calibrated invariance (0–100) and self-retrieval accuracy@1, each beside a `wordswap` control that
changes as many words as the recipe did.

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
from afroadv.data.catalog import LoadedDataset
from afroadv.data.pairs import Pair
from afroadv.data.sets import read_set_records
from afroadv.data.writers import dumps_json, manifest_path, read_set_manifest, write_text_atomic
from afroadv.errors import AfroadvError
from afroadv.options import (check_count, check_device, check_dir_margin, check_limit, check_prompt, check_seed,
                             check_seeds)
from afroadv.generate import COLUMNS, dataset_perturber, pairs_sha256, perturb_pairs
from afroadv.langs import Language, find_language
from afroadv.learned import language_and_dataset, language_for_texts
from afroadv.metrics import (
    MIN_BOOTSTRAP,
    N_BOOTSTRAP,
    accuracy_drop_ci,
    invariance_ci,
    invariance_score,
    mean_ci,
    mean_cos_to_others,
    metric_ci,
    paired_drop_ci,
    pearson,
    pool_retrieval_hits,
    retrieval_hits,
    spearman,
)
from afroadv.perturb.recipe import load_recipe
from afroadv.validate.registry import LABEL_PRESERVED_MIN, lookup_validation, row_validation, untrustworthy

RESULTS_KIND = "evaluation-results"
CONTROL_RECIPE = "wordswap"  # the meaning-destroying control shown beside every invariance recipe
RETRIEVAL_K = 100  # candidates a perturbed sentence is retrieved among (its original + K − 1 others)


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
    word_rate: float | None = None  # words changed / words, over the whole set (None: the set has no counts)
    n_words: int = 0  # words of the sentences the recipe touched (the word_rate's denominator)
    control: "EvalSet | None" = None  # invariance sets: the wordswap control at this set's word_rate
    expect: str = "same"  # the recipe's: same (invariance, a drop) or decrease (directional, a pass rate)
    changed: list[bool] = field(default_factory=list)  # per pair: did the recipe change it (directional: eligible)
    draws: list["EvalSet"] = field(default_factory=list)  # `--seeds`: this set drawn once per seed (pooled), else empty

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.lang, self.dataset, self.task)

    @property
    def seeds(self) -> list[int] | None:
        """The seeds of a pooled set's draws (None: one draw)."""
        return [d.provenance["seed"] for d in self.draws] if self.draws else None


def pooled_set(draws: list[EvalSet]) -> EvalSet:
    """One set drawn under several seeds: the first draw's clean pairs and identity, with every draw kept."""
    from dataclasses import replace

    return replace(draws[0], draws=list(draws))


def _from_records(records: list[dict], lang: str, dataset: str, provenance: dict, expect: str = "same") -> EvalSet:
    n = len(records)
    counted = all("n_words" in r and "n_changed" in r for r in records)
    words = sum(r["n_words"] for r in records) if counted else 0
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
        word_rate=sum(r["n_changed"] for r in records) / words if words else None,
        n_words=words,
        expect=expect,
        changed=[bool(r["changed"]) for r in records],
    )


def expand_recipes(language: Language, recipes: list[str]) -> list[str]:
    """`all` → every invariance recipe (`expect: same`) the language supports (recipes_for, which
    knows languages learned from a dataset too, as generate's suites do); other names stay as given."""
    if recipes != ["all"]:
        return recipes
    from afroadv.perturb.recipe import recipes_for

    return [r.name for r in recipes_for(language)]


def build_sets(lang: str, recipes: list[str], dataset: str | None, split: str, seed: int | list[int], limit: int | None,
               script: str | None = None) -> list[EvalSet]:
    """Generate each recipe's set in memory from the same clean pairs (a language outside the registry
    is learned from the dataset first, as `generate` does). A list of seeds (`--seeds`) draws each set
    once per seed and returns it pooled (`pooled_set`)."""
    seeds, limit = (check_seeds(seed) if isinstance(seed, (list, tuple)) else None), check_limit(limit)
    seed = seeds[0] if seeds else check_seed(seed)
    found = find_language(lang)
    if found is not None:  # a registered language: refuse a bad recipe before the dataset loads
        for r in expand_recipes(found, recipes):
            load_recipe(r).perturber(found, set_texts=())
    language, ds = language_and_dataset(lang, dataset, split, script)
    loaded = [load_recipe(r) for r in expand_recipes(language, recipes)]
    for r in loaded:
        if found is None:  # (learned from the dataset: only now can its recipes be checked)
            r.perturber(language, set_texts=())
        if ds.pairs:
            r.check_task(ds.pairs[0].task, ds.name)
    perturbers = [dataset_perturber(r, language, ds) for r in loaded]
    pairs = ds.pairs[:limit] if limit else ds.pairs
    sets = []
    for p in perturbers:
        draws = []
        for one_seed in seeds or [seed]:
            records = perturb_pairs(p, pairs, one_seed)
            provenance = {
                "recipe": p.recipe.name,
                "parameters": p.recipe.params(),
                "lexicons": p.resource_versions,
                "seed": one_seed,
                "input_sha256": pairs_sha256(pairs),
                "split": ds.split,
            }
            if language.learned:
                provenance["language_profile"] = language.learned.summary()
            s = _from_records(records, language.code, ds.name, provenance, p.recipe.expect)
            s.validation = row_validation(lookup_validation(_generator_manifest(s))) if not draws else draws[0].validation
            add_control(s, language, ds, pairs, one_seed)
            draws.append(s)
        sets.append(pooled_set(draws) if seeds else draws[0])
    return sets


def add_control(s: EvalSet, language: Language, ds, pairs: list, seed: int) -> None:
    """Beside an invariance set, the `wordswap` control on the same sentences, replacing as many words
    as the recipe changed: its rate (a share of the words wordswap may rewrite) is the recipe's changed
    words over wordswap's rewritable words, so the two change the same share of the text. The recipe's
    nominal rate would not do: it is a share of the words *that recipe* may rewrite (diacritics' 1.0
    rewrites only marked words). A recipe that changed no word gets no control."""
    if s.task != "invariance" or s.recipe == CONTROL_RECIPE or not s.word_rate:
        return
    recipe = load_recipe(CONTROL_RECIPE)
    counter = dataset_perturber(recipe, language, ds)
    sites = sum(counter.n_sites(p.sentence1) for p in pairs)
    if not sites:
        return
    rate = round(min(1.0, s.word_rate * s.n_words / sites), 6)
    perturber = dataset_perturber(recipe, language, ds, rate=rate)
    records = perturb_pairs(perturber, pairs, seed)
    s.control = _from_records(records, s.lang, s.dataset, {"recipe": CONTROL_RECIPE, "parameters": perturber.recipe.params(),
                                                          "seed": seed})
    s.provenance["control"] = s.control.provenance


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
        expect = (manifest.get("recipe") or {}).get("expect", "same")
        if expect not in ("same", "decrease"):
            raise AfroadvError(f"{manifest_path(path)}: recipe expect must be same or decrease, got {expect!r}")
        if "language_profile" in manifest:  # a language outside the registry, learned from the dataset
            provenance["language_profile"] = manifest["language_profile"]
        s = _from_records(records, records[0]["lang"], Path(str(dataset)).name, provenance, expect)
        s.validation = _set_validation(path, manifest)
        if s.task == "invariance":  # the control is drawn on the set's own originals, under the set's seed
            pairs = [Pair(r["source_id"], r["lang"], r["task"], r["orig_sentence1"], r["orig_sentence2"]) for r in records]
            seed = manifest.get("seed") if isinstance(manifest.get("seed"), int) else records[0]["seed"]
            script = (manifest.get("language_profile") or {}).get("script")
            language = language_for_texts(s.lang, [p.sentence1 for p in pairs], script, str(path))
            add_control(s, language, LoadedDataset(s.dataset, "test", pairs, (path,), None), pairs, seed)
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
        """The unique texts (bi) or pairs (cross) the sets (and their controls) need, in first-seen order."""
        sets = [x for s in sets for d in (s.draws or [s]) for x in (d, d.control) if x is not None]
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


POOL_KEEP = ("recipe", "expect", "validation", "dir_margin", "retrieval_k", "n_pairs")  # a set's, not a draw's


def _draw_mean(values: list):
    """A measure without a pooled CI of its own: its mean over the draws that define it (per key for a
    mapping such as `mean_score_by_level`)."""
    if all(isinstance(v, dict) for v in values):
        return {k: _draw_mean([v.get(k) for v in values]) for k in values[0]}
    nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return _r(np.mean(nums)) if nums else values[0]


def _set_row(s: EvalSet, base: dict, seed: int, one, pool) -> dict:
    """One set's row. `one(draw, seed)` → (the draw's row, what pooling needs). A set drawn once gets
    that row (bootstrap seeded by `seed`). A pooled set (`--seeds`) gets one row: the measures that
    carry a CI from `pool(data, seeds[0])` — pooled over pairs × draws (metrics.py) — every other
    number the mean over draws, `seeds`, and `per_seed`: each draw's own row (bootstrapped under its
    own seed, as `--seed` gives it), less the set's identity."""
    if not s.draws:
        return one(s, seed)[0]
    drawn = [one(d, d.provenance["seed"]) for d in s.draws]
    rows = [r for r, _ in drawn]
    pooled = pool([x for _, x in drawn], s.seeds[0])
    assert all(k in pooled for k in rows[0] if k.endswith("_ci")), "every CI of a pooled row is pooled"
    keep = (*base, *POOL_KEEP)
    row = {k: pooled[k] if k in pooled else v if k in keep else _draw_mean([r[k] for r in rows]) for k, v in rows[0].items()}
    row["seeds"] = s.seeds
    row["per_seed"] = {str(sd): {k: v for k, v in r.items() if k not in keep} for sd, r in zip(s.seeds, rows)}
    return row


def _sts_rows(scorer, sets, base, n_boot, seed, **_):
    """Gold STS, and ordinal sets (levels 2/1/0): Spearman against the gold; Pearson only for STS
    scores (an ordinal level has no interval scale)."""
    rows = []
    ref = max(sets, key=lambda s: len(s.ids))
    gold = np.array(ref.scores, float)
    clean_pred = scorer.pair_scores(ref.clean)
    linear = base["task"] == "sts"
    rows.append({**base, "recipe": "clean", "n": len(gold), "spearman": _r(spearman(gold, clean_pred)),
                 **({"pearson": _r(pearson(gold, clean_pred))} if linear else _by_level(gold, clean_pred)),
                 "spearman_ci": _ci(metric_ci(gold, clean_pred, n_boot=n_boot, seed=seed))})
    for s in sets:
        g = np.array(s.scores, float)
        c = scorer.pair_scores(s.clean)

        def one(d, sd):
            p = scorer.pair_scores(d.perturbed)
            drop, ci = paired_drop_ci(g, c, p, "spearman", n_boot=n_boot, seed=sd)
            return {**base, "recipe": d.recipe, "n": len(g), "spearman": _r(spearman(g, p)),
                    **({"pearson": _r(pearson(g, p))} if linear else _by_level(g, p)),
                    "spearman_ci": _ci(metric_ci(g, p, n_boot=n_boot, seed=sd)), "clean_spearman": _r(spearman(g, c)),
                    "drop": _r(drop), "drop_ci": _ci(ci),
                    **({"pearson_drop": _r(pearson(g, c) - pearson(g, p))} if linear else {}),
                    "edit_rate": _r(d.edit_rate), "changed_share": _r(d.changed_share), "validation": d.validation}, p

        def pool(ps, sd):
            drop, ci = paired_drop_ci(g, c, np.stack(ps), "spearman", n_boot=n_boot, seed=sd)
            return {"n": len(g), "spearman_ci": _ci(metric_ci(g, np.stack(ps), n_boot=n_boot, seed=sd)),
                    "drop": _r(drop), "drop_ci": _ci(ci)}

        rows.append(_set_row(s, base, seed, one, pool))
    return rows


def _by_level(levels: np.ndarray, pred: np.ndarray) -> dict:
    """Ordinal rows: the mean predicted similarity at each level (highest first), to show how they separate."""
    return {"mean_score_by_level": {f"{lv:g}": _r(pred[levels == lv].mean()) for lv in sorted(set(levels.tolist()), reverse=True)}}


def _bitext_rows(scorer, sets, base, n_boot, seed, **_):
    if not scorer.bi:
        raise AfroadvError("bitext retrieval needs a bi-encoder (a cross-encoder cannot embed sentences)")
    ref = max(sets, key=lambda s: len(s.ids))
    clean = _hits(scorer, ref.clean)
    rows = [{**base, "recipe": "clean", "n": len(clean), "accuracy": _r(100 * clean.mean()),
             "accuracy_ci": _ci(mean_ci(100 * clean, n_boot, seed))}]
    for s in sets:
        c = _hits(scorer, s.clean)

        def one(d, sd):
            p = _hits(scorer, d.perturbed)
            drop, ci = accuracy_drop_ci(c, p, n_boot=n_boot, seed=sd)
            return {**base, "recipe": d.recipe, "n": len(p), "accuracy": _r(100 * p.mean()),
                    "accuracy_ci": _ci(mean_ci(100 * p, n_boot, sd)),
                    "clean_accuracy": _r(100 * c.mean()), "drop": _r(drop), "drop_ci": _ci(ci),
                    "edit_rate": _r(d.edit_rate), "changed_share": _r(d.changed_share), "validation": d.validation}, p

        def pool(ps, sd):
            drop, ci = accuracy_drop_ci(c, np.stack(ps), n_boot=n_boot, seed=sd)
            return {"n": len(c), "accuracy_ci": _ci(mean_ci(100 * np.stack(ps), n_boot, sd)), "drop": _r(drop),
                    "drop_ci": _ci(ci)}

        rows.append(_set_row(s, base, seed, one, pool))
    return rows


def _random_cos(scorer, originals: list[str], seed: int) -> np.ndarray:
    """Per original: its random-pair cosine. A bi-encoder: the mean cosine to every other original of
    the set (exact); a cross-encoder (n² pairs are too many): the score with one seeded random partner."""
    n = len(originals)
    if scorer.bi:
        return mean_cos_to_others(scorer.emb(originals))
    perm = np.random.default_rng(seed).permutation(n)
    perm = np.where(perm == np.arange(n), (perm + 1) % n, perm)  # never a sentence with itself
    return scorer.pair_scores([(originals[i], originals[j]) for i, j in enumerate(perm)])


def _invariance_arrays(scorer, s: EvalSet, seed: int, k: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Per sentence: the cosine of its perturbed copy to it, and (bi-encoders) its self-retrieval hit ×100."""
    originals = [c[0] for c in s.clean]
    self_cos = scorer.pair_scores([(p[0], o) for p, o in zip(s.perturbed, originals)])
    if not scorer.bi:
        return self_cos, None
    return self_cos, 100 * pool_retrieval_hits(scorer.emb([p[0] for p in s.perturbed]), scorer.emb(originals), k, seed)


def _invariance_measures(scorer, s: EvalSet, rand_cos: np.ndarray, n_boot: int, seed: int, k: int) -> dict:
    """Calibrated invariance with its CI, and self-retrieval accuracy@1 among k originals with its CI
    (null for a cross-encoder, which cannot embed)."""
    return _measures_of(*_invariance_arrays(scorer, s, seed, k), rand_cos, n_boot, seed)


def _measures_of(self_cos: np.ndarray, hits: np.ndarray | None, rand_cos: np.ndarray, n_boot: int, seed: int) -> dict:
    inv, ci = invariance_score(self_cos, rand_cos), invariance_ci(self_cos, rand_cos, n_boot, seed)
    out = {"invariance": None if inv is None else _r(inv), "invariance_ci": None if ci is None else _ci(ci),
           "mean_cos_self": _r(self_cos.mean())}
    if hits is not None:
        out.update(retrieval_at1=_r(hits.mean()), retrieval_at1_ci=_ci(mean_ci(hits, n_boot, seed)))
    else:
        out.update(retrieval_at1=None, retrieval_at1_ci=None)
    return out


def _pooled_invariance(arrays: list[tuple], rand: list[np.ndarray], n_boot: int, seed: int) -> dict:
    """Invariance and retrieval@1 CIs over sentences × draws, from each draw's (self cosines, hits)
    and its own random-pair cosines."""
    ci = invariance_ci(np.stack([a for a, _ in arrays]), np.stack(rand), n_boot, seed)
    hits = None if arrays[0][1] is None else mean_ci(np.stack([h for _, h in arrays]), n_boot, seed)
    return {"invariance_ci": None if ci is None else _ci(ci), "retrieval_at1_ci": None if hits is None else _ci(hits)}


def _invariance_rows(scorer, sets, base, n_boot, seed, retrieval_k: int = RETRIEVAL_K):
    """Per recipe: invariance and retrieval@1 (raw cosine means kept), and the same for its wordswap control
    (pooled: the control's measures pooled over the draws when every draw has a control, else none)."""
    rows = []
    for s in sets:
        n = len(s.ids)
        if n < 2:
            raise AfroadvError(f"invariance set {s.dataset}/{s.recipe} needs at least 2 sentences")

        def one(d, sd):
            rand_cos = _random_cos(scorer, [c[0] for c in d.clean], sd)
            arrays = _invariance_arrays(scorer, d, sd, retrieval_k)
            m = _measures_of(*arrays, rand_cos, n_boot, sd)
            control = control_arrays = None
            if d.control is not None:
                control_arrays = _invariance_arrays(scorer, d.control, sd, retrieval_k)
                cm = _measures_of(*control_arrays, rand_cos, n_boot, sd)
                control = {"recipe": d.control.recipe, "rate": _r(d.control.provenance["parameters"]["rate"]),
                           "word_rate": None if d.control.word_rate is None else _r(d.control.word_rate),
                           **{key: cm[key] for key in ("invariance", "invariance_ci", "retrieval_at1", "retrieval_at1_ci")}}
            row = {**base, "recipe": d.recipe, "n": n, **m, "mean_cos_random": _r(rand_cos.mean()),
                   "retrieval_k": min(retrieval_k, n), "control": control,
                   "word_rate": None if d.word_rate is None else _r(d.word_rate),
                   "edit_rate": _r(d.edit_rate), "changed_share": _r(d.changed_share), "validation": d.validation}
            return row, (rand_cos, arrays, control, control_arrays)

        def pool(data, sd):
            rand = [r for r, _, _, _ in data]
            out = {"n": n, **_pooled_invariance([a for _, a, _, _ in data], rand, n_boot, sd), "control": None}
            controls = [c for _, _, c, _ in data]
            if all(c is not None for c in controls):
                out["control"] = {**{key: _draw_mean([c[key] for c in controls]) for key in controls[0]},
                                  **_pooled_invariance([ca for _, _, _, ca in data], rand, n_boot, sd)}
            return out

        rows.append(_set_row(s, base, seed, one, pool))
    return rows


def directional_pass(clean: np.ndarray, perturbed: np.ndarray, margin: float) -> np.ndarray:
    """Per pair: did the predicted similarity fall, by at least `margin` (a pair that did not move fails)?"""
    fall = clean - perturbed
    return (fall > 0) & (fall >= margin)


def _directional_rows(scorer, sets, base, n_boot, seed, margin):
    """A directional (`expect: decrease`) set: the share of the pairs the recipe changed whose
    predicted similarity fell by at least `margin`, with a bootstrap CI over those pairs (STS and
    bitext alike: a bitext pair's similarity is its sentence's with its translation). Pooled draws may
    change different pairs: the CI resamples the pairs any draw changed (`n`), each draw's rate over
    the pairs it changed; a draw that changed none is left out of the pooled rate."""
    rows = []
    for s in sets:

        def one(d, sd):
            eligible = [i for i, c in enumerate(d.changed) if c]
            row = {**base, "recipe": d.recipe, "expect": "decrease", "n": len(eligible), "n_pairs": len(d.ids),
                   "dir_margin": margin, "directional_pass_rate": None, "directional_pass_rate_ci": None,
                   "mean_similarity_drop": None, "edit_rate": _r(d.edit_rate), "changed_share": _r(d.changed_share),
                   "validation": d.validation}  # fmt: skip
            passed = np.full(len(d.ids), np.nan)
            if eligible:
                c = scorer.pair_scores([d.clean[i] for i in eligible])
                p = scorer.pair_scores([d.perturbed[i] for i in eligible])
                passed[eligible] = directional_pass(c, p, margin)
                row.update(directional_pass_rate=_r(passed[eligible].mean()), mean_similarity_drop=_r((c - p).mean()),
                           directional_pass_rate_ci=_ci(mean_ci(passed[eligible], n_boot, sd)))
            return row, passed

        def pool(passed, sd):
            v = np.stack([x for x in passed if not np.isnan(x).all()] or [passed[0]])
            union = ~np.isnan(v).all(axis=0)
            ci = mean_ci(v[:, union], n_boot, sd) if union.any() else None
            return {"n": int(union.sum()), "directional_pass_rate_ci": None if ci is None else _ci(ci)}

        rows.append(_set_row(s, base, seed, one, pool))
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


def check_evaluate_options(n_boot: int, seed: int, batch_size: int, threads: int | None, device: str | None,
                           retrieval_k: int = RETRIEVAL_K, dir_margin: float = 0.0) -> tuple:
    """evaluate's numeric options, checked (the CLI calls this before generating any set)."""
    return (check_count(n_boot, "--bootstrap", minimum=MIN_BOOTSTRAP), check_seed(seed), check_count(batch_size, "--batch-size"),
            None if threads is None else check_count(threads, "--threads"), check_device(device),
            check_count(retrieval_k, "--retrieval-k", minimum=2), check_dir_margin(dir_margin))


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
    retrieval_k: int = RETRIEVAL_K,
    dir_margin: float = 0.0,
    dtype: str | None = None,
) -> dict:
    """Score every set with every model; returns the results document (see RESULTS_KIND).

    A model is a name (alias, folder, hub id) or an in-memory encoder (models/inmemory.py).
    `prompt` is prepended to every text a model sees (None: each model's own default, e.g. e5's
    "query: "); `threads` sets torch's CPU threads (None: torch's default); `retrieval_k`: candidates
    of invariance self-retrieval. `dir_margin`: how much a directional set's pair must fall to pass.
    `dtype`: fp32 | bf16 | fp16 (None: models/precision.py picks the fastest faithful one).
    Sets drawn under several seeds (`build_sets` with a list) give pooled rows, and `seed` yields to
    their seeds (see `_set_row`). `quiet` drops the log lines; progress bars show whenever stderr is a terminal (afroadv.progress)."""
    from afroadv.models import default_cache, load_encoder, resolve_model
    from afroadv.models.registry import refuse_random_with_real
    from afroadv.models.inmemory import as_model, is_in_memory
    from afroadv.options import check_dtype

    n_boot, seed, batch_size, threads, device, retrieval_k, dir_margin = check_evaluate_options(
        n_boot, seed, batch_size, threads, device, retrieval_k, dir_margin)
    prompt = check_prompt(prompt)
    dtype = check_dtype(dtype)
    if not sets:
        raise AfroadvError("nothing to evaluate: give --lang and --recipe, or --sets")
    if not models:
        raise AfroadvError("no model given")
    seeds = pooled_seeds(sets)
    if seeds:
        seed = seeds[0]  # the pooled bootstrap's stream (each draw's own row: its own seed)
    models = [as_model(m, prompt=prompt, batch_size=batch_size) for m in models]
    names = _model_names(models)
    resolved = [None if is_in_memory(m) else resolve_model(m, kind=kind, trust_remote_code=trust_remote_code,
                                                           allow_pickle=allow_pickle)
                for m in models]  # fail fast: also refuses a folder's code or pickle weights before anything loads
    refuse_random_with_real(dict(zip(names, resolved)))
    if dtype is not None and any(rm is None for rm in resolved):
        raise AfroadvError("dtype applies to models afroadv loads; an in-memory model runs as it is (cast it yourself)")
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
            encoder = load_encoder(rm, kind=kind, batch_size=batch_size, device=device, prefix=prompt, dtype=dtype)
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
            fn = {"sts": _sts_rows, "ordinal": _sts_rows, "bitext": _bitext_rows, "invariance": _invariance_rows}.get(task)
            if fn is None:
                raise AfroadvError(f"unknown task {task!r} in set {dataset}")
            same = [s for s in group if s.expect == "same"]
            directional = [s for s in group if s.expect == "decrease"]
            if same:
                results.extend(fn(scorer, same, base, n_boot, seed, retrieval_k=retrieval_k))
            results.extend(_directional_rows(scorer, directional, base, n_boot, seed, dir_margin))
        info = {"model": name, **identity, "fingerprint": encoder.fingerprint, "params": params,
                "kind": encoder.kind if rm is None else rm.kind, "prompt": encoder.prefix,
                **({} if rm is None else {"device": encoder.device, "dtype": encoder.dtype}),
                "seconds": round(time.perf_counter() - t0, 2), "texts_encoded": getattr(encoder, "texts_encoded", None),
                "load_seconds": round(getattr(encoder, "load_seconds", 0.0), 2),
                "forward_seconds": round(getattr(encoder, "forward_seconds", 0.0), 2),
                "cache": None if encoder.cache is None else {"hits": cache.hits - hits0, "misses": cache.misses - misses0}}
        if rm is None:
            info["in_memory"] = encoder.description
        model_info.append(info)
    manifest = {
        "afroadv_version": __version__,
        **({"seeds": seeds} if seeds else {"seed": seed}),
        "bootstrap": {"n": n_boot, "ci": 0.95, "paired": True, **({"pooled": "pairs x draws", "seed": seed} if seeds else {})},
        **({"retrieval_k": retrieval_k} if any(s.task == "invariance" for s in sets) else {}),
        "dir_margin": dir_margin,
        "models": model_info,
        "sets": [_set_entry(s) for s in sets],
        "seconds": round(time.perf_counter() - start, 2),
    }
    return {"afroadv_version": __version__, "kind": RESULTS_KIND, "results": results, "manifest": manifest}


def pooled_seeds(sets: list[EvalSet]) -> list[int] | None:
    """The seeds every set of a pooled run was drawn under (None: one draw each); a run pools one list."""
    lists = {tuple(s.seeds) if s.draws else None for s in sets}
    if len(lists) > 1:
        raise AfroadvError("sets drawn once and sets pooled over seeds (or over other seeds) cannot share a run")
    only = lists.pop() if lists else None
    return list(only) if only else None


def _set_entry(s: EvalSet) -> dict:
    """A set's manifest entry; a pooled set's names its seeds instead of one, each draw's control under `per_seed`."""
    entry = {"lang": s.lang, "dataset": s.dataset, "task": s.task, "recipe": s.recipe, "expect": s.expect,
             "n": len(s.ids), **s.provenance}
    if s.draws:
        entry.pop("control", None)
        del entry["seed"]
        entry["seeds"] = s.seeds
        controls = {str(d.provenance["seed"]): {"control": d.provenance["control"]} for d in s.draws if "control" in d.provenance}
        if controls:
            entry["per_seed"] = controls
    return entry


def write_results(out: Path, doc: dict) -> None:
    """The results document as strict JSON (a NaN correlation is written as null with a note)."""
    write_text_atomic(Path(out), dumps_json(doc, indent=2) + "\n")


def _validation_cell(r: dict) -> str:
    """`valid 96%` (reviewers' label-preserved rate), `valid –` when the set was never reviewed; `!` flags a
    drop from a generator that changes meaning too often to measure robustness."""
    v = r.get("validation")
    rate = (v or {}).get("label_preserved")
    return f"  valid {'–' if rate is None else f'{100 * rate:.0f}%'}" + ("!" if untrustworthy(v) else "")


def _num(v, width: int = 5, digits: int = 1) -> str:
    return "n/a".rjust(width) if v is None else f"{v:{width}.{digits}f}"


def _with_ci(v, ci) -> str:
    return _num(v) + (f" [{ci[0]:.1f}, {ci[1]:.1f}]" if ci else "")


def format_table(doc: dict) -> str:
    """A plain-text table of the results for the terminal."""
    lines = []
    seeds = doc.get("manifest", {}).get("seeds")
    if seeds:
        lines.append(f"pooled over seeds {','.join(map(str, seeds))}: each value is the mean over the draws, each CI over "
                     "pairs x draws (per_seed in the results file holds each seed's own)")
    for r in doc["results"]:
        if r.get("expect") == "decrease":
            rate, ci = r["directional_pass_rate"], r["directional_pass_rate_ci"]
            val = "pass     –" if rate is None else f"pass {100 * rate:5.1f}% [{100 * ci[0]:5.1f}, {100 * ci[1]:5.1f}]"
            lines.append(f"{r['model']:<14} {r['lang']:<4} {r['dataset']:<8} {r['recipe']:<12} n={r['n']:<5} {val}"
                         f"  (similarity should fall by ≥ {r['dir_margin']:g})")
            continue
        if r["task"] in ("sts", "ordinal"):
            val = f"spearman {_num(r['spearman'], 6, 2)}"
        elif r["task"] == "bitext":
            val = f"accuracy {r['accuracy']:6.2f}"
        else:
            words = "" if r["word_rate"] is None else f" ({100 * r['word_rate']:.1f}% of words)"
            val = f"invariance {_with_ci(r['invariance'], r['invariance_ci'])}{words}  R@1 {_with_ci(r['retrieval_at1'], r['retrieval_at1_ci'])}"
            c = r.get("control")
            if c:
                words = "" if c["word_rate"] is None else f" ({100 * c['word_rate']:.1f}% of words)"
                val += f"  | {c['recipe']}{words}: invariance {_with_ci(c['invariance'], c['invariance_ci'])}"
        drop = f"  drop {r['drop']:6.2f} [{r['drop_ci'][0]:6.2f}, {r['drop_ci'][1]:6.2f}]" if "drop" in r else ""
        valid = _validation_cell(r) if r["recipe"] != "clean" else ""
        lines.append(f"{r['model']:<14} {r['lang']:<4} {r['dataset']:<8} {r['recipe']:<12} n={r['n']:<5} {val}{drop}{valid}")
    if any(untrustworthy(r.get("validation")) for r in doc["results"]):
        lines.append(f"! reviewers found the gold score preserved in under {100 * LABEL_PRESERVED_MIN:.0f}% of the set's "
                     "perturbed pairs: its drop mixes lost robustness with changed meaning (docs/validation.md)")
    return "\n".join(lines)
