"""Speed and memory of every XLM-R size, measured on its size-faithful random-weight model.

    python benchmarks/bench_sizes.py --sizes base,large[,xl,xxl] --sentences 64 [--device cuda] [--dtype bf16]
                                     [--batch-size 32] [--threads N] [--lang hau] [--json OUT.json]

Each size is `random:xlmr-<size>` (models/sizes.py: the published configuration, random weights),
built first if needed (build time printed apart). It then loads and encodes through afroadv's own
BiEncoder — the code path of `afroadv evaluate`, with `device_map="auto"` for XL/XXL on CUDA —
in a fresh process, so the memory figures are its own:

- parameters: counted from the weights files;
- load s: BiEncoder.load() (tokenizer and weights to the device; imports excluded);
- peak memory: CPU, peak RSS minus RSS before loading; CUDA, torch.cuda.max_memory_allocated over
  every GPU minus what was allocated before loading;
- sentences/s, tokens/s: encoding the first N unique sentences of the SemRel test split of --lang
  (cache off, after one warm-up batch); tokens are the real (unpadded) tokens.

Sizes not measured are extrapolated and labelled so: time per token fitted as a + b × non-embedding
parameters (least squares through the measured sizes; a line through the origin when one size was
measured: the forward costs ~2 FLOPs per non-embedding parameter per token, embedding lookups are
free), load time in proportion to all parameters, peak memory as the measured ratio of peak to
weight bytes (at least 1: XL/XXL are converted at load, so fully resident) times the size's weight bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_BYTES = {"fp32": 4, "float32": 4, "bf16": 2, "bfloat16": 2, "fp16": 2, "float16": 2, "half": 2}


def _rss() -> int:
    """Resident set size now, in bytes (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _peak_rss() -> int:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux


def _sentences(lang: str, n: int) -> list[str]:
    """The first n unique sentences of the SemRel test split, both sides of each pair in order."""
    from afroadv.data.catalog import load_dataset
    from afroadv.langs import get_language

    pairs = load_dataset(get_language(lang), "semrel", "test").pairs
    texts = list(dict.fromkeys(t for p in pairs for t in (p.sentence1, p.sentence2)))
    if len(texts) < n:
        raise SystemExit(f"bench_sizes: the {lang} SemRel test split has {len(texts)} unique sentences, fewer than {n}")
    return texts[:n]


def build_one(size: str) -> dict:
    """Build (or find) the model in this process, so building never counts in the measured one."""
    from afroadv.models.sizes import build_random, random_dir
    from afroadv.models._files import read_build_info

    cached = read_build_info(random_dir(size)) is not None
    t = time.perf_counter()
    build_random(size)
    return {"size": size, "built_s": None if cached else round(time.perf_counter() - t, 1)}


def measure_one(args) -> dict:
    """Load and encode one size in this (fresh) process; returns the figures."""
    import torch
    import transformers

    from afroadv.models import BiEncoder, resolve_model
    from afroadv.models.sizes import param_counts

    rm = resolve_model(f"random:xlmr-{args.one}")
    for name in ("AutoModel", "AutoTokenizer", rm.arch):  # import transformers' lazy modules now: not load time
        getattr(transformers, name)
    if args.threads:
        torch.set_num_threads(args.threads)
    texts = _sentences(args.lang, args.sentences)
    cuda = args.device.startswith("cuda")
    gpus = range(torch.cuda.device_count()) if cuda else range(0)
    for d in gpus:
        torch.cuda.reset_peak_memory_stats(d)
    before = sum(torch.cuda.memory_allocated(d) for d in gpus) if cuda else _rss()

    enc = BiEncoder(rm, device=args.device, dtype=args.dtype, batch_size=args.batch_size, cache=False)
    t = time.perf_counter()
    enc.load()
    if cuda:
        torch.cuda.synchronize()
    load_s = time.perf_counter() - t
    enc.encode(texts[:args.batch_size])  # warm-up: first-call kernel set-up, not throughput
    if cuda:
        torch.cuda.synchronize()
    t = time.perf_counter()
    vecs = enc.encode(texts)
    if cuda:
        torch.cuda.synchronize()
    encode_s = time.perf_counter() - t
    peak = (sum(torch.cuda.max_memory_allocated(d) for d in gpus) if cuda else _peak_rss()) - before
    tokens = sum(len(ids) for ids in enc._tokenizer([enc.prefix + s for s in texts], truncation=True,
                                                     max_length=enc.max_length)["input_ids"])
    counts = param_counts(rm.config)
    return {"size": args.one, "params": rm.params, "non_embedding_params": counts["total"] - counts["embedding"],
            "device": enc.device, "dtype": enc.dtype, "threads": torch.get_num_threads(),
            "device_map": getattr(enc._model, "hf_device_map", None) is not None,
            "batch_size": args.batch_size, "sentences": len(texts), "tokens": tokens, "dim": int(vecs.shape[1]),
            "load_s": round(load_s, 2), "peak_bytes": int(peak), "encode_s": round(encode_s, 3),
            "sentences_per_s": round(len(texts) / encode_s, 2), "tokens_per_s": round(tokens / encode_s, 1)}


def _child(args, extra: list[str]) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), *extra, "--sentences", str(args.sentences), "--device", args.device,
           "--batch-size", str(args.batch_size), "--lang", args.lang]
    if args.dtype:
        cmd += ["--dtype", args.dtype]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.path.join(ROOT, "src"), os.environ.get("PYTHONPATH")]))}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = r.stdout.strip().splitlines()
    if r.returncode != 0 or not lines:
        why = (r.stderr.strip().splitlines() or [f"exit {r.returncode}"])[-1]
        return {"error": why[:300]}
    return json.loads(lines[-1])


def extrapolate(measured: list[dict], size: str, dtype: str) -> dict:
    """Figures for an unmeasured size from the measured ones (see the module docstring)."""
    import numpy as np

    from afroadv.models.sizes import param_counts, random_config

    counts = param_counts(random_config(size))
    p, ne = counts["total"], counts["total"] - counts["embedding"]
    x = np.array([m["non_embedding_params"] for m in measured], float)
    y = np.array([1.0 / m["tokens_per_s"] for m in measured])
    if len(measured) >= 2:
        b, a = np.polyfit(x, y, 1)
        how = f"time/token = a + b x non-embedding params, least squares through {', '.join(m['size'] for m in measured)}"
    else:
        a, b = 0.0, float(y[0] / x[0])
        how = f"time/token in proportion to non-embedding params of {measured[0]['size']}"
    s_per_token = a + b * ne
    tok_per_sent = np.mean([m["tokens"] / m["sentences"] for m in measured])
    load_per_param = np.mean([m["load_s"] / m["params"] for m in measured])
    weight_bytes = _BYTES.get(dtype, 4)
    # at least the weights: base/large are memory-mapped (unused embedding rows may stay on disk), but
    # XL/XXL are stored in bf16 and converted at load, so all their weights are resident
    peak_ratio = max(1.0, float(np.mean([m["peak_bytes"] / (m["params"] * weight_bytes) for m in measured])))
    return {"size": size, "extrapolated": True, "how": how, "params": p, "non_embedding_params": ne,
            "load_s": round(float(load_per_param * p), 1), "peak_bytes": int(peak_ratio * p * weight_bytes),
            "tokens_per_s": round(float(1.0 / s_per_token), 1),
            "sentences_per_s": round(float(1.0 / (s_per_token * tok_per_sent)), 2)}


def _fmt_params(n: int) -> str:
    return f"{n / 1e9:.2f} B" if n >= 1e9 else f"{n / 1e6:.1f} M"


def table(rows: list[dict]) -> str:
    head = f"{'size':<6} {'parameters':>11} {'build s':>8} {'load s':>8} {'peak memory':>12} {'sentences/s':>12} {'tokens/s':>10}"
    out = [head, "-" * len(head)]
    for r in rows:
        if "error" in r:
            out.append(f"{r['size']:<6} failed: {r['error']}")
            continue
        x = "~" if r.get("extrapolated") else ""
        built = "-" if r.get("built_s") is None else f"{r['built_s']:.0f}"
        out.append(f"{r['size']:<6} {_fmt_params(r['params']):>11} {built:>8} {x + format(r['load_s'], '.1f'):>8} "
                   f"{x + format(r['peak_bytes'] / 2**30, '.2f') + ' GiB':>12} {x + format(r['sentences_per_s'], '.2f'):>12} "
                   f"{x + format(r['tokens_per_s'], '.0f'):>10}" + ("   extrapolated" if x else ""))
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="base,large")
    ap.add_argument("--sentences", type=int, default=64)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default=None, help="fp32, bf16, fp16 (default: afroadv's choice for the device)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    ap.add_argument("--lang", default="hau")
    ap.add_argument("--json", default=None, help="also write every figure to this JSON file")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--build", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.build:
        print(json.dumps(build_one(args.build)))
        return 0
    if args.one:
        print(json.dumps(measure_one(args)))
        return 0

    from afroadv.models.sizes import sizes

    known = sizes()
    asked = [s.strip() for s in args.sizes.split(",") if s.strip()]
    bad = [s for s in asked if s not in known]
    if bad or not asked or args.sentences < 1:
        ap.error(f"--sizes takes a comma list of {', '.join(known)}; --sentences at least 1")
    rows = []
    for size in [s for s in known if s in asked]:
        built = _child(args, ["--build", size])
        row = built if "error" in built else {**_child(args, ["--one", size]), "built_s": built["built_s"]}
        rows.append({"size": size, **row})
        print(f"{size}: {json.dumps(rows[-1])}", file=sys.stderr, flush=True)
    measured = [r for r in rows if "error" not in r]
    dtype = measured[0]["dtype"] if measured else (args.dtype or "float32")
    if measured:
        rows += [extrapolate(measured, s, dtype) for s in known if s not in asked]
    first = measured[0] if measured else {}
    print(f"XLM-R sizes (random weights, real configurations) on {first.get('device', args.device)}, {dtype}, "
          f"{first.get('threads', '?')} torch threads, batch {args.batch_size}: {args.sentences} {args.lang} SemRel test "
          f"sentences ({first.get('tokens', '?')} tokens)")
    print(table(rows))
    for r in rows:
        if r.get("extrapolated"):
            print(f"~ {r['size']} extrapolated ({r['how']}; load time in proportion to parameters; peak memory = "
                  "measured peak / weight bytes x its weight bytes)")
            break
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"sizes": rows, "args": {k: v for k, v in vars(args).items() if k not in ("one", "build")}}, f, indent=2)
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
