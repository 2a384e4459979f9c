"""VGG16 convolutional layers (torchvision's layout) from a local weights file, for STROTSS's original features."""

from __future__ import annotations

import os
from collections.abc import Iterable

import torch
import torch.nn as nn

from ..errors import DataError
from .registry import keeps_seeded_stream, resolve_weights

VGG16_FILES = ("vgg16-397923af.pth",)

VGG16_LAYERS = {  # torchvision's features.N index of each ReLU
    "relu1_1": 1,
    "relu1_2": 3,
    "relu2_1": 6,
    "relu2_2": 8,
    "relu3_1": 11,
    "relu3_2": 13,
    "relu3_3": 15,
    "relu4_1": 18,
    "relu4_2": 20,
    "relu4_3": 22,
    "relu5_1": 25,
    "relu5_2": 27,
    "relu5_3": 29,
}
_VGG16_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)


class VGG16(nn.Module):
    """VGG16 convolutional layers in torchvision's layout, from a local ``vgg16-397923af.pth``."""

    @keeps_seeded_stream
    def __init__(self, weights: str | os.PathLike | None = None):
        super().__init__()
        path = resolve_weights(
            "VGG16",
            VGG16_FILES,
            weights,
            "MONGE_VGG16_WEIGHTS",
            "the EfficientNet-Lite0 backbone (--backbone effnet-lite0)",
        )
        layers: list[nn.Module] = []
        cin = 3
        for c in _VGG16_CFG:
            if isinstance(c, str):  # "M": a max-pooling
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, c, 3, padding=1), nn.ReLU()]
                cin = c
        self.features = nn.Sequential(*layers)
        state = torch.load(path, map_location="cpu", weights_only=True)
        try:
            self.load_state_dict({k: v for k, v in state.items() if k.startswith("features.")})
        except RuntimeError as err:
            raise DataError(f"{path}: not VGG16 weights in torchvision's layout ({err})") from None
        self.eval().requires_grad_(False)
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def activations(self, x: torch.Tensor, layers: Iterable[str]) -> list[torch.Tensor]:
        """The named ReLU activations of images in [-1, 1]."""
        wanted = sorted(VGG16_LAYERS[name] for name in layers)
        h, out = ((x + 1) / 2 - self.mean) / self.std, []
        for i, layer in enumerate(list(self.features)[: wanted[-1] + 1]):
            h = layer(h)
            if i in wanted:
                out.append(h)
        return out
