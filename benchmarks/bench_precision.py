"""bf16 vs fp32 for one model on the SemRel test sets: clean Spearman in each dtype, their largest
difference, the embeddings' smallest cosine to fp32, and the speed ratio (both encoded in this
process, side by side, alternating which goes first per language).

    python benchmarks/bench_precision.py [--model e5-small] [--langs afr,amh,hau,kin] [--limit N] [--threads N]

On a CPU with native bf16 (AMX / AVX512-BF16) bf16 is afroadv's default and should be faster; on
other CPUs it is emulated and slower, and only the agreement is of interest.
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="e5-small")
    ap.add_argument("--langs", default="afr,amh,hau,kin")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()

    import numpy as np
    import torch

    from afroadv.data.catalog import load_dataset
    from afroadv.langs import get_language
    from afroadv.metrics import spearman
    from afroadv.models import load_encoder
    from afroadv.models.precision import cpu_native_bf16

    if args.threads:
        torch.set_num_threads(args.threads)
    enc = {d: load_encoder(args.model, dtype=d, device="cpu", cache=False) for d in ("fp32", "bf16")}
    print(f"{args.model} on CPU, torch threads {torch.get_num_threads()}, native bf16: {cpu_native_bf16()}")
    worst, seconds = 0.0, {"fp32": 0.0, "bf16": 0.0}
    for i, code in enumerate(args.langs.split(",")):
        pairs = load_dataset(get_language(code), None, "test").pairs[: args.limit]
        gold = [p.score for p in pairs]
        texts = list(dict.fromkeys(t for p in pairs for t in (p.sentence1, p.sentence2)))
        emb, rho = {}, {}
        for d in (("fp32", "bf16") if i % 2 == 0 else ("bf16", "fp32")):
            enc[d].load()
            t = time.perf_counter()
            emb[d] = enc[d].encode(texts)
            seconds[d] += time.perf_counter() - t
            vec = dict(zip(texts, emb[d]))
            rho[d] = spearman(gold, [float(vec[p.sentence1] @ vec[p.sentence2]) for p in pairs])
        diff = abs(rho["fp32"] - rho["bf16"])
        worst = max(worst, diff)
        cos = float(np.min((emb["fp32"] * emb["bf16"]).sum(axis=1)))
        print(f"{code}: {len(pairs)} pairs  Spearman fp32 {rho['fp32']:.2f}  bf16 {rho['bf16']:.2f}  "
              f"|diff| {diff:.3f}  min cosine {cos:.6f}")
    print(f"largest Spearman difference {worst:.3f} points; bf16 speed ÷ fp32: {seconds['fp32'] / seconds['bf16']:.2f}x "
          f"({seconds['fp32']:.1f} s vs {seconds['bf16']:.1f} s)")


if __name__ == "__main__":
    main()
