#!/usr/bin/env bash
# Makes the standard backdoor benchmark sets from Fashion-MNIST with `abl-audit poison`: each attack's
# poisoned training set (with the ground-truth columns poisoned, label_original, attack) and its
# triggered test set, for measuring an audit's isolation precision/recall and a model's attack success.
#
# Usage: pipelines/make-benchmark-sets.sh [OUT_DIR]        (default OUT_DIR: data/benchmark)
#
# Environment:
#   ABL_AUDIT          how to run the CLI (default: node bin/abl-audit.js, which needs `npm run build`,
#                      done by `npm ci`); e.g. ABL_AUDIT=abl-audit for an installed copy.
#   FASHION_MNIST_DIR  folder of the four IDX files (default: Debian's dataset-fashion-mnist package).
#   SEED               seed of every set (default 1): the same seed gives the same rows and triggers.
#
# Writes OUT_DIR/clean/{train,test}.parquet (the import), then for each set NAME below
# OUT_DIR/NAME/train.parquet and OUT_DIR/NAME/test-backdoor.parquet. All-to-one, target class 0
# (T-shirt/top) throughout, the ABL reference code's default. About 220 MB of disk in all.
#
# Rates are read as shares of the eligible rows (--rate-of eligible), as when these sets were first
# defined: BadNets 10% is 5,400 of the 54,000 non-target rows, 9% of the set. (abl-audit poison's
# default, --rate-of all, would read 10% as 6,000 of all 60,000 rows, as BackdoorBench does.)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-data/benchmark}"
SEED="${SEED:-1}"
read -r -a ABL <<<"${ABL_AUDIT:-node $ROOT/bin/abl-audit.js}"

if [ -z "${ABL_AUDIT:-}" ] && [ ! -f "$ROOT/dist/cli/main.js" ]; then
  echo "make-benchmark-sets: $ROOT/dist is missing; run 'npm run build' (or npm ci) first" >&2
  exit 1
fi

echo "== import Fashion-MNIST into $OUT/clean"
if [ -n "${FASHION_MNIST_DIR:-}" ]; then
  "${ABL[@]}" import fashion-mnist --from "$FASHION_MNIST_DIR" --out "$OUT/clean"
else
  "${ABL[@]}" import fashion-mnist --out "$OUT/clean"
fi

# poison_set NAME ATTACK-FLAGS...: one poisoned training set and its triggered test set in OUT/NAME.
poison_set() {
  local name="$1"
  shift
  echo "== $name"
  "${ABL[@]}" poison "$OUT/clean/train.parquet" --out "$OUT/$name/train.parquet" \
    --test "$OUT/clean/test.parquet" --test-out "$OUT/$name/test-backdoor.parquet" \
    --target 0 --seed "$SEED" --rate-of eligible --quiet "$@"
}

# BadNets: the 3x3 black-and-white grid in the bottom-right corner, 10% of the 54,000 non-target rows.
poison_set badnets-10 --attack badnets --patch grid --rate 0.1

# Blended: 0.8*x + 0.2*noise, one uniform-noise pattern drawn from the seed, 10%.
poison_set blend-10 --attack blend --alpha 0.2 --rate 0.1

# SIG is clean-label: only rows already of the target class are eligible (6,000 of 60,000) and labels are
# kept. Rate 0.5 stamps the stripes on half of them: 3,000 rows, 5% of the training set, between the
# dirty-label sets' 1% and 10%. Half, not all, so that the target class keeps clean images: with every
# target image striped, "stripes" and "T-shirt" could not be told apart, and the set would test whether a
# model can learn the class at all rather than whether a defence can find the poison.
poison_set sig --attack sig --alpha 0.2 --frequency 6 --rate 0.5

# WaNet: a fixed smooth warp (k = 4, s = 0.5), 10%, with its noise mode on (--cross-ratio 2, the
# paper's setting): 10,800 other rows get the warp plus random jitter and keep their labels. Without
# them a model learns "any warp means class 0" instead of this warp, which is not the attack WaNet
# describes and is easier to detect. The cross rows are not poisoned (poisoned = false, attack =
# 'wanet-noise'): an audit that flags them has found a false positive.
poison_set wanet-10 --attack wanet --k 4 --strength 0.5 --rate 0.1 --cross-ratio 2

# Low poisoning rates, where ABL is known to be weak (BackdoorBench ranks it near last at 1%).
poison_set badnets-1 --attack badnets --patch grid --rate 0.01
poison_set badnets-5 --attack badnets --patch grid --rate 0.05

echo "== done: $OUT"
