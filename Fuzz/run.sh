#!/bin/bash
# Runs one fuzz target: Fuzz/run.sh TARGET [RUNS] [SECONDS]
#   TARGET: FuzzONNX FuzzModel FuzzPlan FuzzNumPy FuzzPNG FuzzJPEG FuzzRunConfig FuzzSafeTensors
# Seeds its corpus from Tests/Fixtures (models and plans made from the fixture models with the main
# package's tools, which must be built: SERKD_BIN, default .build/debug), runs at most RUNS inputs
# (1000000) or SECONDS (3600), and copies any crasher into Tests/Fixtures/hostile/<kind>/, where the
# test suite replays it. Work files live in FUZZ_WORK (/tmp/serkd-fuzz). Build first: Fuzz/build.sh.
# FUZZ_JOBS=N runs N fuzzing processes on the shared corpus, RUNS/N inputs each (their logs joined).
set -euo pipefail
# One thread everywhere: plans record the thread count they were compiled for.
export SERKD_THREADS=1
target=$1 runs=${2:-1000000} seconds=${3:-3600}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${SERKD_BIN:-$root/.build/debug}
fuzzer=${FUZZ_SCRATCH:-$root/Fuzz/.build}/release/$target
work=${FUZZ_WORK:-/tmp/serkd-fuzz}/$target
fixtures=$root/Tests/Fixtures
mkdir -p "$work/corpus" "$work/crashes" "$work/seeds"

seed() { for f in "$@"; do [ -f "$f" ] && cp "$f" "$work/corpus/$(basename "$(dirname "$f")")-$(basename "$f")"; done; return 0; }
models() { for m in "$fixtures"/models/tiny_*.onnx; do
    name=$(basename "$m" .onnx)
    [ -f "$work/seeds/$name.serkd" ] || "$bin/serkd-convert" import "$m" "$work/seeds/$name.serkd" > /dev/null
done; }
plan_ops='conv|gemm|softmax|maxpool|averagepool|transpose|concat|gather_0|pad|reduce_sum|reduce_mean|layer_norm_2d|batchnorm|matmul|argmax|cast|where|slice|tile|expand|globalaverage|sigmoid|gelu|clip|erf'
training_plan() {
    # A SeRKD step of the fixture ViT pair on a few synthetic CIFAR-10 images (the config needs data).
    [ -f "$work/seeds/train.plan" ] && return
    python3 -c "import os; [open('$work/seeds/' + n, 'wb').write(os.urandom(3073 * 8)) for n in ['data_batch_%d.bin' % i for i in range(1, 6)] + ['test_batch.bin']]"
    cat > "$work/seeds/run.json" <<JSON
{"name": "seed", "method": "serkd", "student": {"model": "$fixtures/training/vit_student.onnx"},
 "teacher": {"model": "$fixtures/training/vit_teacher.onnx"}, "batch": 4, "eval_batch": 4,
 "data": {"dataset": "cifar10", "root": "$work/seeds", "image_size": 32, "channels": 3, "classes": 10}}
JSON
    "$bin/serkd-compile" graph --config "$work/seeds/run.json" -o "$work/seeds/train.plan" > /dev/null
}
max_len=65536
case $target in
    FuzzONNX) kind=onnx; seed "$fixtures"/models/*.onnx "$fixtures"/onnx-node/*/model.onnx "$fixtures"/hostile/*.onnx ;;
    FuzzModel) kind=serkd max_len=262144; models; seed "$work"/seeds/*.serkd ;;
    FuzzPlan) kind=plan max_len=262144
        # Small inference plans from ONNX node cases of most kernels, and a SeRKD training step.
        for m in $(ls -d "$fixtures"/onnx-node/test_* | grep -E "$plan_ops" | head -120); do
            out=$work/seeds/$(basename "$m").plan
            [ -f "$out" ] || "$bin/serkd-compile" model "$m/model.onnx" -o "$out" > /dev/null 2>&1 || true
        done
        training_plan
        seed "$work"/seeds/*.plan ;;
    FuzzSafeTensors) kind=safetensors max_len=262144; models
        for s in "$work"/seeds/*.serkd; do
            [ -f "${s%.serkd}.safetensors" ] || "$bin/serkd-convert" export "$s" -o "${s%.serkd}.safetensors" > /dev/null || true
        done
        seed "$work"/seeds/*.safetensors ;;
    FuzzNumPy) kind=npy; seed $(find "$fixtures" -name '*.npy' -size -64k) "$fixtures"/hostile/*.npy ;;
    FuzzPNG) kind=png; seed "$fixtures"/data/*.png "$fixtures"/hostile/*.png ;;
    FuzzJPEG) kind=jpg; seed "$fixtures"/data/*.jpg "$fixtures"/hostile/*.jpg ;;
    FuzzRunConfig) kind=config; seed "$root"/examples/*/*.json "$fixtures"/training/*.json ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
esac

# Sizes a hostile file asks for are refused above 1 GiB, below libFuzzer's 2 GiB malloc limit.
jobs=${FUZZ_JOBS:-1}
parallel=()
[ "$jobs" -gt 1 ] && parallel=(-jobs="$jobs" -workers="$jobs")
rm -f "$work"/fuzz-*.log
(cd "$work" && SERKD_MEMORY_LIMIT=1GiB "$fuzzer" "$work/corpus" -runs=$((runs / jobs)) -max_total_time="$seconds" "${parallel[@]}" \
    -rss_limit_mb=2048 -timeout=10 -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$work/crashes/" > "$work/log" 2>&1) || true
[ "$jobs" -gt 1 ] && cat "$work"/fuzz-*.log >> "$work/log"
grep -E '^#[0-9]+[[:space:]]+(DONE|INITED)|^Done|stat::|ERROR|SUMMARY' "$work/log" || true
mkdir -p "$fixtures/hostile/$kind"
for crash in "$work"/crashes/*; do [ -f "$crash" ] && cp "$crash" "$fixtures/hostile/$kind/"; done
exit 0
