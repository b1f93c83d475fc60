#!/usr/bin/env python3
"""serkd against onnxruntime on full-size exported models: max |difference| relative to output scale.

For every `models/NAME.onnx` with the `NAME.input.npy` / `NAME.output.npy` pair written by
scripts/export_models.py (batch 2, onnxruntime's output), runs `serkd-run infer` and reports
max|serkd - onnxruntime| / max|onnxruntime|. Fails (exit 1) when any ratio exceeds --tolerance.

    swift build -c release
    python3 scripts/export_models.py --only full [--exporter dynamo]
    python3 scripts/parity.py
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError as error:  # pragma: no cover
    sys.exit(f"parity.py needs numpy ({error})")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", help="ONNX files (default: models/*.onnx)")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/serkd-run"))
    args = parser.parse_args()
    models = args.models or sorted(glob.glob(os.path.join(ROOT, "models", "*.onnx")))
    if not models:
        sys.exit("no models: run scripts/export_models.py --only full")
    worst = 0.0
    print(f"{'model':48} {'max |Δ|':>10} {'output scale':>13} {'relative':>10}")
    for model in models:
        stem = model[:-len(".onnx")]
        if not (os.path.exists(stem + ".input.npy") and os.path.exists(stem + ".output.npy")):
            continue
        with tempfile.TemporaryDirectory() as folder:
            out = os.path.join(folder, "y.npy")
            result = subprocess.run([args.binary, "infer", model, "--input", stem + ".input.npy", "--output", out, "--top", "0"],
                                    capture_output=True, text=True)
            if result.returncode != 0:
                print(f"{os.path.basename(model):48} FAILED: {result.stderr.strip()}")
                worst = float("inf")
                continue
            ours, theirs = np.load(out), np.load(stem + ".output.npy")
        difference = float(np.abs(ours.astype(np.float64) - theirs).max())
        scale = float(np.abs(theirs).max())
        worst = max(worst, difference / scale)
        print(f"{os.path.basename(model):48} {difference:>10.3g} {scale:>13.3g} {difference / scale:>10.3g}")
    print(f"worst relative difference {worst:.3g} (tolerance {args.tolerance:g})")
    sys.exit(0 if worst <= args.tolerance else 1)


if __name__ == "__main__":
    main()
