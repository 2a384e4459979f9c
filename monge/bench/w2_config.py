"""The options of the W2 benchmark (``monge bench w2`` and :func:`monge.bench.w2.run_w2`), in one
place: their defaults and help text, from which the command's flags are generated. Torch-free, so
``monge --help`` reads it without importing torch."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from ..options import check_choices, check_types, option
from ..ot.defaults import EXPECTILE, EXPECTILE_WEIGHT, SOLVERS, T_STEPS

PAIRS = ("mix3tomix10", "gaussian")


@dataclass
class W2Config:
    """One W2 benchmark run: a pair in dimension ``dim``, the solver and its training."""

    dim: int = option(16, "dimension D of the pair (the published benchmark has 2 to 256)")
    pair: str = option(
        "mix3tomix10", "the benchmark's mixture pair, or a closed-form Gaussian pair (sanity check)", PAIRS
    )
    seed: int = option(0, "0: the published instance; another seed draws another")
    data_dir: str = option(
        None,
        "a folder of the benchmark's mix3tomix10_{D}_v{1,2}.pt "
        "(default: $MONGE_W2_DATA, else the copy shipped with monge)",
    )
    solver: str = option(
        "not",
        "not (max-min: t-steps map updates per potential update) or enot (one joint update, expectile regularisation)",
        SOLVERS,
    )
    steps: int = option(3000, "outer iterations (ENOT: joint updates)")
    batch_size: int = option(
        256, "samples per update (256 gives 2-4x the steps of 1,024 in the same time, and scored better up to D = 64)"
    )
    hidden: int = option(None, "MLP width (default: max(128, 4 D))")
    lr: float = option(1e-3, "Adam's learning rate, cosine-decayed to zero")
    t_steps: int = option(T_STEPS, "NOT's map updates per potential update")
    skip: bool = option(True, "a linear skip in the map and a quadratic skip in the potential")
    warm: bool = option(True, "start the map at the best linear map (needs skip); --no-warm: at the identity")
    ema: float = option(0.0, "map with a moving average of its weights, this decay per map update (0: off)")
    expectile: float = option(EXPECTILE, "ENOT's expectile tau")
    expectile_weight: float = option(EXPECTILE_WEIGHT, "ENOT's regularisation weight")
    curve_every: int = option(0, "also score the map every this many steps (0: only at the end)")
    n_eval: int = option(4096, "samples the L2-UVP is measured on")
    n_discrete: int = option(4096, "samples of POT's discrete OT row")

    def __post_init__(self) -> None:
        check_choices(self)
        check_types(self, lambda f: f.default is None)  # hidden and data_dir: None means "the default"
        for name in ("dim", "steps", "batch_size", "t_steps", "n_eval", "n_discrete"):
            if getattr(self, name) < 1:
                raise ConfigError(name, f"{getattr(self, name)} is not positive")
        if not 0 < self.lr < 1:
            raise ConfigError("lr", f"{self.lr} is not in (0, 1)")
