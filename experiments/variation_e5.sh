#!/usr/bin/env bash
# e5-small on the real-world variation recipes of issue 13 (README "Real-world variation" table):
# every new meaning-preserving recipe on its languages' default sets, seed 0.
#   bash experiments/variation_e5.sh [OUT_DIR]   (default results/variation; ~15 min on 2 CPU cores)
set -euo pipefail
out=${1:-results/variation}
mkdir -p "$out"
run() {  # lang recipes [dataset]
    afroadv evaluate --model e5-small --lang "$1" --recipe "$2" ${3:+--dataset "$3"} --threads 2 --out "$out/e5-small-$1${3:+-$3}.json"
}
run amh homophones,orthography,keyboard
run tir homophones,keyboard
run hau orthography,keyboard
run yor orthography,keyboard
run ibo keyboard
run swa orthography
run mey arabizi ntrex
