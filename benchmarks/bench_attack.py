"""Attack cost: plain TextAttack vs `afroadv attack`, on the same pairs and model, in one process.

    python benchmarks/bench_attack.py [--model e5-small] [--lang hau] [--pairs 30] [--threads 1]

(a) plain TextAttack: its own `Attack` + `Attacker`, with afroadv's goal function
    (PairRegressionGoalFunction), transformation (RecipeWordSwap), constraints and search
    (GreedyWordSwapWIR, wir_method="delete"), and a straightforward pair model wrapper that embeds
    both sentences of every pair it is given (TextAttack's default 32 pairs per call) and returns
    their cosine. TextAttack's own per-example model cache is on.
(b) `afroadv attack` (runner.run_attack, engine afroadv) with a fresh, empty embedding cache.

Both use the same model forward (BiEncoder._encode_uncached: tokenise, length-sorted batches of
32, mean pooling), so the difference is the attack machinery and the wrapper. Prints seconds per
pair for each and the ratio, queries per pair, the share of (b)'s wall time spent inside the model
forward, encodes per query (unique texts encoded ÷ texts queried, a pair query asks for two texts;
also per pair query), and whether the adversarial outputs (texts, success, query counts) are
identical. Model loading and the textattack import are outside the timings. `--threads 1` (the
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
    args = ap.parse_args()
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

    import numpy as np
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    from afroadv.attack.core import DEFAULT_BUDGET, DEFAULT_CANDIDATES, DEFAULT_DELTA, AttackSpace
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
    space = AttackSpace.build(args.recipe, lang, seed=0, candidates=candidates, sides="both", budget=budget)
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

    # ---------------------------------------------------------------- (b) afroadv attack
    with tempfile.TemporaryDirectory() as tmp:
        encoder = load_encoder(args.model, cache=EmbeddingCache(Path(tmp) / "emb.sqlite3"))  # empty cache
        encoder.load()
        cfg = AttackConfig(model=args.model, lang=lang.code, recipe=args.recipe, limit=len(pairs), budget=budget,
                           delta=delta, candidates=candidates, max_queries=args.max_queries, sides="both")
        t = time.perf_counter()
        run = run_attack(cfg, Path(tmp) / "out", encoder=encoder)
        wall_b = time.perf_counter() - t
        forward_b = run.timing["forward_s"]
        encoded_b = run.timing["texts_encoded"]
    queries_b = sum(r["queries"] for r in run.records)
    print(f"(b) done in {wall_b:.1f} s; load average {os.getloadavg()[0]:.2f}", flush=True)

    same = 0
    for res, rec in zip(results, run.records):
        cols = tuple(res.perturbed_result.attacked_text._text_input.values())
        ok = isinstance(res, textattack.attack_results.SuccessfulAttackResult)
        same += (cols == (rec["sentence1"], rec["sentence2"]) and ok == (rec["status"] == "succeeded")
                 and res.perturbed_result.num_queries == rec["queries"])
    n = len(pairs)
    print()
    print(f"{'':<34}{'(a) plain TextAttack':>22}{'(b) afroadv attack':>22}")
    print(f"{'seconds per pair':<34}{wall_a / n:>22.2f}{wall_b / n:>22.2f}")
    print(f"{'queries per pair':<34}{queries_a / n:>22.1f}{queries_b / n:>22.1f}")
    print(f"{'texts encoded':<34}{naive.texts_encoded:>22}{encoded_b:>22}")
    print(f"{'encodes per query (÷ texts asked)':<34}{naive.texts_encoded / (2 * queries_a):>22.3f}"
          f"{encoded_b / (2 * queries_b):>22.3f}")
    print(f"{'encodes per pair query':<34}{naive.texts_encoded / queries_a:>22.3f}{encoded_b / queries_b:>22.3f}")
    print(f"{'share of wall time in forward':<34}{timer_a.seconds / wall_a:>21.1%}{forward_b / wall_b:>21.1%} ")
    print(f"{'success rate':<34}"
          f"{np.mean([isinstance(r, textattack.attack_results.SuccessfulAttackResult) for r in results]):>21.1%} "
          f"{run.summary['success_rate']:>21.1%}")
    print()
    print(f"ratio (a)/(b): {wall_a / wall_b:.2f}x")
    print(f"adversarial outputs identical: {'yes' if same == n else 'no'} ({same}/{n} pairs: same texts, success and queries)")


if __name__ == "__main__":
    main()
