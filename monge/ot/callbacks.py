"""What :meth:`~monge.ot.trainer.Solver.fit` hands its callbacks and what it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .trainer import Solver


class Callback(Protocol):
    """Runs after every outer iteration of :meth:`Solver.fit`; may return values to show on the progress
    bar, and may end the fit after this iteration by setting ``solver.should_stop``."""

    def on_step(self, solver: Solver, step: int, losses: dict[str, float]) -> dict[str, str] | None: ...


@dataclass
class FitResult:
    """What :meth:`Solver.fit` did: the losses of each outer iteration run, the step reached, the time."""

    history: list[dict[str, float]]
    steps: int
    seconds: float
