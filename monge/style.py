"""STROTSS style transfer (Kolkin, Salavon, Shakhnarovich, CVPR 2019) by relaxed optimal transport.

An output image is optimised so that its deep-feature *distribution* matches the style image's
(relaxed earth mover's distance, moments, palette) while its *self-similarity* matches the
content image's. Features are hypercolumns: several backbone layers plus RGB, read by bilinear
interpolation at random locations. The image is a Laplacian pyramid optimised coarse to fine.
Region masks restrict each output region's style statistics to the matching style region.

Every loss is an ``nn.Module`` taking hypercolumn samples, so they compose and test separately.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm

# ---------------------------------------------------------------- feature extractors -------------


class EffNetHypercolumns(nn.Module):
    """EfficientNet-Lite0 activations standing in for VGG's relu1..relu5: the non-negative ReLU6 outputs
    of the stem (stride 2) and of the depthwise stage of blocks 0, 2, 4 and 5 (strides 2, 4, 8, 16;
    32, 32, 144, 240 and 240 channels: hypercolumns of 691 values with RGB). Deeper blocks are never
    run; the first block at stride 16 rather than the last (672 channels) makes every step about
    1.3x cheaper at 256 px."""

    TAPS = (0, 2, 4, 5)

    def __init__(self, backbone=None):
        super().__init__()
        from .features import EffNetLite0

        self.backbone = backbone or EffNetLite0()

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        net = self.backbone.net
        h = net._swish(net._bn0(net._conv_stem(self.backbone.normalise(x))))
        feats = [h]
        for i, block in enumerate(net._blocks[: self.TAPS[-1] + 1]):
            a = h
            if block._block_args.expand_ratio != 1:
                a = block._swish(block._bn0(block._expand_conv(a)))
            a = block._swish(block._bn1(block._depthwise_conv(a)))
            if i in self.TAPS:
                feats.append(a)
            out = block._bn2(block._project_conv(a))
            args = block._block_args
            if args.id_skip and args.stride == 1 and args.input_filters == args.output_filters:
                out = out + h
            h = out
        return feats


class VGGHypercolumns(nn.Module):
    """VGG16 relu1_1, 1_2, 2_1, 2_2, 3_1, 3_2, 3_3, 4_3, 5_3 (the published STROTSS layers)."""

    LAYERS = ("relu1_1", "relu1_2", "relu2_1", "relu2_2", "relu3_1", "relu3_2", "relu3_3", "relu4_3", "relu5_3")

    def __init__(self, weights=None):
        super().__init__()
        from .features import VGG16

        self.vgg = VGG16(weights)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.vgg.activations(x, self.LAYERS)


def make_extractor(name: str, weights=None) -> nn.Module:
    if name == "effnet-lite0":
        return EffNetHypercolumns()
    if name == "vgg16":
        return VGGHypercolumns(weights)
    raise ValueError(f"--backbone {name}: unknown (expected effnet-lite0 or vgg16)")


def sample_hypercolumns(image: torch.Tensor, feats: list[torch.Tensor], xy: torch.Tensor) -> torch.Tensor:
    """Hypercolumns (N, 3 + sum C) at ``xy`` (N, 2) in [-1, 1] (x, y) of one image: RGB plus each layer,
    read by bilinear interpolation."""
    grid = xy.view(1, 1, -1, 2).to(image.dtype)
    cols = [F.grid_sample(f, grid, mode="bilinear", align_corners=False)[0, :, 0].T for f in [image, *feats]]
    return torch.cat(cols, dim=1)


# ---------------------------------------------------------------- losses -------------------------


def _nearest_both_ways(a: torch.Tensor, b: torch.Tensor, closeness: Callable,
                       chunk: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of each row's nearest column and each column's nearest row, where
    ``closeness(a, b)`` is a matrix that is larger for nearer pairs (a
    similarity, or a negated cost). Found without autograd, in chunks of ``a`` so that 1024 x 5000
    matrices of large hypercolumns stay small, in the dtype of ``a``: only the choice of neighbour
    depends on it, never the exact re-scored cost."""
    with torch.no_grad():
        row_idx, col_val, col_idx = [], None, None
        for start in range(0, len(a), chunk):
            part = a[start: start + chunk]
            near = closeness(part, b)
            val, idx = near.max(0)
            row_idx.append(near.max(1).indices)  # 3x faster than argmax on CPU
            if col_val is None:
                col_val, col_idx = val, idx + start
            else:
                better = val > col_val
                col_val, col_idx = torch.where(better, val, col_val), torch.where(better, idx + start, col_idx)
    return torch.cat(row_idx), col_idx


def _product_dtype(device: torch.device) -> torch.dtype:
    """The dtype autocast gives matrix products here (float32 outside autocast)."""
    return torch.get_autocast_dtype(device.type) if torch.is_autocast_enabled(device.type) else torch.float32


def _cos_matrix(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return 1 - u @ v.T


def _cos_paired(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return 1 - (u * v).sum(1)


_YUV = torch.tensor([[0.577350, 0.577350, 0.577350], [-0.577350, 0.788675, -0.211325],
                     [-0.577350, -0.211325, 0.788675]])


class StyleTarget:
    """Hypercolumn samples of the style side with what the losses reuse every step (unit vectors,
    moments, colours), computed once per scale."""

    def __init__(self, cols: torch.Tensor):
        self.cols = cols
        self.unit = F.normalize(cols, dim=1, eps=1e-8)
        self.mean, self.cov = cols.mean(0), torch.cov(cols.T)
        self.yuv = cols[:, :3] @ _YUV.to(cols).T
        self.yuv_unit = F.normalize(self.yuv, dim=1, eps=1e-8)
        self._unit_t_as: dict[torch.dtype, torch.Tensor] = {}

    def __len__(self) -> int:
        return len(self.cols)

    def unit_t_as(self, dtype: torch.dtype) -> torch.Tensor:
        """The unit vectors as a contiguous (D, N) matrix, cast once to ``dtype`` (the
        nearest-neighbour search's): a bf16 product with it is 1.9x faster than with ``unit.T``."""
        if dtype not in self._unit_t_as:
            self._unit_t_as[dtype] = self.unit.T.to(dtype).contiguous()
        return self._unit_t_as[dtype]


def _as_target(s: torch.Tensor | StyleTarget) -> StyleTarget:
    return s if isinstance(s, StyleTarget) else StyleTarget(s)


class RelaxedEMD(nn.Module):
    """Relaxed EMD: max of the mean nearest-neighbour cost from output to style and back (cosine cost)."""

    def forward(self, x: torch.Tensor, s: torch.Tensor | StyleTarget) -> torch.Tensor:
        t = _as_target(s)
        u = F.normalize(x.float(), dim=1, eps=1e-8)
        dtype = _product_dtype(x.device)
        row_idx, col_idx = _nearest_both_ways(u.detach().to(dtype), t.unit_t_as(dtype),
                                              lambda a, b_t: a @ b_t)
        a = _cos_paired(u, t.unit[row_idx]).mean()
        # column term, mean_j (1 - u[col_j] . v_j), as sum_i u_i . (sum of the v_j whose nearest is i):
        # one (N, D) product instead of gathering and scattering len(style) rows of u
        pulled = torch.zeros_like(u).index_add_(0, col_idx, t.unit)
        b = 1 - (u * pulled).sum() / len(t.unit)
        return torch.maximum(a, b)


class MomentLoss(nn.Module):
    """Mean absolute difference of the feature means plus that of the covariances."""

    def forward(self, x: torch.Tensor, s: torch.Tensor | StyleTarget) -> torch.Tensor:
        t = _as_target(s)
        return (x.mean(0) - t.mean).abs().mean() + (torch.cov(x.T) - t.cov).abs().mean()


class PaletteLoss(nn.Module):
    """Relaxed EMD between colours (the first 3 hypercolumn channels) with cost cosine + L2 in a
    decorrelated (YUV-like) colour space."""

    def forward(self, x: torch.Tensor, s: torch.Tensor | StyleTarget) -> torch.Tensor:
        t = _as_target(s)
        with torch.autocast(x.device.type, enabled=False):  # 3-d colours: float32 costs little
            yuv = x[:, :3].float() @ _YUV.to(x.device).T
            unit = F.normalize(yuv, dim=1, eps=1e-8)
            row_idx, col_idx = _nearest_both_ways(yuv.detach(), t, self._closeness)

            def cost(i, j):  # the exact cost of the chosen pairs, differentiable
                return _cos_paired(unit[i], t.yuv_unit[j]) + (yuv[i] - t.yuv[j]).norm(dim=1)

            rows, cols = torch.arange(len(yuv), device=x.device), torch.arange(len(t.yuv), device=x.device)
            return torch.maximum(cost(rows, row_idx).mean(), cost(col_idx, cols).mean())

    @staticmethod
    def _closeness(yuv: torch.Tensor, t: StyleTarget) -> torch.Tensor:
        """1 - cost, with two matrix products and two in-place passes: |a - b|^2 as one
        product of [a, |a|^2, 1] and [-2b, 1, |b|^2], then cos(a, b) - |a - b| as one addmm."""
        lhs = torch.cat([yuv, (yuv * yuv).sum(1, keepdim=True), yuv.new_ones(len(yuv), 1)], 1)
        rhs = torch.cat([-2 * t.yuv, t.yuv.new_ones(len(t.yuv), 1), (t.yuv * t.yuv).sum(1, keepdim=True)], 1)
        near = (lhs @ rhs.T).clamp_(min=0).sqrt_()
        return near.addmm_(F.normalize(yuv, dim=1, eps=1e-8), t.yuv_unit.T, beta=-1)


class SelfSimilarityLoss(nn.Module):
    """Content loss: mean absolute difference of the column-normalised cosine self-similarity matrices."""

    @staticmethod
    def matrix(x: torch.Tensor) -> torch.Tensor:
        u = F.normalize(x, dim=1, eps=1e-8)  # once: normalising "both sides" costs 1.4x the loss
        d = _cos_matrix(u, u)
        return d / d.sum(0, keepdim=True).clamp_min(1e-8)

    def against(self, x: torch.Tensor, c_matrix: torch.Tensor) -> torch.Tensor:
        """The loss against the content's precomputed :meth:`matrix` (fixed between resamplings)."""
        return (self.matrix(x) - c_matrix).abs().mean() * len(x)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.against(x, self.matrix(c))


# ---------------------------------------------------------------- image parameterisation ---------


def laplacian_pyramid(img: torch.Tensor, levels: int = 5) -> list[torch.Tensor]:
    """Band-pass levels, finest first; their upsampled sum is the image."""
    bands, current = [], img
    for _ in range(levels - 1):
        small = F.interpolate(current, scale_factor=0.5, mode="bilinear", align_corners=False, antialias=True)
        bands.append(current - F.interpolate(small, size=current.shape[-2:], mode="bilinear", align_corners=False))
        current = small
    return bands + [current]


def collapse_pyramid(bands: list[torch.Tensor]) -> torch.Tensor:
    img = bands[-1]
    for band in reversed(bands[:-1]):
        img = F.interpolate(img, size=band.shape[-2:], mode="bilinear", align_corners=False) + band
    return img


# ---------------------------------------------------------------- masks --------------------------


def _segment_distance(p: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> float:
    t = ((p - a) @ (b - a) / ((b - a) @ (b - a)).clamp_min(1e-8)).clamp(0, 1)
    return float((p - (a + t * (b - a))).norm())


def mask_regions(mask: torch.Tensor, name: str = "mask") -> tuple[torch.Tensor, torch.Tensor]:
    """Region labels (H, W) of a colour mask (3, H, W) in [-1, 1], robust to JPEG noise.

    Colours are binned coarsely; the most frequent bins (>= 0.5 % of the pixels) become region
    colours unless they lie near an accepted colour or on the blend between two (JPEG's edge
    smearing). Every pixel then takes the nearest region colour. Returns labels and colours (K, 3).
    """
    pixels = ((mask.permute(1, 2, 0).reshape(-1, 3) + 1) * 127.5).round()
    quant = (pixels / 32).round() * 32
    colours, counts = torch.unique(quant, dim=0, return_counts=True)
    accepted: list[torch.Tensor] = []
    for i in counts.argsort(descending=True):
        if counts[i] < 0.005 * len(pixels):
            break
        c = colours[i]
        if any(float((c - a).norm()) < 120 for a in accepted):
            continue
        if any(_segment_distance(c, a, b) < 80 for j, a in enumerate(accepted) for b in accepted[j + 1:]):
            continue
        accepted.append(c)
    if not accepted:
        raise ValueError(f"{name}: no colour covers 0.5 % of the mask")
    dominant = torch.stack(accepted)
    labels = torch.cdist(pixels, dominant).argmin(1)
    return labels.view(mask.shape[1:]), dominant / 127.5 - 1


def match_regions(content_mask: torch.Tensor, style_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Content and style region labels with shared ids: each content colour must appear in the style mask."""
    c_labels, c_cols = mask_regions(content_mask, name="content mask")
    s_labels, s_cols = mask_regions(style_mask, name="style mask")
    d = torch.cdist(c_cols, s_cols)
    nearest = d.argmin(1)
    far = d.min(1).values > 0.35
    if far.any():
        colour = ((c_cols[far][0] + 1) * 127.5).round().int().tolist()
        raise ValueError(f"content mask colour {colour} has no matching region in the style mask")
    remap = torch.full((len(s_cols),), -1, dtype=torch.long)
    remap[nearest] = torch.arange(len(c_cols))
    return c_labels, remap[s_labels], len(c_cols)


# ---------------------------------------------------------------- the optimiser ------------------


@dataclass
class StyleResult:
    image: torch.Tensor  # (3, H, W) in [-1, 1]
    scales: list[torch.Tensor]  # the result after each scale
    history: list[dict[str, float]]  # losses at every step


def _resize_long(img: torch.Tensor, long_side: int) -> torch.Tensor:
    h, w = img.shape[-2:]
    scale = long_side / max(h, w)
    size = (max(8, round(h * scale)), max(8, round(w * scale)))
    return F.interpolate(img[None], size=size, mode="bilinear", align_corners=False, antialias=scale < 1)[0]


def _label_map(labels: torch.Tensor | None, size: tuple[int, int]) -> torch.Tensor | None:
    if labels is None:
        return None
    return F.interpolate(labels[None, None].float(), size=size, mode="nearest")[0, 0].long()


def _sample_xy(n: int, labels: torch.Tensor | None, region: int | None, gen: torch.Generator,
               size: tuple[int, int], distinct: bool = False) -> torch.Tensor:
    """n random locations (x, y) in [-1, 1] at pixel centres, inside ``region`` when labels are given;
    with ``distinct``, different pixels, at most as many as there are (the style side's "up to n")."""
    h, w = size
    inside = torch.arange(h * w) if labels is None else torch.nonzero(labels.flatten() == region).squeeze(1)
    if distinct:
        idx = inside[torch.randperm(len(inside), generator=gen)[:n]]
    else:
        idx = inside[torch.randint(len(inside), (n,), generator=gen)]
    ys, xs = idx // w, idx % w
    return torch.stack([(xs.float() + 0.5) / w * 2 - 1, (ys.float() + 0.5) / h * 2 - 1], dim=1)


def stylize(content: torch.Tensor, style: torch.Tensor, alpha: float = 1.0, size: int = 512, steps: int = 250,
            lr: float = 2e-3, scales: int = 4, content_mask: torch.Tensor | None = None,
            style_mask: torch.Tensor | None = None, backbone: str | nn.Module = "effnet-lite0",
            n_samples: int = 1024, n_style: int = 5000, resample_every: int = 10, seed: int = 0,
            device: str = "cpu", precision: str = "auto", progress: bool = True) -> StyleResult:
    """Restyle ``content`` with ``style`` (both (3, H, W) in [-1, 1]); ``alpha`` weighs content.

    The long side grows over ``scales`` scales, doubling up to ``size`` (64, 128, 256, 512 by
    default), ``steps`` RMSprop steps each (lr halved at the last scale). With masks, region k of
    the output takes its style statistics from region k of the style image.

    ``precision``: ``bf16-mixed`` runs the backbone and the loss matrix products in bfloat16
    (autocast; the image, its pyramid and the optimiser stay float32), ``32`` runs all in float32,
    ``auto`` picks bf16-mixed where the device has fast bfloat16 (CUDA with bf16, a CPU with AMX or
    AVX512-BF16) and 32 elsewhere.
    """
    if min(content.shape[-2:]) < 16 or min(style.shape[-2:]) < 16:
        raise ValueError("content and style images must be at least 16 px on each side")
    if (content_mask is None) != (style_mask is None):
        raise ValueError("give both --content-mask and --style-mask, or neither")
    if content_mask is not None:
        if content_mask.shape[-2:] != content.shape[-2:]:
            raise ValueError(f"content mask is {tuple(content_mask.shape[-2:])}, content image "
                             f"{tuple(content.shape[-2:])}: sizes must match")
        if style_mask.shape[-2:] != style.shape[-2:]:
            raise ValueError(f"style mask is {tuple(style_mask.shape[-2:])}, style image "
                             f"{tuple(style.shape[-2:])}: sizes must match")
        c_labels, s_labels, n_regions = match_regions(content_mask, style_mask)
    else:
        c_labels = s_labels = None
        n_regions = 1
    extractor = (make_extractor(backbone) if isinstance(backbone, str) else backbone).to(device).eval()
    autocast = _autocast(torch.device(device), precision)
    gen = torch.Generator().manual_seed(seed)
    remd, moment, palette, selfsim = RelaxedEMD(), MomentLoss(), PaletteLoss(), SelfSimilarityLoss()
    sizes = [size // 2 ** (scales - 1 - i) for i in range(scales)]
    content_weight = 16.0 * alpha
    result, outputs, history = None, [], []
    for si, long_side in enumerate(sizes):
        c_img = _resize_long(content, long_side).to(device)
        s_img = _resize_long(style, long_side).to(device)
        hw, s_hw = tuple(c_img.shape[-2:]), tuple(s_img.shape[-2:])
        c_lab, s_lab = _label_map(c_labels, hw), _label_map(s_labels, s_hw)
        if s_lab is not None:
            missing = [k for k in range(n_regions) if not (s_lab == k).any() or not (c_lab == k).any()]
            if missing:
                raise ValueError(f"mask region {missing[0]} vanishes at {long_side} px: use larger regions")
        with torch.no_grad():
            s_feats, c_feats = extractor(s_img[None]), extractor(c_img[None])
            per_region = max(1, n_style // n_regions)
            style_cols = [StyleTarget(sample_hypercolumns(
                s_img[None], s_feats,
                _sample_xy(per_region, s_lab, k if s_lab is not None else None, gen, s_hw, distinct=True).to(device)))
                for k in range(n_regions)]
        if result is None:  # style mean colour + the content's finest detail band
            mean_colour = s_img.mean(dim=(1, 2), keepdim=True)
            start = mean_colour + laplacian_pyramid(c_img[None], 2)[0][0]
        else:
            start = F.interpolate(result[None], size=hw, mode="bilinear", align_corners=False)[0]
        bands = [nn.Parameter(b.detach()) for b in laplacian_pyramid(start[None], 5)]
        opt = torch.optim.RMSprop(bands, lr=lr if si < len(sizes) - 1 else lr / 2)
        bar = tqdm(range(steps), disable=not progress, desc=f"scale {si + 1}/{len(sizes)} ({long_side} px)",
                   leave=False, dynamic_ncols=True)
        xy_regions = None
        for step in bar:
            if step % resample_every == 0:
                share = max(1, n_samples // n_regions)
                xy_regions = [_sample_xy(share, c_lab, k if c_lab is not None else None, gen, hw).to(device)
                              for k in range(n_regions)]
                with torch.no_grad():
                    c_matrix = selfsim.matrix(torch.cat([sample_hypercolumns(c_img[None], c_feats, xy)
                                                         for xy in xy_regions]))
            img = collapse_pyramid(bands)
            with autocast:
                feats = extractor(img)
                out_cols = [sample_hypercolumns(img, feats, xy).float() for xy in xy_regions]
                l_remd = sum(remd(o, s) for o, s in zip(out_cols, style_cols)) / n_regions
                l_moment = sum(moment(o, s) for o, s in zip(out_cols, style_cols)) / n_regions
                l_palette = sum(palette(o, s) for o, s in zip(out_cols, style_cols)) / n_regions
                l_content = selfsim.against(torch.cat(out_cols), c_matrix)
            loss = (content_weight * l_content + l_remd + l_moment + l_palette / max(content_weight, 1.0)) / (
                content_weight + 2.0)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            record = {"scale": si, "loss": loss.item(), "remd": l_remd.item(), "moment": l_moment.item(),
                      "palette": l_palette.item(), "content": l_content.item()}
            history.append(record)
            if step % 10 == 0:
                bar.set_postfix(loss=f"{record['loss']:.3f}", remd=f"{record['remd']:.3f}")
        with torch.no_grad():
            result = collapse_pyramid(bands)[0].clamp(-1, 1)
        outputs.append(result.cpu())
        content_weight /= 2.0
    return StyleResult(result.cpu(), outputs, history)


def _autocast(device: torch.device, precision: str):
    """The autocast context of ``precision`` (32, bf16-mixed or auto) on ``device``."""
    if precision not in ("auto", "32", "bf16-mixed"):
        raise ValueError(f"--precision {precision}: expected auto, 32 or bf16-mixed")
    if precision == "auto":
        fast = (torch.cuda.is_available() and torch.cuda.is_bf16_supported()) if device.type == "cuda" else \
            device.type == "cpu" and torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
        precision = "bf16-mixed" if fast else "32"
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16-mixed")


def style_distance(image: torch.Tensor, style: torch.Tensor, extractor: nn.Module, n: int = 1024,
                   seed: int = 0) -> float:
    """Relaxed EMD between hypercolumn samples of two images (lower: closer in style)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        cols = [sample_hypercolumns(im[None], extractor(im[None]), _sample_xy(n, None, None, gen, tuple(im.shape[-2:])))
                for im in (image, style)]
        return float(RelaxedEMD()(*cols))


def content_distance(image: torch.Tensor, content: torch.Tensor, extractor: nn.Module, n: int = 1024,
                     seed: int = 0) -> float:
    """Self-similarity loss between two images at the same sampled locations (lower: closer in content)."""
    gen = torch.Generator().manual_seed(seed)
    if image.shape[-2:] != content.shape[-2:]:
        image = F.interpolate(image[None], size=content.shape[-2:], mode="bilinear", align_corners=False)[0]
    xy = _sample_xy(n, None, None, gen, tuple(content.shape[-2:]))
    with torch.no_grad():
        a, b = (sample_hypercolumns(im[None], extractor(im[None]), xy) for im in (image, content))
        return float(SelfSimilarityLoss()(a, b))
