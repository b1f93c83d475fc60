#!/usr/bin/env python3
"""Tiny timm and torchvision models with random weights, written as fixtures serkd's model zoo must
reproduce (Sources/Distill/Zoo, Tests/DistillTests/ZooParityTests.swift).

Cases (each a scaled-down copy of a zoo architecture, built with the real library classes):

  deit         timm VisionTransformerDistilled: 16x16 RGB, patch 4, dim 16, depth 2, 2 heads, 5 classes
  vit_mae      timm VisionTransformer with global_pool='avg' + fc_norm (MAE fine-tuning): 16x16 grey,
               patch 4, dim 24, depth 2, 3 heads, 5 classes
  resnet       torchvision ResNet of BasicBlocks [2, 1, 1, 1], widths 4/8/8/16, the ImageNet stem
               (7x7/2 conv + max pool), 32x32 RGB, 5 classes
  resnet_small the same with widths 4/8/12/16, a 3x3/1 stem and no max pool, 16x16 grey

Biases, norm weights, class/distillation tokens and BatchNorm statistics get random values so no
term is trivially zero or one. Outputs are computed in float64 from the float32 weights (eval mode,
timm's unfused attention) and stored as float32, so the fixtures are the formulas' values to float32
rounding, not PyTorch's float32 arithmetic.

Written to Tests/Fixtures/zoo/:
  CASE.weights.npz  the model's state dict (float32, PyTorch key names, num_batches_tracked included)
  CASE.npz          `input`, `output`, and `tap/NAME` for each tapped module output (float32)
  cases.json        per case: batch and the zoo configuration (serkd's VisionTransformer/ResNet fields)

Run from the repository root:

    python3 scripts/make_zoo_fixtures.py

Needs torch, timm, torchvision and numpy; exits with a message if one is missing.
"""
import json
import os
import sys

try:
    import numpy as np
    import torch
    import torch.nn as nn
    from timm.models.deit import VisionTransformerDistilled
    from timm.models.vision_transformer import VisionTransformer
    from torchvision.models.resnet import BasicBlock, ResNet
except ImportError as error:  # pragma: no cover
    sys.exit(f"make_zoo_fixtures.py needs torch, timm, torchvision and numpy ({error})")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "zoo")
BATCH = 2
CLASSES = 5


def randomize(model, generator):
    """Random values for what a fresh init leaves constant (biases, norm weights, tokens, BN stats)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() <= 1 or "token" in name:
                p.add_(0.1 * torch.randn(p.shape, generator=generator))
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.1 * torch.randn(b.shape, generator=generator))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape, generator=generator))


def vit_config(model, image, channels, head):
    block = model.blocks[0]
    return dict(imageSize=image, patchSize=model.patch_embed.patch_size[0], channels=channels, classes=CLASSES,
                width=model.embed_dim, depth=len(model.blocks), heads=block.attn.num_heads,
                mlpRatio=block.mlp.fc1.out_features / model.embed_dim, head=head, dropPath=0.0,
                layerNormEpsilon=block.norm1.eps)


def tiny_resnet(widths, blocks, channels, small):
    model = ResNet(BasicBlock, blocks, num_classes=CLASSES)
    kernel, stride = (3, 1) if small else (7, 2)
    model.inplanes = widths[0]
    model.conv1 = nn.Conv2d(channels, widths[0], kernel_size=kernel, stride=stride, padding=kernel // 2, bias=False)
    model.bn1 = nn.BatchNorm2d(widths[0])
    if small:
        model.maxpool = nn.Identity()
    model.layer1 = model._make_layer(BasicBlock, widths[0], blocks[0])
    model.layer2 = model._make_layer(BasicBlock, widths[1], blocks[1], stride=2)
    model.layer3 = model._make_layer(BasicBlock, widths[2], blocks[2], stride=2)
    model.layer4 = model._make_layer(BasicBlock, widths[3], blocks[3], stride=2)
    model.fc = nn.Linear(widths[3], CLASSES)
    return model


def cases():
    deit = VisionTransformerDistilled(img_size=16, patch_size=4, in_chans=3, num_classes=CLASSES, embed_dim=16, depth=2, num_heads=2)
    yield "deit", deit, (3, 16), ["head", "head_dist", "blocks"], dict(visionTransformer=vit_config(deit, 16, 3, "distilled"))

    mae = VisionTransformer(img_size=16, patch_size=4, in_chans=1, num_classes=CLASSES, embed_dim=24, depth=2, num_heads=3,
                            global_pool="avg", fc_norm=True)
    yield "vit_mae", mae, (1, 16), ["head", "blocks"], dict(visionTransformer=vit_config(mae, 16, 1, "globalPool"))

    for name, widths, blocks, channels, image, small in [("resnet", [4, 8, 8, 16], [2, 1, 1, 1], 3, 32, False),
                                                         ("resnet_small", [4, 8, 12, 16], [2, 1, 1, 1], 1, 16, True)]:
        model = tiny_resnet(widths, blocks, channels, small)
        config = dict(imageSize=image, channels=channels, classes=CLASSES, blocks=blocks, widths=widths,
                      stem="smallImages" if small else "imageNet", batchNormEpsilon=model.bn1.eps)
        yield name, model, (channels, image), ["fc", "layer1", "layer2", "layer3"], dict(resNet=config)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)  # the libraries' own initialisation draws from the global generator
    generator = torch.Generator().manual_seed(20250327)
    manifest = []
    for name, model, (channels, image), taps, config in cases():
        randomize(model, generator)
        model.eval()
        for module in model.modules():
            if hasattr(module, "fused_attn"):
                module.fused_attn = False  # the formula timm documents: q * scale, then q @ k^T
        state = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
        images = torch.randn((BATCH, channels, image, image), generator=generator)

        exact = model.double()
        captured = {}
        for tap in taps:
            exact.get_submodule(tap).register_forward_hook(lambda _m, _i, out, tap=tap: captured.__setitem__(tap, out))
        with torch.no_grad():
            output = exact(images.double())

        np.savez(os.path.join(OUT, f"{name}.weights.npz"), **state)
        arrays = {"input": images.numpy(), "output": output.float().numpy()}
        arrays.update({f"tap/{tap}": value.float().numpy() for tap, value in captured.items()})
        np.savez(os.path.join(OUT, f"{name}.npz"), **arrays)
        manifest.append(dict(name=name, batch=BATCH, **config))
        print(f"{name}: {sum(v.size for v in state.values())} weights, output {tuple(output.shape)}")
    with open(os.path.join(OUT, "cases.json"), "w") as file:
        json.dump(manifest, file, indent=1)
        file.write("\n")


if __name__ == "__main__":
    main()
