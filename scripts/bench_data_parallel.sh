#!/usr/bin/env bash
# Images/s of the Fashion-MNIST example's SeRKD training (examples/fashion-mnist/student.json, release
# build) as 1 process × 2 threads and as 2 MPI ranks × 1 thread, alternating, ROUNDS times each; the
# all-reduce's share of the step as the 2-rank run logs it; CPU seconds per image (user + system),
# which other load on the machine disturbs less than wall time.
# Usage: scripts/bench_data_parallel.sh [ROUNDS=2] [STEPS=60]   (SCRATCH=DIR: SwiftPM's --scratch-path)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
steps=${2:-60}
export PATH="/opt/swift/usr/bin:$PATH"
scratch=(${SCRATCH:+--scratch-path "$SCRATCH"})
swift build -c release "${scratch[@]}" --product serkd-run >/dev/null
bin="$(swift build -c release "${scratch[@]}" --show-bin-path)"
out="$(mktemp -d)"
common=(train --config examples/fashion-mnist/student.json --steps "$steps" --set log_every=20 --set data.eval_limit=64 --quiet)
report() {  # label, log, time file
  # Windows after the first (which includes start-up): their img/s, and the all-reduce share when logged.
  rates=$(grep -o '| [0-9]* img/s' "$2" | tail -n +2 | grep -o '[0-9]*' | tr '\n' ' ')
  share=$(grep -o 'all-reduce [0-9.]*%' "$2" | tail -n +2 | grep -o '[0-9.]*' | tr '\n' ' ' || true)
  read -r wall user system < "$3"
  cpu=$(python3 -c "print(f'{($user + $system) / ($steps * 64) * 1000:.1f}')")
  echo "$1: img/s by window: $rates| all-reduce %: ${share:-—} | wall ${wall}s, ${cpu} CPU ms per image"
}
for round in $(seq "$rounds"); do
  /usr/bin/time -f "%e %U %S" -o "$out/t1" env SERKD_THREADS=2 OPENBLAS_NUM_THREADS=2 \
    "$bin/serkd-run" "${common[@]}" --output "$out/one" > "$out/one.log"
  report "round $round, 1 rank × 2 threads" "$out/one.log" "$out/t1"
  /usr/bin/time -f "%e %U %S" -o "$out/t2" mpirun --allow-run-as-root -np 2 -x SERKD_THREADS=1 -x OPENBLAS_NUM_THREADS=1 \
    "$bin/serkd-run" "${common[@]}" --set data.workers=1 --output "$out/two" > "$out/two.log"
  report "round $round, 2 ranks × 1 thread" "$out/two.log" "$out/t2"
done
rm -rf "$out"
