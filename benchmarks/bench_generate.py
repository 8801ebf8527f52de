"""Generation throughput: afroadv recipes vs nlpaug's RandomCharAug and TextAttack's CharSwapAugmenter,
measured in one run on the same SemRel pairs, one core.

    python benchmarks/bench_generate.py [--lang hau] [--rounds 7]

Prints pairs/s per recipe — "first pass" (a fresh perturber: every word judged for the first time,
what one `afroadv generate` does) and "repeat passes" (other seeds over the same pairs: word and
sentence analyses are reused, as when generating several seeds, K augmented copies for training,
or sweeps) — then each peer's pairs/s and the ratios. A pair is two sentences; every tool perturbs
both. Each figure is the best of --rounds runs, for every tool alike.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core for every tool
os.environ.setdefault("MKL_NUM_THREADS", "1")


class Best:
    """The fastest of several timed runs, in pairs per second: the machine's noise (a shared 2-core
    box) only ever slows a run down, so every tool gets its best of the same number of runs."""

    def __init__(self):
        self.seconds = float("inf")
        self.pairs = 1

    def time(self, fn, pairs, r) -> None:
        start = time.perf_counter()
        fn(pairs, r)
        took = time.perf_counter() - start
        if took / len(pairs) < self.seconds / self.pairs:
            self.seconds, self.pairs = took, len(pairs)

    @property
    def rate(self) -> float:
        return self.pairs / self.seconds


def cold_perturber(recipe, lang, ds):
    """A perturber that has seen no word and no character, bound to the dataset as `afroadv generate`
    binds it (learning the dataset's names and common words is part of the pass): its own caches
    are new, and the caches shared across perturbers (letter models, the batch kernel's character
    tables) are emptied."""
    from afroadv.generate import dataset_perturber
    from afroadv.perturb import letters, vector

    letters._MODELS.clear()
    vector._TABLES = vector._CharTables()
    return dataset_perturber(recipe, lang, ds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lang", default="hau")
    ap.add_argument("--rounds", type=int, default=7, help="runs per measurement; the fastest counts")
    ap.add_argument("--peer-pairs", type=int, default=200, help="pairs given to the (slower) peers")
    args = ap.parse_args()

    import numpy  # noqa: F401  (imported by the first batch otherwise: not part of any pass)

    from afroadv.data.catalog import load_dataset
    from afroadv.generate import perturb_pairs
    from afroadv.langs import get_language
    from afroadv.perturb import list_recipes

    lang = get_language(args.lang)
    ds = load_dataset(lang)
    pairs = ds.pairs
    words = sum(len(p.sentence1.split()) + len(p.sentence2.split()) for p in pairs) / len(pairs)
    print(f"{lang.code}: {len(pairs)} SemRel pairs, {words:.1f} words per pair; python {sys.version.split()[0]}; "
          f"best of {args.rounds} runs each")
    import nlpaug.augmenter.char as nac

    from afroadv.attack.ta_env import import_textattack

    import_textattack()
    from textattack.augmentation import CharSwapAugmenter

    aug = nac.RandomCharAug(action="substitute", aug_word_p=0.15, include_numeric=False)
    ta = CharSwapAugmenter(pct_words_to_swap=0.15, transformations_per_example=1)

    def run_nlpaug(ps, r):
        random.seed(r)
        for p in ps:
            aug.augment(p.sentence1)
            aug.augment(p.sentence2)

    def run_textattack(ps, r):
        random.seed(r)
        for p in ps:
            ta.augment(p.sentence1)
            ta.augment(p.sentence2)

    peer_pairs = pairs[: args.peer_pairs]
    recipes = [r for r in list_recipes() if r.supports(lang)]
    first = {r.name: Best() for r in recipes}
    repeat = {r.name: Best() for r in recipes}
    peers = {"nlpaug RandomCharAug(substitute)": Best(), "TextAttack CharSwapAugmenter": Best()}
    warm = {}
    # rounds interleave every tool, so a slow spell of the machine hits all of them alike
    for r in range(args.rounds):
        for recipe in recipes:
            first[recipe.name].time(lambda ps, k, rec=recipe: perturb_pairs(cold_perturber(rec, lang, ds), ps, k), pairs, r)
            if recipe.name not in warm:
                warm[recipe.name] = cold_perturber(recipe, lang, ds)
                perturb_pairs(warm[recipe.name], pairs, 0)
            repeat[recipe.name].time(lambda ps, k, p=warm[recipe.name]: perturb_pairs(p, ps, k + 1), pairs, r)
        peers["nlpaug RandomCharAug(substitute)"].time(run_nlpaug, peer_pairs, r)
        if r < 3:  # ~1 s per call: three runs are plenty
            peers["TextAttack CharSwapAugmenter"].time(run_textattack, peer_pairs[:20], r)

    print(f"{'recipe':<12}{'first pass':>14}{'repeat passes':>16}   (pairs/s)")
    for recipe in recipes:
        print(f"{recipe.name:<12}{first[recipe.name].rate:>14,.0f}{repeat[recipe.name].rate:>16,.0f}")
    for name, best in peers.items():
        print(f"{name:<36}{best.rate:>12,.0f} pairs/s")
    fastest = max(b.rate for b in peers.values())
    print(f"charnoise vs fastest peer: first pass {first['charnoise'].rate / fastest:.1f}x, "
          f"repeat passes {repeat['charnoise'].rate / fastest:.1f}x")


if __name__ == "__main__":
    main()
