#!/usr/bin/env bash
# The README's Fashion-MNIST results: the student of examples/fashion-mnist/student.json trained
# with method none, kd, rkd and serkd, two seeds each, on the full 60k/10k split, same budget.
#
#   EPOCHS=N (default: the config's), SEEDS="0 1", OUT=runs/table
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
scripts/setup.sh
swift build -c release 2>&1 | tail -1
bin=.build/release
out=${OUT:-runs/table}
config=examples/fashion-mnist/student.json
extra=()
[ -n "${EPOCHS:-}" ] && extra+=(--set epochs=$EPOCHS)
runs=()
for seed in ${SEEDS:-0 1}; do
  for method in none kd rkd serkd; do
    folder="$out/$method-seed$seed"
    runs+=("$folder")
    [ -f "$folder/best.serkd" ] && [ -z "${RERUN:-}" ] && continue
    echo "== $method, seed $seed"
    "$bin/serkd-run" train --config "$config" --set method=$method --set seed=$seed --output "$folder" --force --quiet "${extra[@]}" \
      | grep -E "^epoch [0-9]+:|teacher:|training step"
  done
done
"$bin/serkd-run" compare "${runs[@]}"
