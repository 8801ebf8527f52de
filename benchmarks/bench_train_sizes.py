"""Training step time and memory per XLM-R size and method, on the size-faithful random models.

    python benchmarks/bench_train_sizes.py --sizes base,large --methods plain,consistency --steps 6 \
        [--batch-size 16] [--max-seq-length 64] [--freeze-embeddings] [--threads N] [--device cuda --bf16]

Each (size, method) runs `afroadv train --model random:xlmr-<size>` for --steps optimizer steps in a
fresh process (models/sizes.py: the published architecture with seeded random weights — the
numbers are about speed and memory only) on a seeded 400-pair STS-B subset; consistency draws
its unlabeled text from the shipped hau NTREX sentences. Printed per cell:

- s/step: the trainer's training time over the steps (the first step, with its one-off
  allocations, included: use enough --steps);
- peak RSS of the training process itself (its own ru_maxrss: model, teacher, optimizer state);
- for consistency, the teacher's encoding time of the unlabeled sentences (one-off, cached later).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# afroadv's CLI in this process, then this process's own peak RSS (KiB on Linux) on stderr's last line
_RUNNER = ("import resource, sys\nfrom afroadv.cli import main\nsys.argv = ['afroadv', *sys.argv[1:]]\n"
           "try:\n    main()\nfinally:\n"
           "    print('PEAK_RSS_KIB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)")


def _cell(size: str, method: str, args, work: str) -> dict:
    out = os.path.join(work, f"{size}-{method}")
    cmd = [sys.executable, "-c", _RUNNER, "train", "--model", f"random:xlmr-{size}", "--method", method,
           "--data", "stsb", "--limit", "400", "--max-steps", str(args.steps), "--batch-size", str(args.batch_size),
           "--max-seq-length", str(args.max_seq_length), "--save-steps", "100000", "--seed", "0", "--out", out]
    if method == "consistency":
        cmd += ["--langs", "hau", "--unlabeled", "ntrex"]
    if method in ("rs-da", "codeswitch-aug"):
        cmd += ["--copies", "1"]
    if args.freeze_embeddings:
        cmd.append("--freeze-embeddings")
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if args.device:
        cmd += ["--device", args.device]
    if args.bf16:
        cmd.append("--bf16")
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": os.path.join(ROOT, "src")})
    wall = time.perf_counter() - t0
    peak = [line.split()[1] for line in r.stderr.splitlines() if line.startswith("PEAK_RSS_KIB")]
    if r.returncode != 0:
        lines = [x for x in r.stderr.strip().splitlines() if not x.startswith("PEAK_RSS_KIB")]
        return {"size": size, "method": method, "error": (lines or ["?"])[-1][:200]}
    info = json.load(open(os.path.join(out, "afroadv_train.json"), encoding="utf-8"))
    t = info["training"]
    row = {"size": size, "method": method, "steps": t["global_steps"], "train_seconds": t["seconds"],
           "s_per_step": round(t["seconds"] / t["global_steps"], 2), "wall_seconds": round(wall, 1),
           "peak_rss_gib": round(int(peak[-1]) / 2**20, 2) if peak else None,
           "frozen_parameters": t["frozen_parameters"], "device": t["device"]}
    if "consistency" in info:
        row["teacher_seconds"] = info["consistency"]["teacher"].get("encode_seconds")  # frozen target only
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="base,large")
    ap.add_argument("--methods", default="plain,consistency")
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-seq-length", type=int, default=64)
    ap.add_argument("--freeze-embeddings", action="store_true")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--device")
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--json", help="also write the rows here")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="afroadv-bench-train-") as work:
        for size in args.sizes.split(","):
            for method in args.methods.split(","):
                row = _cell(size, method, args, work)
                rows.append(row)
                print(json.dumps(row), flush=True)
    print()
    print("| size | method | s/step | peak RSS | teacher (one-off) |")
    print("|---|---|---:|---:|---:|")
    for r in rows:
        if "error" in r:
            print(f"| {r['size']} | {r['method']} | failed: {r['error']} | | |")
            continue
        rss = f"{r['peak_rss_gib']} GiB" if r["peak_rss_gib"] else "–"
        print(f"| {r['size']} | {r['method']} | {r['s_per_step']} | {rss} | {r.get('teacher_seconds') or '–'} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
