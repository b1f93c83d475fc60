#!/usr/bin/env python3
"""One SeRKD training step in PyTorch, written as fixtures serkd's training graph must reproduce.

Two cases (METHOD.md §11 and §9), each with fixed weights and one fixed batch:

  vit     tiny DeiT-style student with a distillation token (timm VisionTransformerDistilled,
          32x32 images, patch 4 -> 8x8 tokens, dim 16, depth 2, 2 heads, 10 classes) and a tiny
          MAE-style ViT teacher (global average pool + fc_norm, dim 24, depth 2, 3 heads).
          Loss = softCE(z_cls, y) + α·KD(z_dist, z_T, T) + β·MSE(proj(X_S), X_T)
                 + γ·RKD-distance(S_S, S_T) + δ·RKD-angle(S_S, S_T)
          with X the last block's visual tokens (before the final norm), S their superpixel tokens
          (grid 2, 1 iteration, STViT borders) and proj a Linear(16 -> 24).
  resnet  tiny ResNet student (BasicBlock, widths 8/16/24/32, BatchNorm in training mode) and a
          tiny ResNet teacher (widths 12/24/40/48, frozen, eval mode), 64x64 images. Stage 1-3
          maps are tokenised by average pooling with strides 4/2/1 (4x4 tokens each), clustered
          into superpixel tokens, and Σ_stages γ·D + δ·A is added to softCE + α·KD on the logits.

The step itself runs in float64 (models converted after export, float32 weights represented
exactly), so the fixtures are the exact values of these formulas: RKD's Gram-trick pdist cancels
badly in float32 on large ReLU features, and the yardstick must not carry that error.

Then one AdamW step (lr 1e-3, betas 0.9/0.999, eps 1e-8, weight decay 0.05 except on 1-D
parameters and pos_embed/cls_token/dist_token, like timm's optimizer factory for DeiT).

Written to Tests/Fixtures/training/: the student and teacher ONNX files (exported with the legacy
exporter; BatchNorm kept in the ResNet student) and CASE.npz holding the batch, every loss term,
and for every student ONNX initializer its gradient (`grad/NAME`) and value after the step
(`updated/NAME`), in the ONNX layout (MatMul weights are stored transposed by the exporter), plus
the projection's initial values, gradients and updates (`proj.weight`, `proj.bias`) and the
student's BatchNorm running statistics after the step. CASE.json records the settings and the tap
tensor names. Run from the repository root:

    python3 scripts/make_training_fixtures.py

Needs torch, timm, onnx and numpy; exits with a message if one is missing.
"""
import json
import os
import sys

try:
    import numpy as np
    import onnx
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from onnx import numpy_helper
except ImportError as error:  # pragma: no cover
    sys.exit(f"make_training_fixtures.py needs torch, timm, onnx and numpy ({error})")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serkd_reference as ref  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "training")
SETTINGS = dict(alpha=1.0, beta=1.0, gamma=0.5, delta=1.0, temperature=2.0, grid=2, iterations=1,
                label_smoothing=0.1, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.05,
                no_weight_decay_names=["pos_embed", "cls_token", "dist_token"], batch=4, classes=10)


def export(model, shape, path, fold=True):
    model.eval()
    torch.onnx.export(model, torch.zeros(shape), path, input_names=["input"], output_names=["logits"],
                      opset_version=17, dynamo=False, do_constant_folding=fold)


def perturb(model, generator):
    """Non-trivial values for parameters a fresh init leaves constant (biases, norm weights)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() <= 1 or "token" in name:
                p.add_(0.05 * torch.randn(p.shape, generator=generator))


def soft_targets(labels, classes, smoothing):
    off = smoothing / classes
    return torch.full((len(labels), classes), off).scatter_(1, labels[:, None], 1 - smoothing + off)


def decays(name, p):
    return p.dim() > 1 and not any(name.endswith(n) for n in SETTINGS["no_weight_decay_names"])


def adamw(params_by_name):
    decay = [p for n, p in params_by_name if decays(n, p)]
    no_decay = [p for n, p in params_by_name if not decays(n, p)]
    return torch.optim.AdamW([{"params": decay, "weight_decay": SETTINGS["weight_decay"]},
                              {"params": no_decay, "weight_decay": 0.0}],
                             lr=SETTINGS["lr"], betas=(SETTINGS["beta1"], SETTINGS["beta2"]), eps=SETTINGS["eps"])


def onnx_layout(path, params):
    """Maps each float initializer of the ONNX file to (torch name, transposed?) by value."""
    model = onnx.load(path)
    mapping = {}
    for init in model.graph.initializer:
        array = numpy_helper.to_array(init)
        if array.dtype != np.float32:
            continue
        for name, p in params.items():
            value = p.detach().numpy()
            if value.shape == array.shape and np.array_equal(value, array):
                mapping[init.name] = (name, False)
                break
            if value.ndim == 2 and value.T.shape == array.shape and np.array_equal(value.T, array):
                mapping[init.name] = (name, True)
                break
    return mapping


def record(arrays, prefix, mapping, values):
    for onnx_name, (name, transposed) in mapping.items():
        if name in values:
            v = values[name].detach().numpy()
            arrays[f"{prefix}/{onnx_name}"] = np.ascontiguousarray(v.T if transposed else v, dtype=np.float32)


def f32(t):
    return t.detach().numpy().astype(np.float32)


def node_output(path, suffix):
    names = [o for n in onnx.load(path).graph.node for o in n.output if o.endswith(suffix)]
    assert len(names) == 1, f"{path}: expected one tensor ending in {suffix}, found {names}"
    return names[0]


def vit_case(generator):
    from timm.models.deit import VisionTransformerDistilled
    from timm.models.vision_transformer import VisionTransformer
    torch.manual_seed(0)
    student = VisionTransformerDistilled(img_size=32, patch_size=4, embed_dim=16, depth=2, num_heads=2, mlp_ratio=2,
                                         num_classes=10)
    teacher = VisionTransformer(img_size=32, patch_size=4, embed_dim=24, depth=2, num_heads=3, mlp_ratio=2,
                                num_classes=10, global_pool="avg", fc_norm=True)
    for model in (student, teacher):
        model.blocks[-1].register_forward_hook(lambda m, i, o: setattr(m, "tokens", o))
        perturb(model, generator)
    proj = nn.Linear(16, 24)
    student_path, teacher_path = os.path.join(OUT, "vit_student.onnx"), os.path.join(OUT, "vit_teacher.onnx")
    export(student, (SETTINGS["batch"], 3, 32, 32), student_path)
    export(teacher, (SETTINGS["batch"], 3, 32, 32), teacher_path)

    x = torch.randn((SETTINGS["batch"], 3, 32, 32), generator=generator)
    labels = torch.randint(0, 10, (SETTINGS["batch"],), generator=generator)
    targets = soft_targets(labels, 10, SETTINGS["label_smoothing"])
    mapping = onnx_layout(student_path, dict(student.named_parameters()))
    initial_proj = {k: v.detach().clone() for k, v in proj.named_parameters()}
    for model in (student, teacher, proj):
        model.double()
    x, targets = x.double(), targets.double()
    params = dict(student.named_parameters())

    student.train()
    student.set_distilled_training(True)  # DeiT training: both heads, not their mean
    teacher.eval()
    with torch.no_grad():
        z_t = teacher(x)
        x_t = teacher.blocks[-1].tokens[:, 1:]
    z_cls, z_dist = student(x)
    x_s = student.blocks[-1].tokens[:, 2:]
    s = SETTINGS
    terms = {"ce": ref.soft_cross_entropy(z_cls, targets),
             "kd": ref.kd_loss(z_dist, z_t, s["temperature"]),
             "feat": F.mse_loss(proj(x_s), x_t)}
    s_s = ref.superpixel_tokens(x_s, 8, 8, s["grid"], s["iterations"])
    with torch.no_grad():
        s_t = ref.superpixel_tokens(x_t, 8, 8, s["grid"], s["iterations"])
    terms["distance"] = ref.rkd_distance(s_s, s_t)
    terms["angle"] = ref.rkd_angle(s_s, s_t)
    total = terms["ce"] + s["alpha"] * terms["kd"] + s["beta"] * terms["feat"] + s["gamma"] * terms["distance"] + s["delta"] * terms["angle"]
    total.backward()
    arrays = {"input": f32(x), "labels": labels.numpy().astype(np.int64), "targets": f32(targets)}
    for name, value in terms.items():
        arrays[f"loss/{name}"] = np.float64(value.item())
    arrays["loss/total"] = np.float64(total.item())
    record(arrays, "grad", mapping, {n: p.grad for n, p in params.items()})
    for name, p in proj.named_parameters():
        arrays[f"initial/proj.{name}"] = f32(initial_proj[name])
        arrays[f"grad/proj.{name}"] = f32(p.grad)
    adamw(list(student.named_parameters()) + [("proj." + n, p) for n, p in proj.named_parameters()]).step()
    record(arrays, "updated", mapping, params)
    for name, p in proj.named_parameters():
        arrays[f"updated/proj.{name}"] = f32(p)
    config = dict(SETTINGS, student="vit_student.onnx", teacher="vit_teacher.onnx",
                  student_taps=dict(tokens=node_output(student_path, "blocks.1/Add_1_output_0"), prefix_tokens=2,
                                    class_logits=node_output(student_path, "/head/Gemm_output_0"),
                                    distillation_logits=node_output(student_path, "/head_dist/Gemm_output_0")),
                  teacher_taps=dict(tokens=node_output(teacher_path, "blocks.1/Add_1_output_0"), prefix_tokens=1, logits="logits"),
                  token_grid=[8, 8], feature_projection=[16, 24],
                  parameters={k: dict(torch_name=v[0], transposed=v[1], weight_decay=decays(v[0], params[v[0]])) for k, v in mapping.items()})
    return arrays, config


def tiny_resnet(widths):
    from torchvision.models.resnet import BasicBlock, ResNet

    class TinyResNet(ResNet):
        def __init__(self):
            super().__init__(BasicBlock, [1, 1, 1, 1], num_classes=10)
            self.inplanes = widths[0]
            self.conv1 = nn.Conv2d(3, widths[0], 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(widths[0])
            self.layer1 = self._make_layer(BasicBlock, widths[0], 1)
            self.layer2 = self._make_layer(BasicBlock, widths[1], 1, stride=2)
            self.layer3 = self._make_layer(BasicBlock, widths[2], 1, stride=2)
            self.layer4 = self._make_layer(BasicBlock, widths[3], 1, stride=2)
            self.fc = nn.Linear(widths[3], 10)
    return TinyResNet()


def resnet_case(generator):
    torch.manual_seed(1)
    student, teacher = tiny_resnet([8, 16, 24, 32]), tiny_resnet([12, 24, 40, 48])
    for model in (student, teacher):
        perturb(model, generator)
        with torch.no_grad():  # non-trivial running statistics
            for m in model.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.running_mean.normal_(0, 0.1, generator=generator)
                    m.running_var.uniform_(0.5, 1.5, generator=generator)
        for layer in (model.layer1, model.layer2, model.layer3):
            layer.register_forward_hook(lambda m, i, o: setattr(m, "map", o))
    student_path, teacher_path = os.path.join(OUT, "resnet_student.onnx"), os.path.join(OUT, "resnet_teacher.onnx")
    export(student, (SETTINGS["batch"], 3, 64, 64), student_path, fold=False)
    export(teacher, (SETTINGS["batch"], 3, 64, 64), teacher_path)

    x = torch.randn((SETTINGS["batch"], 3, 64, 64), generator=generator)
    labels = torch.randint(0, 10, (SETTINGS["batch"],), generator=generator)
    targets = soft_targets(labels, 10, SETTINGS["label_smoothing"])
    mapping = onnx_layout(student_path, {**dict(student.named_parameters()), **dict(student.named_buffers())})
    for model in (student, teacher):
        model.double()
    x, targets = x.double(), targets.double()
    params = dict(student.named_parameters())
    buffers = dict(student.named_buffers())

    student.train()
    teacher.eval()
    with torch.no_grad():
        z_t = teacher(x)
    z_s = student(x)
    s = SETTINGS
    terms = {"ce": ref.soft_cross_entropy(z_s, targets), "kd": ref.kd_loss(z_s, z_t, s["temperature"]),
             "distance": 0, "angle": 0}
    for layer, stride in (("layer1", 4), ("layer2", 2), ("layer3", 1)):
        def tokens(model):
            pooled = F.avg_pool2d(getattr(model, layer).map, stride) if stride > 1 else getattr(model, layer).map
            return pooled.flatten(2).transpose(1, 2)
        s_s = ref.superpixel_tokens(tokens(student), 4, 4, s["grid"], s["iterations"])
        with torch.no_grad():
            s_t = ref.superpixel_tokens(tokens(teacher), 4, 4, s["grid"], s["iterations"])
        terms["distance"] = terms["distance"] + ref.rkd_distance(s_s, s_t)
        terms["angle"] = terms["angle"] + ref.rkd_angle(s_s, s_t)
    total = terms["ce"] + s["alpha"] * terms["kd"] + s["gamma"] * terms["distance"] + s["delta"] * terms["angle"]
    total.backward()
    arrays = {"input": f32(x), "labels": labels.numpy().astype(np.int64), "targets": f32(targets)}
    for name, value in terms.items():
        arrays[f"loss/{name}"] = np.float64(value.item())
    arrays["loss/total"] = np.float64(total.item())
    record(arrays, "grad", mapping, {n: p.grad for n, p in params.items()})
    adamw(list(student.named_parameters())).step()
    record(arrays, "updated", mapping, {**params, **buffers})
    taps = {}
    for layer in ("layer1", "layer2", "layer3"):
        taps[layer] = node_output(student_path, f"/{layer}/{layer}.0/relu_1/Relu_output_0")
    teacher_taps = {layer: node_output(teacher_path, f"/{layer}/{layer}.0/relu_1/Relu_output_0") for layer in taps}
    config = dict(SETTINGS, student="resnet_student.onnx", teacher="resnet_teacher.onnx", beta=0.0,
                  student_taps=dict(stages=[taps[k] for k in ("layer1", "layer2", "layer3")], logits="logits"),
                  teacher_taps=dict(stages=[teacher_taps[k] for k in ("layer1", "layer2", "layer3")], logits="logits"),
                  tokenizer="avgpool", tokenizer_strides=[4, 2, 1], token_grid=[4, 4],
                  parameters={k: dict(torch_name=v[0], transposed=v[1],
                                      weight_decay=v[0] in params and decays(v[0], params[v[0]]),
                                      buffer=v[0] in buffers) for k, v in mapping.items()})
    return arrays, config


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    for case, build in (("vit", vit_case), ("resnet", resnet_case)):
        generator = torch.Generator().manual_seed(42)
        arrays, config = build(generator)
        np.savez_compressed(os.path.join(OUT, f"{case}.npz"), **arrays)
        with open(os.path.join(OUT, f"{case}.json"), "w") as f:
            json.dump(config, f, indent=1, sort_keys=True)
        print(f"{case}: total loss {arrays['loss/total']:.6f} "
              + " ".join(f"{k[5:]}={float(v):.6f}" for k, v in arrays.items() if k.startswith("loss/") and k != "loss/total")
              + f", {sum(1 for k in arrays if k.startswith('grad/'))} gradients")


if __name__ == "__main__":
    main()
