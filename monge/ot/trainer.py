"""What every neural OT solver of monge shares: the problem (a map T, a potential f, a cost), the
optimisers and their schedules, the map's moving average, Lightning Fabric, mapping, the
:meth:`Solver.fit` loop with its callbacks, and the checkpointed state. An update rule subclasses
:class:`Solver` and implements :meth:`Solver.step` (:class:`~monge.ot.solver.NOT`: ``t_steps`` map updates
per potential update; :class:`~monge.ot.enot.ENOT`: one joint update); adding one touches nothing here.
Nothing here knows about files, runs or threads: batches come from any callable ``n -> batch`` (or a
tensor, :mod:`monge.data.sampling`), and the caller's ``before_update`` hook runs before each map update."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial

import torch
import torch.nn as nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm.auto import tqdm

from ..data.sampling import Sampler, as_sampler
from ..errors import DivergenceError
from .callbacks import Callback, FitResult
from .costs import Cost, QuadraticCost
from .nets import apply_map
from .optim import WEIGHT_BOUND, ExplosionGuard, anchored_gradient, trainable, weights_sane


class Solver:
    """A map T and a potential f for a cost, with their optimisers; :meth:`step` is the update rule.

    ``fabric`` (a launched Lightning Fabric, see :mod:`monge.engine`) places the nets, wraps them for
    data parallelism and mixed precision; ``T`` and ``f`` stay the plain modules. Under DDP the
    training forwards go through the wrapped nets, while the frozen net of each phase and all
    evaluation use the plain ones, so no collective runs outside the synchronised updates.
    """

    should_stop = False  # a callback sets it to end :meth:`fit` after the current outer iteration

    def __init__(
        self,
        T: nn.Module,
        f: nn.Module,
        cost: Cost | None = None,
        lr: float = 1e-4,
        map_lr: float | None = None,
        weight_decay: float = 1e-10,
        z_count: int = 8,
        z_channels: int = 1,
        z_std: float = 0.1,
        ema: float = 0.0,
        augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
        optimizer: Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer] | None = None,
        scheduler: Callable[[torch.optim.Optimizer], torch.optim.lr_scheduler.LRScheduler] | None = None,
        device: str | torch.device | None = None,
        before_update: Callable[[], object] | None = None,
        fabric=None,
    ):
        self.fabric = fabric
        # a random differentiable augmentation of every input of f, real and mapped alike (see monge.augment)
        self.augment = augment or (lambda x: x)
        # the caller's hook before every map update: monge's commands pass the thread governor
        # (monge.threads.adapt_threads), so a long run follows the machine's load
        self.before_update = before_update or (lambda: None)
        self.device = fabric.device if fabric is not None else torch.device(device or "cpu")
        self.T, self.f = T.to(self.device), f.to(self.device)
        self.cost = (cost or QuadraticCost()).to(self.device)
        self.z_count, self.z_channels, self.z_std = z_count, z_channels, z_std
        # the fused kernel: one pass over all tensors (9x faster than the per-tensor loop for the cpu preset's UNet)
        fused = True if self.device.type in ("cpu", "cuda") else None

        def adam(rate: float) -> Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]:
            return lambda params: torch.optim.Adam(params, lr=rate, weight_decay=weight_decay, fused=fused)

        # ``map_lr`` gives the map its own learning rate (default ``lr``): a map warm-started near the
        # OT map can move slowly while the potential learns at full speed
        self.opt_T = (optimizer or adam(lr if map_lr is None else map_lr))(trainable(self.T))
        self.opt_f = (optimizer or adam(lr))(trainable(self.f))
        self._T_train, self._f_train = self.T, self.f
        # a moving average of the map's weights and BatchNorm statistics, updated after every map update,
        # used by map/sample: it damps the oscillation of a max-min game; the training never sees it
        self.T_ema = None
        if ema > 0:
            self.T_ema = AveragedModel(self.T, multi_avg_fn=get_ema_multi_avg_fn(ema), use_buffers=True)
            self.T_ema.requires_grad_(False)
        if fabric is not None:
            self._T_train, self.opt_T = fabric.setup(self.T, self.opt_T)
            self._f_train, self.opt_f = fabric.setup(self.f, self.opt_f)
        self.schedulers = [scheduler(opt) for opt in (self.opt_T, self.opt_f)] if scheduler else []  # per step
        self.anchor: tuple[torch.Tensor, torch.Tensor] | None = None  # see anchor_to
        self.anchor_generator: torch.Generator | None = None
        self.pull = partial(anchored_gradient, weight=0.0)  # the anchor's gradient hook
        self.steps_done, self.explosion_guard = 0, ExplosionGuard()

    @property
    def stochastic(self) -> bool:
        """Whether T takes noise, T(x, z) (the cost says so: the gamma-weak cost is stochastic)."""
        return self.cost.stochastic

    @property
    def noise_channels(self) -> int:
        """Noise channels the map takes beside the image: ``z_channels`` for a stochastic map, else 0."""
        return self.z_channels if self.stochastic else 0

    @property
    def map_net(self) -> nn.Module:
        """The net that maps: the weight average when training keeps one (once it has averaged), else T."""
        return self.T if self.T_ema is None or self.T_ema.n_averaged == 0 else self.T_ema.module

    def _apply(self, x: torch.Tensor, draws: int, net: nn.Module | None = None) -> torch.Tensor:
        """T on x with ``draws`` noise draws per input: (N, draws, ...) for a stochastic map, else T(x)."""
        net = self.T if net is None else net
        return apply_map(net, x, draws, self.noise_channels, self.z_std)

    @torch.no_grad()
    def map(self, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """T(x) in eval mode (one noise draw per input for a stochastic map)."""
        if self.stochastic:
            return self.sample(x, 1, batch_size)[:, 0]
        return self._eval(self.map_net, x, batch_size)

    @torch.no_grad()
    def sample(self, x: torch.Tensor, n: int, batch_size: int = 256) -> torch.Tensor:
        """``n`` draws T(x, z) per input: (N, n, ...). A deterministic map repeats its one output."""
        if not self.stochastic:
            return self.map(x, batch_size).unsqueeze(1).expand(-1, n, *x.shape[1:])
        return self._eval(lambda b: self._apply(b, n, self.map_net), x, max(1, batch_size // n))

    def _eval(self, fn, x: torch.Tensor, batch_size: int) -> torch.Tensor:
        net, was_training = self.map_net, self.map_net.training
        net.eval()
        try:
            return torch.cat([fn(b.to(self.device)).cpu() for b in x.split(batch_size)])
        finally:
            net.train(was_training)

    def _autocast(self):
        return self.fabric.autocast() if self.fabric is not None else contextlib.nullcontext()

    def anchor_to(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        weight: float,
        generator: torch.Generator | None = None,
        loss: str = "l2",
    ) -> None:
        """During the game, draw the map's batches from ``x`` and pull each T(x[i]) towards ``y[i]``
        (the discrete OT pairs, :mod:`monge.ot.discrete`) in ``loss``, ``weight`` times the game's
        gradient norm at the output (:func:`anchored_gradient`): the potential makes the map look
        real, the pairs keep it where the exact OT plan of the samples sends each image."""
        self.anchor, self.anchor_generator = (x, y), generator
        self.pull = partial(anchored_gradient, weight=weight, loss=loss)

    def mapped_outputs(self, x: torch.Tensor, partners: torch.Tensor | None = None) -> torch.Tensor:
        """The training net's ``z_count`` outputs per input (T(x) for a deterministic map), with the
        gradient that reaches them pulled towards ``partners`` when given (:meth:`anchor_to`)."""
        out = self._apply(x, self.z_count, self._T_train)
        if partners is not None:
            target = partners.unsqueeze(1) if self.stochastic else partners
            # the hook holds a detached view: one holding ``out`` itself would keep every batch alive
            out.register_hook(partial(self.pull, out=out.detach(), partners=target))
        return out

    def step(self, sample_x: Sampler, sample_y: Sampler, batch_size: int) -> dict[str, float]:
        """One outer iteration of the update rule on batches of ``batch_size`` drawn from the two
        samplers; returns the losses to log. Advances :attr:`steps_done` by one."""
        raise NotImplementedError

    def _checked(self, loss: torch.Tensor, what: str) -> float:
        """The loss's value; raises :class:`DivergenceError` (on every rank together) when it is
        non-finite or has exploded, before any weight is updated with it."""
        value = loss.item()
        if self._on_any_rank(not math.isfinite(value) or self.explosion_guard.exploded(value, what)):
            raise DivergenceError(
                f"{what} is {value} at step {self.steps_done + 1}: training diverged "
                "(try a lower learning rate); the weights were not updated with it"
            )
        return value

    def _on_any_rank(self, flag: bool) -> bool:
        """Whether ``flag`` holds on any data-parallel rank, the same answer on all: they stop together."""
        if self.fabric is None or self.fabric.world_size == 1:
            return flag
        return bool(self.fabric.all_reduce(torch.tensor(float(flag), device=self.device), reduce_op="sum").item())

    def _backward(self, loss: torch.Tensor) -> None:
        if self.fabric is not None:
            self.fabric.backward(loss)
        else:
            loss.backward()

    def _update(self, loss: torch.Tensor, opt: torch.optim.Optimizer, what: str) -> float:
        value = self._checked(loss, what)
        opt.zero_grad(set_to_none=True)
        self._backward(loss)
        opt.step()
        return value

    def _average_map(self) -> None:
        if self.T_ema is not None:
            self.T_ema.update_parameters(self.T)

    def pair_batch(
        self, xs: torch.Tensor, ys: torch.Tensor, batch_size: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A global batch of ``batch_size`` random pairs (xs[i], ys[i]), of which each process of a
        data-parallel run keeps its share: the warm start's and the anchor's batches."""
        rank, world = (self.fabric.global_rank, self.fabric.world_size) if self.fabric is not None else (0, 1)
        idx = torch.randint(len(xs), (batch_size,), generator=generator)[rank::world]
        return xs[idx], ys[idx]

    def fit(
        self,
        source,
        target,
        steps: int,
        batch_size: int = 64,
        generator: torch.Generator | None = None,
        progress: bool = True,
        callbacks: Sequence[Callback] = (),
    ) -> FitResult:
        """Train until :attr:`steps_done` reaches ``steps`` (a resumed solver runs the remaining ones)
        on tensors, Datasets or samplers ``n -> batch``.

        After every outer iteration the schedulers step, then each callback's ``on_step(solver,
        step, losses)`` runs; what a callback returns (a dict) is shown on the progress bar.
        Evaluation, checkpoints, logs and early stopping are callbacks (see :mod:`monge.train.callbacks`)."""
        sample_x, sample_y = as_sampler(source, generator), as_sampler(target, generator)
        history: list[dict[str, float]] = []
        start, t0, shown, self.should_stop = self.steps_done, time.perf_counter(), {}, False
        bar = tqdm(
            range(start, steps), initial=start, total=steps, disable=not progress, desc="NOT", dynamic_ncols=True
        )
        for _ in bar:
            self.cost.set_progress(self.steps_done / max(1, steps))
            losses = self.step(sample_x, sample_y, batch_size)
            for scheduler in self.schedulers:
                scheduler.step()
            history.append(losses)
            for callback in callbacks:
                shown.update(callback.on_step(self, self.steps_done, losses) or {})
            bar.set_postfix(T=f"{losses['t_loss']:.4f}", f=f"{losses['f_loss']:.4f}", **shown)
            if self._on_any_rank(self.should_stop):  # only rank 0 runs the evaluation that may stop
                break
        return FitResult(history, self.steps_done, time.perf_counter() - t0)

    def state_dict(self) -> dict:
        """Both nets, both optimisers, the step count and the map's moving average (if any)."""
        state = {
            "T": self.T.state_dict(),
            "f": self.f.state_dict(),
            "opt_T": self.opt_T.state_dict(),
            "opt_f": self.opt_f.state_dict(),
            "steps_done": self.steps_done,
        }
        if self.schedulers:
            state["schedulers"] = [s.state_dict() for s in self.schedulers]
        if self.T_ema is not None:
            state["T_ema"] = self.T_ema.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned, to resume training exactly."""
        self.T.load_state_dict(state["T"])
        self.f.load_state_dict(state["f"])
        self.opt_T.load_state_dict(state["opt_T"])
        self.opt_f.load_state_dict(state["opt_f"])
        self.steps_done = int(state["steps_done"])
        for scheduler, saved in zip(self.schedulers, state.get("schedulers", [])):
            scheduler.load_state_dict(saved)
        if self.T_ema is not None:
            self.T_ema.load_state_dict(state["T_ema"])

    def set_lr(self, lr: float, map_lr: float | None = None) -> None:
        """Set the optimisers' learning rates (and their schedules' base), e.g. after a resume: ``lr``
        for the potential, ``map_lr`` (default ``lr``) for the map."""
        rates = (lr if map_lr is None else map_lr, lr)
        for opt, rate in zip((self.opt_T, self.opt_f), rates):
            for group in opt.param_groups:
                group["lr"] = group["initial_lr"] = rate
        for scheduler, rate in zip(self.schedulers, rates):
            scheduler.base_lrs = [rate] * len(scheduler.base_lrs)

    def parameters_sane(self, bound: float = WEIGHT_BOUND) -> bool:
        """False once a weight of T or f, or a statistic T's normalisation keeps, is not finite or beyond ``bound``."""
        return weights_sane((self.T, self.f), (self.T,), bound)
