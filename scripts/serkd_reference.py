"""SeRKD in PyTorch, written from the method's sources, as the yardstick for serkd's fixtures.

These are literal ports, not serkd's formulations: superpixel tokens follow STViT's
unfold/fold code (hhb072/STViT: models/stvit.py, StokenAttention.stoken_forward), the relation
losses follow lenscloth/RKD (metric/loss.py) adapted to token sets as METHOD.md §5 describes, and
the KD / feature / cross-entropy terms follow METHOD.md §1, §7, §8 and §11. serkd computes the same
quantities differently (dense masked association, Gram-matrix angles), which is what makes the
comparison worth something.
"""
import torch
import torch.nn.functional as F


def superpixel_tokens(x, height, width, grid=2, n_iter=1):
    """STViT super tokens of tokens x [B, H*W, C] on an height x width map: returns S [B, M, C].

    The association runs without gradient; the final weighted mean carries gradient to x through
    the (detached) affinity, exactly as StokenAttention.stoken_forward does.
    """
    B, N, C = x.shape
    assert N == height * width and height % grid == 0 and width % grid == 0
    h = w = grid
    hh, ww = height // h, width // w
    pixels = x.transpose(1, 2).reshape(B, C, height, width)
    scale = C ** -0.5
    unfold_weight = torch.eye(9, dtype=x.dtype).reshape(9, 1, 3, 3)

    def unfold(t):  # (B, C, hh, ww) -> (B, C*9, hh*ww): the 3x3 neighbours, zero outside
        return F.conv2d(t.reshape(B * C, 1, hh, ww), unfold_weight, padding=1).reshape(B, C * 9, hh * ww)

    def fold(t):  # (B*C', 9, hh, ww) -> (B*C', 1, hh, ww): scatter-add back to the super tokens
        return F.conv_transpose2d(t, unfold_weight, padding=1)

    stoken = F.adaptive_avg_pool2d(pixels, (hh, ww))
    pixel_features = pixels.reshape(B, C, hh, h, ww, w).permute(0, 2, 4, 3, 5, 1).reshape(B, hh * ww, h * w, C)
    with torch.no_grad():
        for idx in range(n_iter):
            s = unfold(stoken).transpose(1, 2).reshape(B, hh * ww, C, 9)
            affinity = (pixel_features @ s * scale).softmax(-1)  # (B, hh*ww, h*w, 9)
            affinity_sum = fold(affinity.sum(2).transpose(1, 2).reshape(B, 9, hh, ww))
            if idx < n_iter - 1:
                s = pixel_features.transpose(-1, -2) @ affinity
                s = fold(s.permute(0, 2, 3, 1).reshape(B * C, 9, hh, ww)).reshape(B, C, hh, ww)
                stoken = s / (affinity_sum + 1e-12)
    if n_iter == 0:
        return stoken.reshape(B, C, hh * ww).transpose(1, 2)
    s = pixel_features.transpose(-1, -2) @ affinity
    s = fold(s.permute(0, 2, 3, 1).reshape(B * C, 9, hh, ww)).reshape(B, C, hh, ww)
    s = s / (affinity_sum.detach() + 1e-12)
    return s.reshape(B, C, hh * ww).transpose(1, 2)


def pairwise_distances(e, eps=1e-12):
    """RKD's pdist per image: e [B, N, D] -> [B, N, N], clamped at eps, zero diagonal."""
    squared = e.pow(2).sum(-1)
    product = e @ e.transpose(1, 2)
    distances = (squared.unsqueeze(2) + squared.unsqueeze(1) - 2 * product).clamp(min=eps).sqrt().clone()
    n = e.shape[1]
    distances[:, range(n), range(n)] = 0
    return distances


def _mean_positive(d, per_image):
    if per_image:
        positive = (d > 0).to(d.dtype)
        return ((d * positive).sum((1, 2)) / positive.sum((1, 2))).reshape(-1, 1, 1)
    return d[d > 0].mean()


def rkd_distance(student, teacher, per_image=True):
    """Smooth-L1 between mean-normalised pairwise distance matrices (teacher detached)."""
    with torch.no_grad():
        t = pairwise_distances(teacher)
        t = t / _mean_positive(t, per_image)
    s = pairwise_distances(student)
    s = s / _mean_positive(s, per_image)
    return F.smooth_l1_loss(s, t, reduction="mean")


def rkd_angle(student, teacher):
    """Smooth-L1 between the cosines of all angles (j, i, k) of each token set (teacher detached)."""
    with torch.no_grad():
        e = F.normalize(teacher.unsqueeze(1) - teacher.unsqueeze(2), p=2, dim=-1)
        t = e @ e.transpose(-1, -2)
    e = F.normalize(student.unsqueeze(1) - student.unsqueeze(2), p=2, dim=-1)
    s = e @ e.transpose(-1, -2)
    return F.smooth_l1_loss(s, t, reduction="mean")


def soft_cross_entropy(logits, targets):
    """timm's SoftTargetCrossEntropy: mean over the batch of −Σ targets · log_softmax(logits)."""
    return (-targets * F.log_softmax(logits, dim=-1)).sum(-1).mean()


def kd_loss(student_logits, teacher_logits, temperature):
    """Hinton KD, batchmean KL(softmax(zT/T) ‖ softmax(zS/T)) · T² (METHOD §8)."""
    return F.kl_div(F.log_softmax(student_logits / temperature, dim=-1),
                    F.softmax(teacher_logits.detach() / temperature, dim=-1),
                    reduction="batchmean") * temperature ** 2
