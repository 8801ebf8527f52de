"""Evaluating several recipes on one language: `afroadv evaluate` (every unique sentence encoded once
in one length-sorted batch plan, through the embedding cache, in its default dtype) vs encoding
every set separately with plain `SentenceTransformer.encode` (fp32, its default settings).

    python benchmarks/bench_evaluate.py [--lang hau] [--limit 150] [--recipes charnoise,keyboard,codeswitch,diacritics]
                                        [--rounds 2] [--dtype fp32|bf16]

Both sides start cold in every round (afroadv with an empty embedding cache and no memoised model;
both load the model inside their timing) after torch, transformers and sentence-transformers are
imported, so neither pays the other's imports. Rounds alternate which side runs first; the
speed-up is each round's plain ÷ afroadv wall time, and the median over rounds. Also printed: the
dedupe ratio (sentences the plain loop encodes ÷ unique sentences afroadv encodes), the largest
Spearman difference between the two sides, and the share of afroadv's wall time spent in the model
forward (with and without the model load, which plain sentence-transformers pays too).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lang", default="hau")
    ap.add_argument("--limit", type=int, default=150)
    ap.add_argument("--recipes", default="charnoise,keyboard,codeswitch,diacritics")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--dtype", default=None, help="afroadv's --dtype (default: its own choice for this CPU)")
    args = ap.parse_args()
    recipes = args.recipes.split(",")

    import sentence_transformers  # noqa: F401  (imports outside both timings)
    import torch
    import transformers  # noqa: F401

    from afroadv.evaluate import build_sets, evaluate
    from afroadv.metrics import spearman
    from afroadv.models import build_e5
    from afroadv.models.encoders import release_loaded_models
    from afroadv.models.precision import cpu_native_bf16

    e5_dir = build_e5()  # built once in the user cache; both sides load the same folder
    sets = build_sets(args.lang, recipes, None, "test", 0, args.limit)
    n_plain = sum(2 * len(s.ids) for s in sets) + 2 * len(sets[0].ids)  # clean once + each perturbed set
    n_unique = len({t for s in sets for pair in (*s.clean, *s.perturbed) for t in pair})

    def ours():
        tmp = Path(tempfile.mkdtemp(prefix="afroadv-bench-"))
        (tmp / "models").mkdir()
        os.symlink(e5_dir, tmp / "models" / e5_dir.name)
        os.environ["AFROADV_CACHE"] = str(tmp)  # empty embedding cache: afroadv starts cold
        release_loaded_models()
        t = time.perf_counter()
        doc = evaluate(["e5-small"], sets, n_boot=1000, batch_size=args.batch_size, quiet=True, dtype=args.dtype)
        return time.perf_counter() - t, doc

    def plain():
        from sentence_transformers import SentenceTransformer

        t = time.perf_counter()
        model = SentenceTransformer(str(e5_dir), device="cpu")

        def score(pairs):
            a = model.encode(["query: " + p[0] for p in pairs], batch_size=args.batch_size, normalize_embeddings=True)
            b = model.encode(["query: " + p[1] for p in pairs], batch_size=args.batch_size, normalize_embeddings=True)
            return (a * b).sum(axis=1)

        rows = {"clean": spearman(sets[0].scores, score(sets[0].clean))}
        for s in sets:
            rows[s.recipe] = spearman(s.scores, score(s.perturbed))
        return time.perf_counter() - t, rows

    ratios = []
    print(f"{args.lang}: {len(sets[0].ids)} pairs, clean + {len(recipes)} recipes ({', '.join(recipes)}); "
          f"torch threads {torch.get_num_threads()}, CPU native bf16: {cpu_native_bf16()}")
    for r in range(args.rounds):
        if r % 2 == 0:
            t_ours, doc = ours()
            t_plain, rows = plain()
        else:
            t_plain, rows = plain()
            t_ours, doc = ours()
        info = doc["manifest"]["models"][0]
        ours_rows = {row["recipe"]: row["spearman"] for row in doc["results"]}
        worst = max(abs(ours_rows[k] - rows[k]) for k in rows)
        fwd, load = info["forward_seconds"], info["load_seconds"]
        ratios.append(t_plain / t_ours)
        print(f"round {r + 1} ({'afroadv' if r % 2 == 0 else 'plain'} first):")
        print(f"  afroadv evaluate ({info['dtype']}, cold cache, load + bootstrap CIs included): {t_ours:7.1f} s"
              f"   unique sentences encoded {info['texts_encoded']}")
        print(f"  plain SentenceTransformer.encode per set (fp32, load included):   {t_plain:7.1f} s   sentences encoded {n_plain}")
        print(f"  speed-up {t_plain / t_ours:.2f}x   dedupe ratio {n_plain / n_unique:.2f}   "
              f"largest Spearman difference {worst:.3f} points")
        print(f"  afroadv time in the model forward: {100 * fwd / t_ours:.1f}% of its wall time "
              f"({100 * fwd / (t_ours - load):.1f}% without the {load:.1f} s model load)")
    print(f"median speed-up over {args.rounds} round(s): {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
