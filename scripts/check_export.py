#!/usr/bin/env python3
"""Checks `serkd-convert export` output with onnx and onnxruntime against `serkd-run infer`.

For each exported ONNX file: onnx.checker (full check), then onnxruntime on a random float32 input
at batch 1 and 4 (only the saved batch when the export kept a fixed one), compared with
`serkd-run infer` on the same input. The number reported is max|onnxruntime − serkd| divided by
max|serkd| (the output scale); it must be at most --tolerance. When the export came from another
producer's ONNX file, onnxruntime also runs that original, and its difference from the export
("vs original") separates what the export changed from float32 differences between runtimes.

MODEL may be:
  X.serkd   exported to a temporary X.onnx, which is checked against serkd-run on X.serkd;
  X.onnx    written by serkd (producer "serkd"): checked against serkd-run on itself, or on the
            .serkd given with --source;
  X.onnx    from any other producer: imported (serkd-convert import, batch 2), exported, and
            checked against serkd-run on the import.

    swift build -c release --product serkd-convert && swift build -c release --product serkd-run
    python3 scripts/check_export.py Tests/Fixtures/models/tiny_*.onnx models/deit_tiny_distilled_patch16_224.onnx

Exits 0 without checking anything when onnxruntime is not installed.
"""
import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

try:
    import numpy as np
    import onnxruntime
except ImportError as error:
    print(f"check_export.py: skipped ({error.name} is not installed)")
    sys.exit(0)
try:
    import onnx
except ImportError:
    onnx = None


def run(command):
    """Runs a serkd tool; a failure is reported with its one-line error and ends the check."""
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip() or f"{command[0]} exited with {result.returncode}")
    return result


def producer(path):
    if onnx is None:
        return ""
    return onnx.load(path, load_external_data=False).producer_name


def prepare(model, source, folder, binaries, opset):
    """Returns (exported .onnx, model serkd-run compares with, the original ONNX or None, export note)."""
    convert = os.path.join(binaries, "serkd-convert")
    stem = os.path.basename(model).rsplit(".", 1)[0]
    original = None
    if model.endswith(".onnx") and (source or producer(model) == "serkd"):
        return model, source or model, None, ""
    if model.endswith(".onnx"):
        original = model
        imported = os.path.join(folder, stem + ".serkd")
        run([convert, "import", model, imported, "--batch", "2"])
        source = imported
    else:
        source = model
    exported = os.path.join(folder, stem + ".onnx")
    result = run([convert, "export", source, "-o", exported, "--opset", str(opset)])
    return exported, source, original, result.stderr.strip()


def check(model, args, folder):
    exported, source, original, note = prepare(model, args.source, folder, args.bin, args.opset)
    if note:
        print(f"  {note}")
    if onnx is not None:
        onnx.checker.check_model(onnx.load(exported), full_check=True)
    session = onnxruntime.InferenceSession(exported, providers=["CPUExecutionProvider"])
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise RuntimeError(f"{len(inputs)} inputs; the check feeds exactly one")
    shape = inputs[0].shape
    if any(not isinstance(extent, int) for extent in shape[1:]):
        raise RuntimeError(f"input shape {shape} has symbolic axes after the batch")
    batches = args.batches if not isinstance(shape[0], int) else [shape[0]]
    reference = onnxruntime.InferenceSession(original, providers=["CPUExecutionProvider"]) if original else None
    rng = np.random.default_rng(args.seed)
    worst = 0.0
    for batch in batches:
        x = rng.standard_normal([batch] + shape[1:]).astype(np.float32)
        theirs = session.run(None, {inputs[0].name: x})[0]
        x_path, y_path = os.path.join(folder, "x.npy"), os.path.join(folder, "y.npy")
        np.save(x_path, x)
        run([os.path.join(args.bin, "serkd-run"), "infer", source, "--input", x_path, "--output", y_path, "--top", "0"])
        ours = np.load(y_path)
        if ours.shape != theirs.shape:
            raise RuntimeError(f"batch {batch}: onnxruntime gives {theirs.shape}, serkd-run {ours.shape}")
        difference = float(np.abs(theirs.astype(np.float64) - ours).max())
        scale = float(np.abs(ours).max()) or 1.0
        worst = max(worst, difference / scale)
        fixed = "" if batches == args.batches else " (fixed batch)"
        line = f"  batch {batch}{fixed}: output {list(theirs.shape)}, max |Δ| {difference:.3g}, scale {scale:.3g}, relative {difference / scale:.3g}"
        if reference is not None:
            before = reference.run(None, {reference.get_inputs()[0].name: x})[0]
            line += f"; vs original {float(np.abs(theirs.astype(np.float64) - before).max()) / scale:.3g}"
        print(line)
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", help=".serkd or .onnx files")
    parser.add_argument("--source", help="the .serkd an exported .onnx came from (one model only)")
    parser.add_argument("--opset", type=int, default=17, help="opset for the exports this script makes")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--tolerance", type=float, default=1e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build/release"), help="folder with serkd-convert and serkd-run")
    args = parser.parse_args()
    if args.source and len(args.models) != 1:
        parser.error("--source names the origin of one exported model")
    print(f"onnxruntime {onnxruntime.__version__}" + (f", onnx {onnx.__version__}" if onnx else ", onnx not installed (no checker)"))
    failures = 0
    for model in args.models:
        print(model)
        with tempfile.TemporaryDirectory() as folder:
            try:
                worst = check(model, args, folder)
            except Exception as error:  # one line per model, then the next model
                print(f"  FAILED: {str(error).splitlines()[0] if str(error) else type(error).__name__}")
                failures += 1
                continue
        verdict = "ok" if worst <= args.tolerance else "TOO LARGE"
        failures += worst > args.tolerance
        print(f"  worst relative difference {worst:.3g} ({verdict}, tolerance {args.tolerance:g})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
