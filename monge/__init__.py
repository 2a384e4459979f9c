"""monge: optimal-transport image translation.

Neural Optimal Transport maps (:class:`NOT`), stacks of them, NOT auto-encoders and STROTSS style
transfer, with the measurements that check them. The names below load lazily, so ``import monge``
(and ``monge --help``) does not import torch until one is used.

    >>> import monge
    >>> solver = monge.NOT(T=monge.MLP(2, 2), f=monge.MLP(2, 1), cost=monge.QuadraticCost())
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.3.0"

_EXPORTS = {
    # errors
    "MongeError": "errors",
    "ConfigError": "errors",
    "DataError": "errors",
    "DivergenceError": "errors",
    "WeightsNotFound": "errors",
    # optimal transport: costs, nets, the solver
    "NOT": "ot.solver",
    "ENOT": "ot.enot",
    "QuadraticCost": "ot.costs",
    "WeakQuadraticCost": "ot.costs",
    "L1Cost": "ot.costs",
    "PerceptualCost": "ot.costs",
    "make_cost": "ot.costs",
    "MLP": "ot.nets",
    "ResidualMLP": "ot.nets",
    "UNet": "ot.nets",
    "ResNetPotential": "ot.nets",
    "Augment": "ot.augment",
    # training runs on images
    "TrainConfig": "train.config",
    "TrainSummary": "train.summary",
    "load_solver": "train.factory",
    "load_map": "train.export",
    "export_map": "train.export",
    "TranslationMap": "train.export",
    "from_pretrained": "train.hub",
    "push_to_hub": "train.hub",
    "train_stack": "train.stack",
    "load_stack": "train.stack",
    # data
    "open_domain": "data.domains",
    "load_emoji": "data.emoji",
    "load_image": "data.images",
    "save_png": "data.images",
    # measurements and benchmarks
    "FeatureStats": "metrics",
    "image_stats": "metrics",
    "fd_from_stats": "metrics",
    "kid": "metrics",
    "paired_metrics": "metrics",
    "l2_uvp": "metrics",
    "load_backbone": "backbones.registry",
    "PerceptualDistance": "backbones.perceptual",
    "run_w2": "bench.w2",
    "run_suite": "bench.suite",
    # style transfer
    "stylize": "style.strotss",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'monge' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
