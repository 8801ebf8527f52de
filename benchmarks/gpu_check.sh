#!/usr/bin/env bash
# GPU check, at most 10 minutes on one CUDA GPU: prints the figures to record in docs/training.md.
#
#   benchmarks/gpu_check.sh [OUT_DIR]          # default OUT_DIR: gpu-check-<UTC time>
#
# 1. the GPU-marked tests (pytest -m gpu: bf16 vs fp32 on e5-small, device_map="auto" on the XL class);
# 2. benchmarks/bench_sizes.py on cuda in bf16 for base, large, xl, xxl (random-weight models in the
#    published configurations; XL/XXL load with device_map="auto", as `afroadv evaluate` does);
# 3. five training steps of random:xlmr-large with the shipped configs/accelerate/single_gpu.yaml (bf16).
#
# Needs afroadv installed with its [ml,dev] extras and a CUDA build of torch, and about 32 GB free
# in the afroadv cache (AFROADV_CACHE, default ~/.cache/afroadv) for the four models, built on first
# use (base 1.1, large 2.2, XL 7, XXL 21 GB). Training data: AFROADV_TRAIN_DATA, else
# ../shared/data/stsbenchmark/sts-train.csv beside a maintainer's checkout, else the hub copy of
# STS-B (`--data stsb`, needs it in the Hugging Face cache or network). Every step has its own time
# limit (GPU_CHECK_TESTS_S, GPU_CHECK_BENCH_S, GPU_CHECK_TRAIN_S); a failed step does not stop the
# others, and the script exits 1 if any failed, 2 when there is no GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
OUT=${1:-gpu-check-$(date -u +%Y%m%dT%H%M%SZ)}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"

if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "gpu_check: no CUDA GPU visible to torch ($PY); nothing to check" >&2
  exit 2
fi
mkdir -p "$OUT"
echo "== machine: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1 || echo '?')"
"$PY" -c 'import afroadv, torch, transformers; print(f"== afroadv {afroadv.__version__}, torch {torch.__version__} (CUDA {torch.version.cuda}), transformers {transformers.__version__}")'

failed=()
step() {  # step NAME LIMIT_S COMMAND...: run with a time limit, log to OUT/NAME.log, record a failure
  local name=$1 limit=$2 t0=$SECONDS
  shift 2
  echo "== $name (limit ${limit} s): $*"
  if timeout --kill-after=15 "$limit" "$@" 2>&1 | tee "$OUT/$name.log"; then  # pipefail: timeout's status
    echo "== $name: ok in $((SECONDS - t0)) s"
  else
    local rc=$?
    echo "== $name: FAILED (exit $rc$([ "$rc" = 124 ] && echo ', time limit')) after $((SECONDS - t0)) s"
    failed+=("$name")
  fi
}

step tests "${GPU_CHECK_TESTS_S:-100}" "$PY" -m pytest -q -m gpu tests -p no:cacheprovider
step sizes "${GPU_CHECK_BENCH_S:-330}" "$PY" benchmarks/bench_sizes.py --sizes base,large,xl,xxl --sentences 512 \
  --device cuda --dtype bf16 --batch-size 64 --json "$OUT/sizes.json"

DATA=${AFROADV_TRAIN_DATA:-}
if [ -z "$DATA" ]; then
  if [ -f ../shared/data/stsbenchmark/sts-train.csv ]; then DATA=../shared/data/stsbenchmark/sts-train.csv; else DATA=stsb; fi
fi
step train "${GPU_CHECK_TRAIN_S:-150}" "$PY" -m accelerate.commands.launch --config_file configs/accelerate/single_gpu.yaml \
  -m afroadv.cli train --model random:xlmr-large --data "$DATA" --method rs-da --copies 1 --limit 320 \
  --max-steps 5 --batch-size 16 --bf16 --seed 0 --out "$OUT/train-large"

echo
echo "== figures to record (docs/training.md, \"GPU check\"; logs and sizes.json in $OUT)"
grep -E '^[0-9]+ passed|passed|failed' "$OUT/tests.log" 2>/dev/null | tail -1 || true
sed -n '/^XLM-R sizes/,$p' "$OUT/sizes.log" 2>/dev/null || true
if [ -f "$OUT/train-large/afroadv_train.json" ]; then
  "$PY" - "$OUT/train-large/afroadv_train.json" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1], encoding="utf-8"))["training"]
print(f"train random:xlmr-large, single_gpu.yaml (bf16): {t['global_steps']} steps in {t['seconds']} s on {t['device']}, "
      f"final loss {t['final_loss']}")
EOF
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "gpu_check: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "gpu_check: all steps passed"
