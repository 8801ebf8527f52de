#!/usr/bin/env bash
# The measured robust-training experiment of docs/training.md, exactly as run (afroadv 0.2.0).
#
# e5-small (the offline 4-bit rebuild) fine-tuned on English STS-B four ways on the SAME budget
# and seed — plain, rs-da, codeswitch-aug and consistency — then each model, and the model before
# fine-tuning, evaluated with `afroadv evaluate --seeds 0,1,2` on SemRel afr, amh, hau, kin test:
# clean and under every meaning-keeping recipe the language has, split into the recipes
# consistency training perturbs with (TRAINED) and recipes it never sees (HELD_OUT).
#
# Budget (2 shared CPU cores, one thread per process, two processes at a time): a seeded subset of
# 1600 STS-B train pairs, batch 16, exactly 200 optimizer steps for every method (= 3200 STS
# examples: plain sees its pairs twice; rs-da / codeswitch-aug each pair and its copy once;
# consistency each pair twice plus 3200 unlabeled draws), training length 64 tokens, word
# embeddings frozen, lr 2e-5, seed 0. Consistency at two weights fixed before any evaluation,
# λ = 30 (`consistency`) and λ = 100 (`consistency-l100`): in a 40-step pilot λ = 1 let the
# consistency distance grow from 0.025 to 0.034 while λ = 30 held it near 0.028 at the same task
# loss. Unlabeled text = the shipped defaults (NTREX-128, AfriSenti dev tweets, Tatoeba; checked
# against every SemRel test/dev sentence).
#
# Rerunnable: finished models and result files are skipped; an interrupted training resumes from
# its last checkpoint. Override MODELS / RESULTS / AFROADV from the environment.
set -euo pipefail
cd "$(dirname "$0")/.."

AFROADV=${AFROADV:-.venv/bin/afroadv}
PY=${PY:-.venv/bin/python}
MODELS=${MODELS:-$HOME/.cache/afroadv/trained}   # ~470 MB per folder: outside the repository
RESULTS=${RESULTS:-results/training}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
SEED=0
COMMON=(--model e5-small --data stsb --limit 1600 --epochs 2 --max-steps 200 --batch-size 16 --max-seq-length 64
        --lr 2e-5 --seed "$SEED" --freeze-embeddings --save-steps 50 --threads 1)
TRAINED=charnoise,codeswitch,translit
declare -A RECIPES=(  # per language: the trained recipes that apply, then the held-out ones that apply
  [afr]=charnoise,codeswitch,keyboard,diacritics
  [amh]=charnoise,codeswitch,translit,keyboard,lexsub,homophones,orthography
  [hau]=charnoise,codeswitch,keyboard,diacritics,lexsub,orthography
  [kin]=charnoise,codeswitch,keyboard
)
LANGS=(afr amh hau kin)
mkdir -p "$MODELS" "$RESULTS"
timing="$RESULTS/timing.tsv"
[ -f "$timing" ] || printf 'step\tmethod\tlang\tseconds\n' > "$timing"

extra() {  # the method behind a model name, and its own options
  case "$1" in
    rs-da|codeswitch-aug) echo --method "$1" --copies 1 ;;
    consistency) echo --method consistency --langs afr,amh,hau,kin --recipes "$TRAINED" --consistency-weight 30 --consistency-target frozen ;;
    consistency-l100) echo --method consistency --langs afr,amh,hau,kin --recipes "$TRAINED" --consistency-weight 100 --consistency-target frozen ;;
    consistency-self) echo --method consistency --langs afr,amh,hau,kin --recipes "$TRAINED" --consistency-weight 30 --consistency-target self ;;
    *) echo --method "$1" ;;
  esac
}

train() {  # train METHOD (skipped when finished; resumed when checkpointed)
  local method=$1 out="$MODELS/e5-small-$1"
  [ -f "$out/afroadv_train.json" ] && return 0
  local resume=()
  if [ -d "$out/checkpoints" ] && ls "$out/checkpoints" | grep -q '^checkpoint-'; then resume=(--resume); else rm -rf "$out"; fi
  local start=$SECONDS
  # shellcheck disable=SC2046
  "$AFROADV" train "${COMMON[@]}" $(extra "$method") --out "$out" "${resume[@]}"
  printf 'train\t%s\t-\t%s\n' "$method" "$((SECONDS - start))" >> "$timing"
  cp "$out/afroadv_train.json" "$RESULTS/e5-small-$method.train.json"
}

evaluate() {  # evaluate METHOD|base on every language
  local method=$1 model="$MODELS/e5-small-$1"
  [ "$method" = base ] && model=e5-small
  for lang in "${LANGS[@]}"; do
    local f="$RESULTS/e5-small-$method-$lang.json"
    [ -f "$f" ] && continue
    local start=$SECONDS
    "$AFROADV" evaluate --model "$model" --lang "$lang" --recipe "${RECIPES[$lang]}" --seeds 0,1,2 \
      --threads 1 --dtype fp32 --out "$f"
    printf 'evaluate\t%s\t%s\t%s\n' "$method" "$lang" "$((SECONDS - start))" >> "$timing"
  done
}

# two lanes of about equal length (two cores, one thread each)
( train consistency && train consistency-l100 && evaluate consistency && evaluate consistency-l100 && evaluate base
) > "$RESULTS/lane1.log" 2>&1 &
lane1=$!
( train plain && train rs-da && train codeswitch-aug && evaluate plain && evaluate rs-da && evaluate codeswitch-aug \
  && train consistency-self && evaluate consistency-self
) > "$RESULTS/lane2.log" 2>&1 &
lane2=$!
wait $lane2
wait $lane1

"$PY" experiments/training_table.py "$RESULTS" --trained "$TRAINED" > "$RESULTS/table.md"
cat "$RESULTS/table.md"
