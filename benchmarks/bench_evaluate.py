"""Evaluating several recipes on one language: afroadv (every unique sentence encoded once, through the
embedding cache) vs encoding every set separately with plain `SentenceTransformer.encode`.

    python benchmarks/bench_evaluate.py [--lang hau] [--limit 200] [--recipes charnoise,keyboard,codeswitch,diacritics]

Both start cold (afroadv with an empty embedding cache, model load included) and compute the same
Spearman values on the same sets; the script checks they agree and prints seconds, the ratio, and the
dedupe ratio (sentences the plain loop encodes ÷ unique sentences afroadv encodes).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lang", default="hau")
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--recipes", default="charnoise,keyboard,codeswitch,diacritics")
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()
    recipes = args.recipes.split(",")

    from afroadv.models import build_e5

    e5_dir = build_e5()  # built once in the user cache; both sides load the same folder
    tmp = Path(tempfile.mkdtemp(prefix="afroadv-bench-"))
    (tmp / "models").mkdir()
    os.symlink(e5_dir, tmp / "models" / e5_dir.name)
    os.environ["AFROADV_CACHE"] = str(tmp)  # empty embedding cache: afroadv starts cold

    from afroadv.evaluate import build_sets, evaluate
    from afroadv.metrics import spearman

    sets = build_sets(args.lang, recipes, None, "test", 0, args.limit)
    n_plain = sum(2 * len(s.ids) for s in sets) + 2 * len(sets[0].ids)  # clean once + each perturbed set
    n_unique = len({t for s in sets for pair in (*s.clean, *s.perturbed) for t in pair})

    t = time.perf_counter()
    doc = evaluate(["e5-small"], sets, n_boot=1000, batch_size=args.batch_size, quiet=True)
    ours = time.perf_counter() - t

    from sentence_transformers import SentenceTransformer

    t = time.perf_counter()
    model = SentenceTransformer(str(e5_dir), device="cpu")

    def score(pairs):
        a = model.encode(["query: " + p[0] for p in pairs], batch_size=args.batch_size, normalize_embeddings=True)
        b = model.encode(["query: " + p[1] for p in pairs], batch_size=args.batch_size, normalize_embeddings=True)
        return (a * b).sum(axis=1)

    gold = [s for s in sets[0].scores]
    plain = {"clean": spearman(gold, score(sets[0].clean))}
    for s in sets:
        plain[s.recipe] = spearman(s.scores, score(s.perturbed))
    theirs = time.perf_counter() - t

    ours_rows = {r["recipe"]: r["spearman"] for r in doc["results"]}
    worst = max(abs(ours_rows[k] - plain[k]) for k in plain)
    cache = doc["manifest"]["models"][0]["cache"]
    print(f"{args.lang}: {len(sets[0].ids)} pairs, clean + {len(recipes)} recipes ({', '.join(recipes)})")
    print(f"afroadv evaluate (cold cache, bootstrap CIs included): {ours:8.1f} s   unique sentences encoded {n_unique}")
    print(f"plain SentenceTransformer.encode per set:              {theirs:8.1f} s   sentences encoded {n_plain}")
    print(f"speed-up {theirs / ours:.2f}x   dedupe ratio {n_plain / n_unique:.2f}   cache misses {cache['misses']}, hits {cache['hits']}")
    print(f"largest Spearman difference between the two: {worst:.3f} points")


if __name__ == "__main__":
    main()
