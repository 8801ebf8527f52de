"""Attack cost and equal footing: plain TextAttack vs `afroadv attack`, same pairs and model, one process.

    python benchmarks/bench_attack.py [--model e5-small] [--lang hau] [--pairs 30] [--threads 1] [--no-own]

(a) plain TextAttack: its own `Attack` + `Attacker`, with afroadv's goal function
    (PairRegressionGoalFunction), transformation (RecipeWordSwap), constraints and search
    (GreedyWordSwapWIR, wir_method="delete"), and a straightforward pair model wrapper that embeds
    both sentences of every pair it is given (TextAttack's default 32 pairs per call) and returns
    their cosine. TextAttack's own per-example model cache is on. TextAttack indexes its own words
    (textattack's `words_from_text`), so only the words both splitters see identically are attacked.
(b) `afroadv attack --words textattack` (runner.run_attack, afroadv's engine on the same words) with
    a fresh, empty embedding cache: the equal footing. Outputs must be identical to (a); the time
    ratio (a)/(b) is the engine's gain.
(c) `afroadv attack` as users run it: afroadv's own script-aware words (words with combining marks,
    parts of hyphenated compounds …), fresh cache. Its outputs are compared with (a) on the pairs
    where the two tokenisations agree (same words at the same places, same rewrites:
    core.tokenisations_agree), where they must be identical; elsewhere it may attack more words.

(a), (b) and (c) use the same model forward (BiEncoder._encode_uncached: tokenise, length-sorted
batches of 32, mean pooling). Prints seconds per pair and the ratio, queries per pair, the share of
wall time spent inside the model forward, encodes per query (unique texts encoded ÷ texts queried,
a pair query asks for two texts; also per pair query), attackable words per pair, and which outputs
are identical. Model loading and the textattack import are outside the timings. `--threads 1` (the
default) runs torch on one core: on a shared 2-core machine, two torch threads next to other busy
processes make small batches several times slower and the timings meaningless.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="e5-small")
    ap.add_argument("--lang", default="hau")
    ap.add_argument("--recipe", default="charnoise")
    ap.add_argument("--pairs", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    ap.add_argument("--budget", type=float, default=None, help="default: afroadv attack's")
    ap.add_argument("--delta", type=float, default=None, help="default: afroadv attack's")
    ap.add_argument("--candidates", type=int, default=None, help="default: afroadv attack's")
    ap.add_argument("--max-queries", type=int, default=2000)
    ap.add_argument("--no-own", action="store_true", help="skip (c), afroadv's own words")
    args = ap.parse_args()
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

    import numpy as np
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    from afroadv.attack.core import DEFAULT_BUDGET, DEFAULT_CANDIDATES, DEFAULT_DELTA, AttackSpace, tokenisations_agree
    from afroadv.attack.runner import AttackConfig, run_attack
    from afroadv.attack.wrapper import ForwardTimer, cosine_rows
    from afroadv.data.catalog import load_dataset
    from afroadv.langs import get_language
    from afroadv.models import EmbeddingCache, load_encoder

    budget = DEFAULT_BUDGET if args.budget is None else args.budget
    delta = DEFAULT_DELTA if args.delta is None else args.delta
    candidates = DEFAULT_CANDIDATES if args.candidates is None else args.candidates
    lang = get_language(args.lang)
    ds = load_dataset(lang)
    pairs = ds.pairs[: args.pairs]
    sides = "first" if pairs[0].task == "bitext" else "both"  # as `afroadv attack` decides (charnoise: both)
    scale = float(ds.score_scale[1]) if ds.score_scale else 1.0

    t = time.perf_counter()
    from afroadv.attack.ta_env import import_textattack

    textattack = import_textattack()
    from textattack.models.wrappers import ModelWrapper

    from afroadv.attack.ta_wrapper import build_attack, pairs_dataset

    ta_import = time.perf_counter() - t

    plain_encoder = load_encoder(args.model, cache=False).load()  # the model itself, no cache

    class StraightforwardPairWrapper(ModelWrapper):
        """Embed both sentences of every pair, every time, and return their cosine."""

        def __init__(self, encoder):
            self.model = encoder
            self.texts_encoded = 0
            self.pairs = 0

        def __call__(self, text_input_list):
            first = [p[0] for p in text_input_list]
            second = [p[1] for p in text_input_list]
            self.texts_encoded += len(first) + len(second)
            self.pairs += len(first)
            return cosine_rows(self.model._encode_uncached(first), self.model._encode_uncached(second))

    print(f"{args.model} on {lang.code} {ds.name}: {len(pairs)} pairs; recipe {args.recipe}, budget {budget}, "
          f"δ {delta}, {candidates} candidates per transformation, greedy WIR (delete), max {args.max_queries} "
          f"queries; torch threads {torch.get_num_threads()}; textattack import {ta_import:.1f} s (not timed); "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)

    # ---------------------------------------------------------------- (a) plain TextAttack
    space = AttackSpace.build(args.recipe, lang, seed=0, candidates=candidates, sides=sides, budget=budget,
                              words="textattack")
    naive = StraightforwardPairWrapper(plain_encoder)
    attack = build_attack(space, naive, goal="move", delta=delta, search="greedy", model_batch_size=32)
    attack_args = textattack.AttackArgs(num_examples=len(pairs), query_budget=args.max_queries, silent=True,
                                        disable_stdout=True, random_seed=0)
    attacker = textattack.Attacker(attack, pairs_dataset(pairs, scale), attack_args)
    timer_a = ForwardTimer(plain_encoder)
    t = time.perf_counter()
    devnull = open(os.devnull, "w")
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = devnull  # TextAttack's progress bar and summary
    try:
        results = attacker.attack_dataset()
    finally:
        sys.stdout, sys.stderr = stdout, stderr
    wall_a = time.perf_counter() - t
    queries_a = sum(r.perturbed_result.num_queries for r in results)
    print(f"(a) done in {wall_a:.1f} s; load average {os.getloadavg()[0]:.2f}", flush=True)

    # ---------------------------------------------------------------- (b), (c) afroadv attack
    def afroadv_attack(words: str):
        with tempfile.TemporaryDirectory() as tmp:
            encoder = load_encoder(args.model, cache=EmbeddingCache(Path(tmp) / "emb.sqlite3"))  # empty cache
            encoder.load()
            cfg = AttackConfig(model=args.model, lang=lang.code, recipe=args.recipe, limit=len(pairs), budget=budget,
                               delta=delta, candidates=candidates, max_queries=args.max_queries, sides=sides,
                               words=words)
            t = time.perf_counter()
            run = run_attack(cfg, Path(tmp) / "out", encoder=encoder)
            return run, time.perf_counter() - t

    run_b, wall_b = afroadv_attack("textattack")
    print(f"(b) done in {wall_b:.1f} s; load average {os.getloadavg()[0]:.2f}", flush=True)
    runs = {"(b)": (run_b, wall_b)}
    if not args.no_own:
        run_c, wall_c = afroadv_attack("afroadv")
        print(f"(c) done in {wall_c:.1f} s; load average {os.getloadavg()[0]:.2f}", flush=True)
        runs["(c)"] = (run_c, wall_c)

    def same_as_a(res, rec) -> bool:
        cols = tuple(res.perturbed_result.attacked_text._text_input.values())
        ok = isinstance(res, textattack.attack_results.SuccessfulAttackResult)
        return (cols == (rec["sentence1"], rec["sentence2"]) and ok == (rec["status"] == "succeeded")
                and res.perturbed_result.num_queries == rec["queries"])

    n = len(pairs)
    q_a = sum(r.perturbed_result.num_queries for r in results)
    success_a = np.mean([isinstance(r, textattack.attack_results.SuccessfulAttackResult) for r in results])
    names = {"(a)": "(a) plain TextAttack", "(b)": "(b) afroadv, TA words", "(c)": "(c) afroadv, own words"}
    cols = ["(a)", *runs]
    print()
    print(f"{'':<34}" + "".join(f"{names[c]:>24}" for c in cols))

    def row(label, a, fmt, get):
        print(f"{label:<34}{format(a, fmt):>24}" + "".join(f"{format(get(*runs[c]), fmt):>24}" for c in runs))

    row("seconds per pair", wall_a / n, ".2f", lambda r, w: w / n)
    row("queries per pair", q_a / n, ".1f", lambda r, w: r.timing["model_queries"] / n)
    row("texts encoded", naive.texts_encoded, "d", lambda r, w: r.timing["texts_encoded"])
    row("encodes per query (÷ texts asked)", naive.texts_encoded / (2 * q_a), ".3f",
        lambda r, w: r.timing["texts_encoded"] / (2 * r.timing["model_queries"]))
    row("encodes per pair query", naive.texts_encoded / q_a, ".3f",
        lambda r, w: r.timing["texts_encoded"] / r.timing["model_queries"])
    row("share of wall time in forward", timer_a.seconds / wall_a, ".1%", lambda r, w: r.timing["forward_s"] / w)
    row("attackable words per pair", np.mean([r["attackable"] for r in run_b.records]), ".2f",
        lambda r, w: np.mean([x["attackable"] for x in r.records]))
    row("words changed per pair", np.mean([len(r["changes"]) for r in run_b.records]), ".2f",
        lambda r, w: np.mean([len(x["changes"]) for x in r.records]))
    row("success rate", success_a, ".1%", lambda r, w: r.summary["success_rate"])
    print()
    print(f"ratio (a)/(b), equal footing: {wall_a / wall_b:.2f}x")
    same_b = sum(map(same_as_a, results, run_b.records))
    print(f"(b) outputs identical to (a): {'yes' if same_b == n else 'no'} ({same_b}/{n} pairs: same texts, success "
          "and queries)")
    if "(c)" in runs:
        own = AttackSpace.build(args.recipe, lang, seed=0, candidates=candidates, sides=sides, budget=budget)
        agree = [tokenisations_agree(own, space, (p.sentence1, p.sentence2)) for p in pairs]
        same_c = sum(same_as_a(res, rec) for res, rec, ok in zip(results, run_c.records, agree) if ok)
        print(f"(c) outputs identical to (a) where the tokenisations agree: {'yes' if same_c == sum(agree) else 'no'} "
              f"({same_c}/{sum(agree)} pairs; they differ on {n - sum(agree)} of {n}); ratio (a)/(c) {wall_a / wall_c:.2f}x")


if __name__ == "__main__":
    main()
