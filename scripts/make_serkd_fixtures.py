#!/usr/bin/env python3
"""Regenerates Tests/Fixtures/serkd/: PyTorch values of SeRKD's superpixel tokens and relation losses.

serkd computes superpixel tokens with a dense masked association (METHOD.md §3.3) and the RKD angle
loss from Gram matrices (§5.2). This script computes the same quantities the way the method's own
sources do, so the Swift tests (Tests/DistillTests/SeRKDFixtureTests.swift) compare two independent
formulations:

  superpixel tokens   a literal port of STViT's unfold/fold code (hhb072/STViT: models/stvit.py,
                      StokenAttention.stoken_forward); the SSN-style 'mask' border masks the
                      zero-padded neighbours out of the softmax instead of keeping their logit 0
  RKD distance/angle  a literal port of lenscloth/RKD: metric/loss.py (RkdDistance, RKdAngle),
                      batched over images as METHOD.md §5.2 describes; μ per image or per batch
  gradients           torch.autograd with the teacher detached and the association held constant

Inputs are drawn in float32 and saved as float32; every reference value is computed from those
float32 inputs in float64 and saved rounded to float32.

Run from the repository root:

    python3 scripts/make_serkd_fixtures.py

Needs numpy and torch (exits 0 with a message if either is missing). Last run with numpy 2.4.6,
torch 2.15.0.

Outputs, <case>.<quantity>.npy (float32):
  sp8x8.x [2,64,6]                tokens on an 8×8 map, grid 2 → 16 super tokens (interior and border cells)
  sp8x8.upstream [2,16,6]         dL/dS used for the gradients
  sp8x8.<variant>.s / .q / .dx    S [2,16,6], Q̂ [2,64,16], dX = autograd of Σ S·upstream, for the
                                  variants iter0 (average pooling), iter1, iter2 (STViT border),
                                  iter1_mask (SSN border)
  sp6x6g3.x [1,36,4], sp6x6g3.<iter1|iter1_mask>.s / .q    grid 3 → 2×2 super tokens, every cell a border cell
  sp14x14.x [2,196,6], .upstream, .iter1.s / .dx            ViT-B/16's 14×14 map, grid 2 → 49 super tokens
  rel<B>x<N>.student [B,N,Ds], .teacher [B,N,Dt]           token sets for (B,N,Ds,Dt) = (2,49,8,12), (3,16,5,7)
  rel<B>x<N>.distance_image / distance_batch / angle       losses (scalars) with μ per image / per batch
  rel<B>x<N>.distance_image_grad / distance_batch_grad / angle_grad    dL/dS_s
  pipeline.student [2,196,6], .teacher [2,196,10]          visual tokens of a 14×14 map
  pipeline.loss, pipeline.grad    0.5·L_D + 1.0·L_A of their superpixel tokens (grid 2, 1 iteration,
                                  STViT border, μ per image) and its gradient w.r.t. the student tokens
"""
import os
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as error:
    print(f"skipping: {error} (needs numpy and torch)")
    sys.exit(0)

from serkd_reference import rkd_angle  # RKD's direct form (lenscloth/RKD metric/loss.py)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "serkd")
DTYPE = torch.float64


# ---- STViT super tokens (hhb072/STViT: models/stvit.py, StokenAttention.stoken_forward) ----------

def stvit_super_tokens(x, height, width, grid, n_iter, border="stvit"):
    """Tokens x [B, H*W, C] → (S [B, M, C], affinity [B, M, g*g, 9], affinity_sum [B, 1, hh, ww]).

    The body is STViT's, with the tokens reshaped to its (B, C, H, W) layout. With border='mask'
    the neighbours that unfold zero-pads are excluded from the softmax (SSN's rule).
    """
    B, N, C = x.shape
    h = w = grid
    hh, ww = height // h, width // w
    x = x.transpose(1, 2).reshape(B, C, height, width)
    scale = C ** -0.5
    weight = torch.eye(9, dtype=x.dtype).reshape(9, 1, 3, 3)

    def unfold(t):  # nn.Unfold-like: (B, C', hh, ww) → (B, C'*9, hh*ww) via the identity-kernel conv
        b, c = t.shape[:2]
        return F.conv2d(t.reshape(b * c, 1, hh, ww), weight, padding=1).reshape(b, c * 9, hh * ww)

    def fold(t):  # (B*C', 9, hh, ww) → (B*C', 1, hh, ww) via the transposed conv
        return F.conv_transpose2d(t, weight, padding=1)

    valid = unfold(torch.ones(1, 1, hh, ww, dtype=x.dtype)).transpose(1, 2).reshape(1, hh * ww, 1, 9) > 0

    stoken_features = F.adaptive_avg_pool2d(x, (hh, ww))
    pixel_features = x.reshape(B, C, hh, h, ww, w).permute(0, 2, 4, 3, 5, 1).reshape(B, hh * ww, h * w, C)
    if n_iter == 0:
        affinity = torch.zeros(B, hh * ww, h * w, 9, dtype=x.dtype)
        affinity[..., 4] = 1.0  # each token belongs to its own cell only
        affinity_sum = fold(affinity.sum(2).transpose(1, 2).reshape(B, 9, hh, ww))
    with torch.no_grad():
        for idx in range(n_iter):
            stoken_features = unfold(stoken_features)
            stoken_features = stoken_features.transpose(1, 2).reshape(B, hh * ww, C, 9)
            affinity_matrix = pixel_features @ stoken_features * scale
            if border == "mask":
                affinity_matrix = affinity_matrix.masked_fill(~valid, float("-inf"))
            affinity_matrix = affinity_matrix.softmax(-1)
            affinity_sum = fold(affinity_matrix.sum(2).transpose(1, 2).reshape(B, 9, hh, ww))
            affinity = affinity_matrix
            if idx < n_iter - 1:
                stoken_features = pixel_features.transpose(-1, -2) @ affinity_matrix
                stoken_features = fold(stoken_features.permute(0, 2, 3, 1).reshape(B * C, 9, hh, ww)).reshape(B, C, hh, ww)
                stoken_features = stoken_features / (affinity_sum + 1e-12)
    stoken_features = pixel_features.transpose(-1, -2) @ affinity
    stoken_features = fold(stoken_features.permute(0, 2, 3, 1).reshape(B * C, 9, hh, ww)).reshape(B, C, hh, ww)
    stoken_features = stoken_features / (affinity_sum.detach() + 1e-12)
    return stoken_features.reshape(B, C, hh * ww).transpose(1, 2), affinity, affinity_sum


def dense_association(affinity, affinity_sum, height, width, grid):
    """STViT's local affinity [B, M, g*g, 9] → the column-normalised dense Q̂ [B, N, M] serkd outputs."""
    B = affinity.shape[0]
    hh, ww = height // grid, width // grid
    q = torch.zeros(B, height * width, hh * ww, dtype=affinity.dtype)
    column = affinity_sum.reshape(B, hh * ww)
    for cy in range(hh):
        for cx in range(ww):
            for local in range(grid * grid):
                p = (cy * grid + local // grid) * width + cx * grid + local % grid
                for k in range(9):
                    sy, sx = cy + k // 3 - 1, cx + k % 3 - 1
                    if 0 <= sy < hh and 0 <= sx < ww:
                        i = sy * ww + sx
                        q[:, p, i] = affinity[:, cy * ww + cx, local, k] / (column[:, i] + 1e-12)
    return q


# ---- RKD (lenscloth/RKD: metric/loss.py), batched over images ------------------------------------

def pdist(e, eps=1e-12):
    """RKD's pdist per image: [B, N, D] → [B, N, N], squared distances clamped at eps, zero diagonal."""
    e_square = e.pow(2).sum(dim=-1)
    prod = e @ e.transpose(1, 2)
    res = (e_square.unsqueeze(2) + e_square.unsqueeze(1) - 2 * prod).clamp(min=eps).sqrt()
    res = res.clone()
    n = e.shape[1]
    res[:, range(n), range(n)] = 0
    return res


def mean_positive(d, per_image):
    if per_image:
        return torch.stack([image[image > 0].mean() for image in d]).reshape(-1, 1, 1)
    return d[d > 0].mean()


def rkd_distance(student, teacher, per_image):
    with torch.no_grad():
        t_d = pdist(teacher)
        t_d = t_d / mean_positive(t_d, per_image)
    d = pdist(student)
    d = d / mean_positive(d, per_image)
    return F.smooth_l1_loss(d, t_d, reduction="mean")


# ---- fixtures ----------------------------------------------------------------------------------

def save(name, value):
    array = value.detach().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    np.save(os.path.join(OUT, name + ".npy"), np.array(array, dtype=np.float32, order="C"))


def draw(generator, *shape, scale=1.0, offset=0.0):
    """float32 values, returned as float64 so every reference is computed exactly from them."""
    values = (torch.randn(*shape, generator=generator, dtype=torch.float32) * scale + offset)
    return values.to(DTYPE)


def superpixel_case(generator, name, batch, height, width, channels, grid, variants, gradients):
    x = draw(generator, batch, height * width, channels)
    save(f"{name}.x", x)
    m = (height // grid) * (width // grid)
    upstream = draw(generator, batch, m, channels) if gradients else None
    if gradients:
        save(f"{name}.upstream", upstream)
    for label, n_iter, border in variants:
        leaf = x.clone().requires_grad_(True)
        s, affinity, affinity_sum = stvit_super_tokens(leaf, height, width, grid, n_iter, border)
        save(f"{name}.{label}.s", s)
        if height * width <= 64:
            save(f"{name}.{label}.q", dense_association(affinity, affinity_sum, height, width, grid))
        if gradients:
            (s * upstream).sum().backward()
            save(f"{name}.{label}.dx", leaf.grad)


def relation_case(generator, batch, count, ds, dt):
    name = f"rel{batch}x{count}"
    # A common offset, as real features have, so a Gram form without centring would cancel badly.
    student = draw(generator, batch, count, ds, offset=3.0)
    teacher = draw(generator, batch, count, dt, scale=2.0, offset=-1.0)
    save(f"{name}.student", student)
    save(f"{name}.teacher", teacher)
    for label, loss_of in [("distance_image", lambda s: rkd_distance(s, teacher, True)),
                           ("distance_batch", lambda s: rkd_distance(s, teacher, False)),
                           ("angle", lambda s: rkd_angle(s, teacher))]:
        leaf = student.clone().requires_grad_(True)
        loss = loss_of(leaf)
        loss.backward()
        save(f"{name}.{label}", loss)
        save(f"{name}.{label}_grad", leaf.grad)


def pipeline_case(generator):
    student = draw(generator, 2, 196, 6)
    teacher = draw(generator, 2, 196, 10, scale=0.5)
    save("pipeline.student", student)
    save("pipeline.teacher", teacher)
    leaf = student.clone().requires_grad_(True)
    s_s = stvit_super_tokens(leaf, 14, 14, 2, 1)[0]
    with torch.no_grad():
        s_t = stvit_super_tokens(teacher, 14, 14, 2, 1)[0]
    loss = 0.5 * rkd_distance(s_s, s_t, True) + 1.0 * rkd_angle(s_s, s_t)
    loss.backward()
    save("pipeline.loss", loss)
    save("pipeline.grad", leaf.grad)


def main():
    os.makedirs(OUT, exist_ok=True)
    generator = torch.Generator().manual_seed(20250327)
    superpixel_case(generator, "sp8x8", 2, 8, 8, 6, 2,
                    [("iter0", 0, "stvit"), ("iter1", 1, "stvit"), ("iter2", 2, "stvit"), ("iter1_mask", 1, "mask")],
                    gradients=True)
    superpixel_case(generator, "sp6x6g3", 1, 6, 6, 4, 3, [("iter1", 1, "stvit"), ("iter1_mask", 1, "mask")], gradients=False)
    superpixel_case(generator, "sp14x14", 2, 14, 14, 6, 2, [("iter1", 1, "stvit")], gradients=True)
    relation_case(generator, 2, 49, 8, 12)
    relation_case(generator, 3, 16, 5, 7)
    pipeline_case(generator)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
