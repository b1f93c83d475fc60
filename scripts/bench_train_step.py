#!/usr/bin/env python3
"""One SeRKD training step in serkd against the same step in PyTorch, measured in the same run.

The step (METHOD.md §11, assembled like scripts/make_training_fixtures.py, with the literal ports of
scripts/serkd_reference.py): a DeiT-Ti student with a distillation token (timm
deit_tiny_distilled_patch16_224, random weights, train mode, drop-path 0) distils from a frozen
MAE-style ViT-B/16 teacher (timm vit_base_patch16_224 with global_pool='avg', eval mode, no grad),
224x224 images, 1000 classes:

    loss = softCE(z_cls, y, smoothing 0.1) + 1·KD(z_dist, z_T, T=1) + 1·MSE(Linear(192→768)(X_S), X_T)
           + 0.5·RKD-distance(S_S, S_T) + 1·RKD-angle(S_S, S_T)

X is the last block's visual tokens (before the final norm) on the 14x14 map, S their superpixel
tokens (grid 2, 1 iteration); the angle loss is RKD's direct form, the one PyTorch users write.
Then backward and an AdamW step (lr 1e-3, weight decay 0.05 except on 1-D parameters and
pos_embed/cls_token/dist_token, like timm's optimizer factory). serkd runs the same models and
objective through `serkd-bench train-step` (presets deit_tiny_distilled and vit_base_mae).

`--pair cnn` measures the CNN pair instead: a ResNet-18 student (timm resnet18, train mode, BatchNorm
updating its statistics) distilling from a frozen ResNet-101 (timm resnet101, eval mode), with serkd's
CNN objective (METHOD.md §9): softCE + 1·KD on the logits + Σ over layer1-3 of 0.5·RKD-distance +
1·RKD-angle between superpixel tokens of the stage maps average-pooled with strides 4/2/1 (14x14
tokens each at 224 px); no feature loss. serkd trains its resnet18 preset against
models/resnet101.onnx (torchvision's ResNet-101, from scripts/export_models.py), imported as a user's
teacher would be.

Both sides take the same warm-up and timed steps on the same number of threads; the table gives
median and best step time and the peak resident set (getrusage ru_maxrss) of each process, and
serkd / PyTorch (below 1 means serkd is faster or smaller). PyTorch runs in a child process (this
script with --torch-child) so that its peak is its own: this process never imports torch, since
Linux carries a parent's resident set into a child's ru_maxrss across fork and exec. The child also
reports how far its resident set rose during the steps (gradients, AdamW state, activations) above
what the models and the batch already held. Its address space is capped (--torch-limit-gib above
what importing torch and building the models mapped), so a step that does not fit fails inside
PyTorch with an allocation error, reported as such, instead of calling the OOM killer. Its OpenMP
threads spin for a bounded time between ops and then sleep, as serkd's do (GOMP_SPINCOUNT=30000
unless the environment sets it or OMP_WAIT_POLICY): threads that sleep at once pay a wake-up per op
on a virtual machine, and threads that spin without bound on a 2-core machine that is also running
anything else make every op wait for the scheduler; either would measure the machine, not PyTorch.

Run from the repository root after a release build:

    swift build -c release --product serkd-bench
    python3 scripts/bench_train_step.py [--pair vit|cnn] [--batch 8] [--repeat 5] [--warmup 2] [--skip-serkd | --skip-torch]

Needs torch and timm for the PyTorch side; exits with a message if either is missing.
"""
import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Each pair: the timm models on the PyTorch side and what serkd-bench trains (zoo presets or ONNX files).
PAIRS = {
    "vit": dict(student="deit_tiny_distilled_patch16_224", teacher="vit_base_patch16_224",
                serkd_student="deit_tiny_distilled", serkd_teacher="vit_base_mae"),
    "cnn": dict(student="resnet18", teacher="resnet101",
                serkd_student="resnet18", serkd_teacher=os.path.join(ROOT, "models", "resnet101.onnx")),
}
SETTINGS = dict(kd_weight=1.0, temperature=1.0, feature_weight=1.0, distance_weight=0.5, angle_weight=1.0,
                grid=2, iterations=1, label_smoothing=0.1, lr=1e-3, weight_decay=0.05, classes=1000, image_size=224,
                no_weight_decay_names=("pos_embed", "cls_token", "dist_token"))


def resident_bytes():
    """This process's current resident set (VmRSS)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def mapped_bytes():
    """This process's mapped address space (VmSize): the base the RLIMIT_AS cap is added to."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def torch_step(args):
    """The PyTorch side, run in the child: prints one JSON line with times and memory, or an error."""
    import timm
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import serkd_reference as ref

    torch.set_num_threads(args.threads)
    s, size = SETTINGS, SETTINGS["image_size"]
    result = dict(torch=torch.__version__, timm=timm.__version__, threads=torch.get_num_threads())
    torch.manual_seed(0)
    pair = PAIRS[args.pair]
    x = torch.randn(args.batch, 3, size, size)
    labels = torch.randint(0, s["classes"], (args.batch,))
    off = s["label_smoothing"] / s["classes"]
    targets = torch.full((args.batch, s["classes"]), off).scatter_(1, labels[:, None], 1 - s["label_smoothing"] + off)
    if args.pair == "vit":
        student = timm.create_model(pair["student"], pretrained=False, num_classes=s["classes"], drop_path_rate=0.0)
        teacher = timm.create_model(pair["teacher"], pretrained=False, num_classes=s["classes"], global_pool="avg")
        for model in (student, teacher):
            model.blocks[-1].register_forward_hook(lambda m, i, o: setattr(m, "tokens", o))
        student.set_distilled_training(True)  # DeiT training: both heads, not their mean
        proj = nn.Linear(student.embed_dim, teacher.embed_dim)
        side = size // student.patch_embed.patch_size[0]
    else:
        student = timm.create_model(pair["student"], pretrained=False, num_classes=s["classes"])
        teacher = timm.create_model(pair["teacher"], pretrained=False, num_classes=s["classes"])
        for model in (student, teacher):
            for layer in (model.layer1, model.layer2, model.layer3):
                layer.register_forward_hook(lambda m, i, o: setattr(m, "map", o))
        proj = None
    student.train()
    teacher.eval()
    teacher.requires_grad_(False)

    def decays(name, p):
        return p.dim() > 1 and not any(name.endswith(n) for n in s["no_weight_decay_names"])
    named = list(student.named_parameters()) + ([("proj." + n, p) for n, p in proj.named_parameters()] if proj else [])
    optimizer = torch.optim.AdamW([{"params": [p for n, p in named if decays(n, p)], "weight_decay": s["weight_decay"]},
                                   {"params": [p for n, p in named if not decays(n, p)], "weight_decay": 0.0}], lr=s["lr"])

    def vit_loss():
        with torch.no_grad():
            z_t = teacher(x)
            x_t = teacher.blocks[-1].tokens[:, teacher.num_prefix_tokens:]
            s_t = ref.superpixel_tokens(x_t, side, side, s["grid"], s["iterations"])
        z_cls, z_dist = student(x)
        x_s = student.blocks[-1].tokens[:, student.num_prefix_tokens:]
        s_s = ref.superpixel_tokens(x_s, side, side, s["grid"], s["iterations"])
        return (ref.soft_cross_entropy(z_cls, targets) + s["kd_weight"] * ref.kd_loss(z_dist, z_t, s["temperature"])
                + s["feature_weight"] * F.mse_loss(proj(x_s), x_t)
                + s["distance_weight"] * ref.rkd_distance(s_s, s_t) + s["angle_weight"] * ref.rkd_angle(s_s, s_t))

    def cnn_loss():
        # serkd's CNN objective (METHOD.md §9): stages 1-3 average-pooled with strides 4/2/1 into
        # tokens, clustered, Σ_stages γ·D + δ·A added to softCE + α·KD; no feature loss.
        with torch.no_grad():
            z_t = teacher(x)
        z_s = student(x)
        loss = ref.soft_cross_entropy(z_s, targets) + s["kd_weight"] * ref.kd_loss(z_s, z_t, s["temperature"])
        for layer, stride in (("layer1", 4), ("layer2", 2), ("layer3", 1)):
            def tokens(model):
                pooled = getattr(model, layer).map
                pooled = F.avg_pool2d(pooled, stride) if stride > 1 else pooled
                return pooled, pooled.flatten(2).transpose(1, 2)
            map_s, t_s = tokens(student)
            s_s = ref.superpixel_tokens(t_s, map_s.shape[2], map_s.shape[3], s["grid"], s["iterations"])
            with torch.no_grad():
                map_t, t_t = tokens(teacher)
                s_t = ref.superpixel_tokens(t_t, map_t.shape[2], map_t.shape[3], s["grid"], s["iterations"])
            loss = loss + s["distance_weight"] * ref.rkd_distance(s_s, s_t) + s["angle_weight"] * ref.rkd_angle(s_s, s_t)
        return loss

    objective = vit_loss if args.pair == "vit" else cnn_loss

    def step():
        optimizer.zero_grad(set_to_none=True)
        objective().backward()
        optimizer.step()

    # Cap the address space at what is mapped now plus the budget, so a step that does not fit fails
    # with an allocation error here rather than in the OOM killer.
    resource.setrlimit(resource.RLIMIT_AS, (mapped_bytes() + args.torch_limit_gib * 2**30, resource.RLIM_INFINITY))
    before = resident_bytes()
    try:
        for _ in range(args.warmup):
            step()
        seconds = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            step()
            seconds.append(time.perf_counter() - start)
    except (RuntimeError, MemoryError) as error:
        result["error"] = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        print(json.dumps(result))
        return
    seconds.sort()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports kilobytes
    result.update(median_ms=seconds[len(seconds) // 2] * 1000, min_ms=seconds[0] * 1000,
                  max_rss_bytes=peak, step_rss_increase_bytes=peak - before)
    print(json.dumps(result))


def run_torch(args):
    """Runs this script as the PyTorch child and returns its JSON, or {"error": …} if it died."""
    command = [sys.executable, os.path.abspath(__file__), "--torch-child", "--pair", args.pair, "--batch", str(args.batch),
               "--repeat", str(args.repeat), "--warmup", str(args.warmup), "--threads", str(args.threads),
               "--torch-limit-gib", str(args.torch_limit_gib)]
    environment = dict(os.environ)
    if "OMP_WAIT_POLICY" not in environment:
        environment.setdefault("GOMP_SPINCOUNT", "30000")
    completed = subprocess.run(command, capture_output=True, text=True, env=environment)
    if completed.returncode != 0:
        if completed.returncode == -9:
            return {"error": "killed by SIGKILL (out of memory?)"}
        lines = completed.stderr.strip().splitlines() or [f"exit status {completed.returncode}"]
        return {"error": lines[-1][:200]}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run_serkd(args):
    """`serkd-bench train-step` on the matching zoo presets; its JSON line."""
    if not os.path.exists(args.serkd):
        sys.exit(f"{args.serkd} not found: run `swift build -c release --product serkd-bench` first")
    pair = PAIRS[args.pair]
    if pair["serkd_teacher"].endswith(".onnx") and not os.path.exists(pair["serkd_teacher"]):
        sys.exit(f"{pair['serkd_teacher']} not found: run `python3 scripts/export_models.py --only full --models resnet101` first")
    command = [args.serkd, "train-step", "--student", pair["serkd_student"], "--teacher", pair["serkd_teacher"],
               "--batch", str(args.batch), "--classes", str(SETTINGS["classes"]), "--repeat", str(args.repeat),
               "--warmup", str(args.warmup), "--json"]
    environment = dict(os.environ)
    environment.setdefault("SERKD_THREADS", str(args.threads))
    environment.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
    completed = subprocess.run(command, capture_output=True, text=True, env=environment)
    if completed.returncode != 0:
        sys.exit(f"serkd-bench train-step failed: {completed.stderr.strip()}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    if "max_rss_bytes" not in result:
        sys.exit(f"{args.serkd} does not report max_rss_bytes: rebuild it (swift build -c release --product serkd-bench)")
    return result


def mib(value):
    return value / 2**20


def report(args, theirs, ours):
    """The table: step time and peak resident set per side, and their ratios."""
    pair = PAIRS[args.pair]
    pooling = " (global avg pool)" if args.pair == "vit" else ""
    print(f"SeRKD training step, {pair['student']} <- {pair['teacher']}{pooling}, {SETTINGS['image_size']}x"
          f"{SETTINGS['image_size']}, batch {args.batch}, {args.threads} threads; {args.warmup} warm-up + {args.repeat} timed steps")
    if theirs is not None and "error" in theirs:
        print(f"  PyTorch failed (address space capped at {args.torch_limit_gib} GiB above the models): {theirs['error']}")
        theirs = None
    if theirs is None and ours is None:
        return
    print(f"  {'':22} {'median ms':>10} {'min ms':>10} {'peak RSS MiB':>13}")
    if theirs is not None:
        name = f"PyTorch {theirs['torch'].split('+')[0]}"
        print(f"  {name:22} {theirs['median_ms']:>10.1f} {theirs['min_ms']:>10.1f} {mib(theirs['max_rss_bytes']):>13.1f}")
    if ours is not None:
        print(f"  {'serkd':22} {ours['median_ms']:>10.1f} {ours['min_ms']:>10.1f} {mib(ours['max_rss_bytes']):>13.1f}")
    if theirs is not None and ours is not None:
        print(f"  {'serkd / PyTorch':22} {ours['median_ms'] / theirs['median_ms']:>10.2f} {ours['min_ms'] / theirs['min_ms']:>10.2f} "
              f"{ours['max_rss_bytes'] / theirs['max_rss_bytes']:>13.2f}")
    if theirs is not None:
        print(f"  PyTorch resident set rose {mib(theirs['step_rss_increase_bytes']):.1f} MiB during the steps "
              f"(above the models and batch); timm {theirs['timm']}")
    if ours is not None:
        print(f"  serkd plan: {ours['kernels']} kernels, arena {mib(ours['arena_bytes']):.1f} MiB "
              f"(lower bound {mib(ours['lower_bound_bytes']):.1f} MiB), compiled in {ours['compile_s']:.1f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pair", choices=sorted(PAIRS), default="vit",
                        help="vit: DeiT-Ti <- ViT-B/16 (MAE); cnn: ResNet-18 <- ResNet-101 (serkd imports models/resnet101.onnx)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5, help="timed steps (median and min are over these)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch intra-op threads, and SERKD_THREADS")
    parser.add_argument("--torch-limit-gib", type=int, default=12, help="address space PyTorch may add for the steps")
    parser.add_argument("--serkd", default=os.path.join(ROOT, ".build", "release", "serkd-bench"))
    parser.add_argument("--skip-serkd", action="store_true")
    parser.add_argument("--skip-torch", action="store_true")
    parser.add_argument("--torch-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.batch < 1 or args.repeat < 1 or args.warmup < 0:
        sys.exit("--batch and --repeat must be at least 1, --warmup at least 0")
    if args.torch_child:
        torch_step(args)
        return
    if not args.skip_torch:
        # Only look the packages up: importing torch here would grow this process, and with it the child's peak.
        missing = [name for name in ("torch", "timm") if importlib.util.find_spec(name) is None]
        if missing:
            sys.exit(f"bench_train_step.py needs {' and '.join(missing)} for the PyTorch side "
                     f"(pip install torch timm), or pass --skip-torch")
    theirs = None if args.skip_torch else run_torch(args)
    ours = None if args.skip_serkd else run_serkd(args)
    report(args, theirs, ours)


if __name__ == "__main__":
    main()
