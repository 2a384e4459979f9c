"""STROTSS's losses on hypercolumn samples, each an ``nn.Module``: relaxed EMD, moments, palette, self-similarity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F


def _nearest_both_ways(
    a: torch.Tensor, b: Any, closeness: Callable, chunk: int = 1024
) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of each row's nearest column and each column's nearest row, where
    ``closeness(a, b)`` is a matrix that is larger for nearer pairs (a
    similarity, or a negated cost). Found without autograd, in chunks of ``a`` so that 1024 x 5000
    matrices of large hypercolumns stay small, in the dtype of ``a``: only the choice of neighbour
    depends on it, never the exact re-scored cost."""
    with torch.no_grad():
        row_idx: list[torch.Tensor] = []
        col_val: torch.Tensor | None = None
        col_idx: torch.Tensor | None = None
        for start in range(0, len(a), chunk):
            part = a[start : start + chunk]
            near = closeness(part, b)
            val, idx = near.max(0)
            row_idx.append(near.max(1).indices)  # 3x faster than argmax on CPU
            if col_val is None or col_idx is None:
                col_val, col_idx = val, idx + start
            else:
                better = val > col_val
                col_val, col_idx = torch.where(better, val, col_val), torch.where(better, idx + start, col_idx)
    assert col_idx is not None, "no rows to match"
    return torch.cat(row_idx), col_idx


def _product_dtype(device: torch.device, outside: torch.dtype = torch.float32) -> torch.dtype:
    """The dtype autocast gives matrix products here (``outside`` when autocast is off)."""
    return torch.get_autocast_dtype(device.type) if torch.is_autocast_enabled(device.type) else outside


class _Gram(torch.autograd.Function):
    """u @ u.T with the backward of a symmetric product, (G + G.T) @ u: one matrix product where
    autograd's generic ``mm`` backward spends two (G @ u and G.T @ u)."""

    @staticmethod
    def forward(ctx, u: torch.Tensor) -> torch.Tensor:
        cast = u.to(_product_dtype(u.device, u.dtype))  # once, kept for the backward (autocast would cast twice)
        ctx.dtype = u.dtype
        ctx.save_for_backward(cast)
        return cast @ cast.T

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (cast,) = ctx.saved_tensors
        return ((grad + grad.T).to(cast.dtype) @ cast).to(ctx.dtype)


def gram(u: torch.Tensor) -> torch.Tensor:
    """The Gram matrix u @ u.T of the rows of ``u``, with a backward that costs one product."""
    return _Gram.apply(u)


def covariance(x: torch.Tensor) -> torch.Tensor:
    """The (D, D) covariance of the rows of ``x`` (N, D), as ``torch.cov(x.T)`` (unbiased)."""
    centred = x - x.mean(0)
    return gram(centred.T) / (len(x) - 1)


def _cos_paired(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return 1 - (u * v).sum(1)


_YUV = torch.tensor(
    [[0.577350, 0.577350, 0.577350], [-0.577350, 0.788675, -0.211325], [-0.577350, -0.211325, 0.788675]]
)


class StyleTarget:
    """Hypercolumn samples of the style side with what the losses reuse every step (unit vectors,
    moments, colours), computed once per scale."""

    def __init__(self, cols: torch.Tensor):
        self.cols = cols
        self.unit = F.normalize(cols, dim=1, eps=1e-8)
        self.mean, self.cov = cols.mean(0), covariance(cols)
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


# what a loss's ``match`` found (each output sample's nearest style sample and each style sample's
# nearest output sample), in the form its ``forward`` scores fastest
Pairs = tuple[torch.Tensor, torch.Tensor]


class RelaxedEMD(nn.Module):
    """Relaxed EMD: max of the mean nearest-neighbour cost from output to style and back (cosine cost).

    :meth:`match` finds the nearest neighbours (no gradient); ``forward`` scores given pairs exactly
    (with gradient), finding them first when none are given: a caller may reuse pairs for a few
    steps while the samples barely move (``stylize``'s ``search_every``).

    Both directions' costs are linear in the output's unit vectors u once the pairs are fixed, so
    :meth:`match` returns the pairs as two (N, D) weights W with cost = 1 - sum(u * W): row i of
    the first is the unit style vector nearest u_i over N, of the second the sum of the unit style
    vectors whose nearest output is i over len(style). A reused pair then costs two dot products."""

    def match(self, x: torch.Tensor, s: torch.Tensor | StyleTarget) -> Pairs:
        t = _as_target(s)
        dtype = _product_dtype(x.device)
        u = F.normalize(x.detach().float(), dim=1, eps=1e-8).to(dtype)
        row_idx, col_idx = _nearest_both_ways(u, t.unit_t_as(dtype), lambda a, b_t: a @ b_t)
        to_style = t.unit[row_idx] / len(u)
        from_style = torch.zeros(u.shape, dtype=t.unit.dtype, device=u.device).index_add_(0, col_idx, t.unit)
        return to_style, from_style / len(t)

    def forward(self, x: torch.Tensor, s: torch.Tensor | StyleTarget, pairs: Pairs | None = None) -> torch.Tensor:
        to_style, from_style = pairs if pairs is not None else self.match(x, s)
        u = F.normalize(x.float(), dim=1, eps=1e-8)
        return 1 - torch.minimum((u * to_style).sum(), (u * from_style).sum())


class MomentLoss(nn.Module):
    """Mean absolute difference of the feature means plus that of the covariances."""

    def forward(self, x: torch.Tensor, s: torch.Tensor | StyleTarget) -> torch.Tensor:
        t = _as_target(s)
        return (x.mean(0) - t.mean).abs().mean() + (covariance(x) - t.cov).abs().mean()


class PaletteLoss(nn.Module):
    """Relaxed EMD between colours (the first 3 hypercolumn channels) with cost cosine + L2 in a
    decorrelated (YUV-like) colour space; :meth:`match` and ``pairs`` as in :class:`RelaxedEMD`."""

    @staticmethod
    def _yuv(x: torch.Tensor) -> torch.Tensor:
        return x[:, :3].float() @ _YUV.to(x.device).T

    def match(self, x: torch.Tensor, s: torch.Tensor | StyleTarget) -> Pairs:
        with torch.autocast(x.device.type, enabled=False):  # 3-d colours: float32 costs little
            return _nearest_both_ways(self._yuv(x.detach()), _as_target(s), self._closeness)

    def forward(self, x: torch.Tensor, s: torch.Tensor | StyleTarget, pairs: Pairs | None = None) -> torch.Tensor:
        t = _as_target(s)
        row_idx, col_idx = pairs if pairs is not None else self.match(x, t)
        with torch.autocast(x.device.type, enabled=False):
            yuv = self._yuv(x)
            unit = F.normalize(yuv, dim=1, eps=1e-8)

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
        d = 1 - gram(u)
        return d / d.sum(0, keepdim=True).clamp_min(1e-8)

    def against(self, x: torch.Tensor, c_matrix: torch.Tensor) -> torch.Tensor:
        """The loss against the content's precomputed :meth:`matrix` (fixed between resamplings)."""
        return (self.matrix(x) - c_matrix).abs().mean() * len(x)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.against(x, self.matrix(c))
