"""What :func:`monge.train.loop.train` returns and writes to ``summary.json``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class TrainSummary:
    """The outcome of :func:`train`: held-out metrics at the best and the last evaluation."""

    run: str
    metric: str | None  # the distribution metric's name (FD-EffNetLite0 or FID); None on non-zero ranks
    steps: int
    best_step: int
    best: float  # the best value of ``metric`` (inf before any evaluation)
    final: dict[str, float] = field(default_factory=dict)  # every metric at the last evaluation
    seconds: float = 0.0  # pairing, warm start and game, choosing on validation included, test scoring not
    steps_per_second: float | None = None
    world_size: int = 1
    rank: int = 0
    baselines: dict[str, dict[str, float]] = field(default_factory=dict)  # trivial maps, scored the same way
    chosen_on: str = "test"  # the split ``best`` was measured on: validation (cut from the training images) or test
    stopped_early: bool = False  # the validation score stopped improving (``patience``) before ``cfg.steps``

    def to_dict(self) -> dict:
        """JSON-ready, with the best value also under ``best_<metric>``."""
        d = asdict(self)
        if self.metric:
            d[f"best_{self.metric}"] = self.best
        return d
