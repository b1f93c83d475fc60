#!/usr/bin/env python3
"""Inference latency of serkd against onnxruntime, measured in the same run.

For each model and batch size this times onnxruntime (2 intra-op threads, all graph optimisations,
a fresh random input) in this process and serkd through `serkd-bench infer` (release build), with
the same number of warm-up and timed runs, and prints median latencies and the ratio
serkd / onnxruntime (below 1 means serkd is faster). Runs alternate per model so that machine noise
hits both sides alike. With --compare-dnnl, serkd also runs with SERKD_DNNL=0 (every kernel on
serkd's own code and OpenBLAS) and the last column is that time over serkd's: oneDNN's speed-up.
On a shared machine, --rounds N repeats each measurement N times, alternating the sides, and
reports the median of the N medians.

    swift build -c release
    python3 scripts/export_models.py --only full        # writes models/*.onnx
    python3 scripts/bench_inference.py                  # ResNet-101 and ViT-B/16, batch 1 and 8

Needs numpy and onnxruntime; exits with a message if either is missing.
"""
import argparse
import json
import os
import subprocess
import sys
import time

try:
    import numpy as np
    import onnxruntime as ort
except ImportError as error:  # pragma: no cover
    sys.exit(f"bench_inference.py needs numpy and onnxruntime ({error}); pip install numpy onnxruntime")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODELS = ["models/resnet101.onnx", "models/vit_base_patch16_224_mae.onnx"]


def time_onnxruntime(path, batch, repeats, warmup, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feed = {}
    for model_input in session.get_inputs():
        shape = [batch if not isinstance(d, int) or i == 0 else d for i, d in enumerate(model_input.shape)]
        feed[model_input.name] = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
    for _ in range(warmup):
        session.run(None, feed)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, feed)
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds)) * 1000


def time_serkd(binary, path, batch, repeats, warmup, environment=None):
    result = subprocess.run([binary, "infer", path, "--batch", str(batch), "--repeat", str(repeats),
                             "--warmup", str(warmup), "--json"], capture_output=True, text=True,
                            env=dict(os.environ, **(environment or {})))
    if result.returncode != 0:
        sys.exit(f"serkd-bench failed on {path}: {result.stderr.strip()}")
    return json.loads(result.stdout.strip().splitlines()[-1])["median_ms"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", default=DEFAULT_MODELS)
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/serkd-bench"))
    parser.add_argument("--compare-dnnl", action="store_true", help="also time serkd with SERKD_DNNL=0")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds per measurement (median of medians)")
    args = parser.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} not found: run `swift build -c release` first")
    os.environ.setdefault("SERKD_THREADS", str(args.threads))
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))

    header = f"{'model':42} {'batch':>5} {'onnxruntime ms':>15} {'serkd ms':>10} {'serkd/ort':>10}"
    print(header + (f" {'DNNL=0 ms':>10} {'DNNL=0/ort':>10} {'off/on':>7}" if args.compare_dnnl else ""))
    for path in args.models:
        if not os.path.exists(path):
            sys.exit(f"{path} not found: run scripts/export_models.py --only full")
        for batch in [int(b) for b in args.batches.split(",")]:
            sides = {"ours": [], "theirs": [], "off": []}
            for _ in range(args.rounds):
                sides["ours"].append(time_serkd(args.binary, path, batch, args.repeat, args.warmup))
                sides["theirs"].append(time_onnxruntime(path, batch, args.repeat, args.warmup, args.threads))
                if args.compare_dnnl:
                    sides["off"].append(time_serkd(args.binary, path, batch, args.repeat, args.warmup, {"SERKD_DNNL": "0"}))
            ours, theirs = float(np.median(sides["ours"])), float(np.median(sides["theirs"]))
            line = f"{os.path.basename(path):42} {batch:>5} {theirs:>15.1f} {ours:>10.1f} {ours / theirs:>10.2f}"
            if args.compare_dnnl:
                off = float(np.median(sides["off"]))
                line += f" {off:>10.1f} {off / theirs:>10.2f} {off / ours:>7.2f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
