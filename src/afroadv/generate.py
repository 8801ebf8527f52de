"""Generation: a dataset × a recipe × a seed → perturbed Pair records + a manifest that reproduces them."""

from __future__ import annotations

import gc
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from afroadv import __version__
from afroadv.data.catalog import LoadedDataset
from afroadv.data.pairs import Pair
from afroadv.data.writers import check_set_destination, write_set_files
from afroadv.errors import AfroadvError
from afroadv.options import check_float, check_limit, check_seed
from afroadv.langs import Language, find_language
from afroadv.learned import language_and_dataset
from afroadv.perturb.recipe import Perturber, Recipe, load_recipe
from afroadv.words import TextContext
from afroadv.resources import sha256_file

COLUMNS = [
    "id", "source_id", "lang", "task", "recipe", "sentence1", "sentence2", "score",
    "orig_sentence1", "orig_sentence2", "changed", "edit_rate", "seed",
]  # fmt: skip  (every set has these; evaluate needs no more)
COUNT_COLUMNS = ["n_words", "n_eligible", "n_changed"]  # words in the touched sentences, rewritable, rewritten


def pairs_sha256(pairs: list[Pair]) -> str:
    """A fingerprint of the input pairs themselves (independent of file layout)."""
    h = hashlib.sha256()
    for p in pairs:
        h.update(json.dumps(p.to_dict(), ensure_ascii=False, sort_keys=True).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


@dataclass
class GeneratedSet:
    """A generated set in memory: its records (one per input pair) and the manifest that reproduces them."""

    records: list[dict]
    manifest: dict

    def __len__(self) -> int:
        return len(self.records)

    def save(self, path: str | Path) -> Path:
        """Write the set (.jsonl or .parquet) and its manifest as one unit, as `afroadv generate --out` does;
        returns the manifest's path."""
        return write_set(check_set_destination(Path(path)), self)

    def to_hf(self):
        """The records as a `datasets.Dataset` with fixed column types (`score` is float64 even when a
        bitext set has no scores, so sets concatenate)."""
        from afroadv.data.sets import to_hf_dataset

        try:
            import datasets  # noqa: F401
        except ImportError:
            raise AfroadvError("to_hf() needs the datasets package: pip install datasets") from None
        return to_hf_dataset(self.records, COLUMNS + COUNT_COLUMNS)


def perturb_pairs(perturber: Perturber, pairs: list[Pair], seed: int, progress: bool = False) -> list[dict]:
    """One record per pair; each pair draws from its own stream, so any subset or order gives the same records."""
    recipe, records = perturber.recipe.name, []
    append = records.append
    batch = 8192  # bounds the memory of one kernel call; results do not depend on it
    from afroadv.progress import Bar

    bar = Bar(f"{recipe} {perturber.lang.code}", len(pairs), enabled=progress and len(pairs) > batch).start()
    gc_was_enabled = gc.isenabled()
    gc.disable()  # records hold no cycles; collecting while building them costs ~10 %
    try:
        for lo in range(0, len(pairs), batch):
            chunk = pairs[lo : lo + batch]
            for pair, (r1, r2) in zip(chunk, perturber.perturb_batch(chunk, seed)):
                s1, s2 = pair.sentence1, pair.sentence2
                n_words = n_eligible = n_changed = 0
                if r1 is not None:
                    s1, n_words, n_eligible, n_changed = r1
                if r2 is not None:
                    s2, n_words, n_eligible, n_changed = r2[0], n_words + r2[1], n_eligible + r2[2], n_changed + r2[3]
                append({
                    "id": f"{pair.id}/{recipe}/{seed}",
                    "source_id": pair.id,
                    "lang": pair.lang,
                    "task": pair.task,
                    "recipe": recipe,
                    "sentence1": s1,
                    "sentence2": s2,
                    "score": pair.score,
                    "orig_sentence1": pair.sentence1,
                    "orig_sentence2": pair.sentence2,
                    "changed": s1 != pair.sentence1 or s2 != pair.sentence2,
                    "edit_rate": round(n_changed / n_words, 6) if n_words else 0.0,
                    "seed": seed,
                    "n_words": n_words,
                    "n_eligible": n_eligible,
                    "n_changed": n_changed,
                })  # fmt: skip
            bar.advance(len(chunk))
    finally:
        if gc_was_enabled:
            gc.enable()
        bar.close()
    return records


def rate_stats(records: list[dict], nominal: float) -> dict:
    """What a set really changed: the realised rate is the share of rewritable words rewritten
    (over every touched sentence), to be read against the recipe's nominal rate."""
    n = len(records)
    n_changed = sum(r["changed"] for r in records)
    eligible = sum(r.get("n_eligible", 0) for r in records)
    words = sum(r.get("n_changed", 0) for r in records)
    return {
        "n": n,
        "n_changed": n_changed,
        "changed_share": round(n_changed / n, 6) if n else 0.0,
        "mean_edit_rate": round(sum(r["edit_rate"] for r in records) / n, 6) if n else 0.0,
        "nominal_rate": nominal,
        "realised_rate": round(words / eligible, 6) if eligible else None,
        "n_eligible_words": eligible,
        "n_changed_words": words,
        "no_eligible_share": round(sum(r.get("n_eligible", 0) == 0 for r in records) / n, 6) if n else 0.0,
    }


def pair_stats(records: list[dict], min_gold_score: float | None) -> dict:
    """A directional set's eligible pairs: those the pair rules let the recipe change (gold at least
    `min_gold_score` — None for a set without gold — for a scored STS pair; a site the other side
    shares for numswap / entityswap) and where it found something to change. `n_changed` of them
    were changed (the results' `n`)."""
    n = len(records)
    eligible = sum(r.get("n_eligible", 0) > 0 for r in records)
    return {"n_eligible_pairs": eligible, "eligible_pair_share": round(eligible / n, 6) if n else 0.0,
            "min_gold_score": min_gold_score}


def _manifest(ds: LoadedDataset, perturber: Perturber, seed: int, records: list[dict], limit: int | None) -> dict:
    recipe = perturber.recipe
    learned = {"language_profile": perturber.lang.learned.summary()} if perturber.lang.learned else {}
    min_gold_score = perturber.min_gold_score if ds.score_scale else None
    pairs = pair_stats(records, min_gold_score) if recipe.expect == "decrease" else {}
    return {
        "afroadv_version": __version__,
        "kind": "generated-set",
        "lang": perturber.lang.code,
        **learned,
        "task": records[0]["task"] if records else None,
        "recipe": {"name": recipe.name, "description": recipe.description, "expect": recipe.expect,
                   "parameters": recipe.params()},
        "seed": seed,
        "dataset": {
            "name": ds.name,
            "split": ds.split,
            "limit": limit,
            "score_scale": list(ds.score_scale) if ds.score_scale else None,
            "files": [{"name": Path(f).name, "sha256": sha256_file(Path(f))} for f in ds.files],
        },
        "input_sha256": pairs_sha256(ds.pairs[:limit] if limit else ds.pairs),
        "lexicons": perturber.resource_versions,
        "dataset_words": _context_summary(perturber),
        "stats": {**rate_stats(records, recipe.rate), **pairs},
        "columns": COLUMNS + COUNT_COLUMNS,
    }


def _context_summary(perturber: Perturber) -> dict | None:
    c = perturber.context
    return None if c is None else {"names": len(c.names), "common": len(c.common), "version": c.version}


def dataset_perturber(recipe: Recipe, language: Language, ds: LoadedDataset, rate: float | None = None,
                      sides: str | None = None) -> Perturber:
    """The recipe bound to the language and to what the dataset shows about its words (and, for a
    recipe drawing from the set, to the set's own words; for `min_gold`, to its gold scale)."""
    texts = ds.own_texts()  # (every text in the language, whatever the limit)
    return recipe.perturber(language, rate=rate, sides=sides, context=TextContext.learn(texts), set_texts=texts,
                            score_scale=ds.score_scale)


def check_rate(rate: float | None) -> float | None:
    """`--rate`: None (the recipe's) or a share of eligible words in (0, 1]."""
    if rate is not None and check_float(rate, "--rate", low=0.0, high=1.0) == 0:
        raise AfroadvError("--rate 0 changes nothing; give a share of words in (0, 1]")
    return rate


def generate(
    lang: str,
    recipe: str,
    dataset: str | None = None,
    split: str = "test",
    seed: int = 0,
    rate: float | None = None,
    sides: str | None = None,
    limit: int | None = None,
    progress: bool = False,
    script: str | None = None,
) -> GeneratedSet:
    """A dataset perturbed by a recipe under a seed: the records and the manifest that reproduces them.
    A language outside the registry is learned from the dataset (`script` forces its script)."""
    seed, limit, rate = check_seed(seed), check_limit(limit), check_rate(rate)
    rec = load_recipe(recipe)
    found = find_language(lang)
    if found is not None:
        rec.perturber(found, rate=rate, sides=sides, set_texts=())  # refuse a bad recipe, language or option before any work
    language, ds = language_and_dataset(lang, dataset, split, script)
    if ds.pairs:
        rec.check_task(ds.pairs[0].task, ds.name)
    perturber = dataset_perturber(rec, language, ds, rate=rate, sides=sides)
    pairs = ds.pairs[:limit] if limit else ds.pairs
    records = perturb_pairs(perturber, pairs, seed, progress)
    return GeneratedSet(records, _manifest(ds, perturber, seed, records, limit))


def write_set(out: Path, gs: GeneratedSet) -> Path:
    """The set and its manifest, written as one unit (data/writers.py: write_set_files)."""
    return write_set_files(Path(out), gs.records, COLUMNS + COUNT_COLUMNS, gs.manifest)
