"""Training NOT on image collections: presets, run folders, evaluation, checkpoints and resume.

A run folder holds everything a run produced and needs to continue:

    config.json            the full configuration
    split_source.json      train/test file lists of each domain (reproducible, resumable)
    split_target.json
    checkpoints/last.pt    T, f, both optimisers, step, RNG states, config (written atomically)
    checkpoints/best.pt    the same at the best evaluation (lowest FD / FID)
    losses.csv, eval.csv   losses every ``log_every`` steps, metrics at every evaluation
    tb/                    TensorBoard events
    samples/               grids: source | T(source) (several z for the weak cost) | paired target
    curve.png              the evaluation metric against the step
"""
from __future__ import annotations

import csv
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
from tqdm.auto import tqdm

from .augment import Augment
from .costs import make_cost
from .data import DataError, Split, open_domain, split_domain
from .metrics import PerceptualDistance, fd_from_stats, image_stats, paired_metrics
from .nets import ResNetPotential, UNet, spectral_normalise
from .solvers import NOT, DivergenceError, StreamSampler, as_sampler
from .viz import plot_curves, save_grid

PRESETS: dict[str, dict] = {
    # the official NOT configuration, for a GPU
    "paper": dict(size=64, unet_base=48, f_width=64, f_max_width=512, batch_size=64, t_steps=10, lr=1e-4,
                  residual=False, channels_last=False),
    # about 30x cheaper per step: 32 px, thin UNet and critic, a higher learning rate
    "cpu": dict(size=32, unet_base=16, f_width=16, f_max_width=128, batch_size=32, t_steps=10, lr=3e-4,
                residual=True, channels_last=True),  # NHWC: 1.4-1.7x faster convolutions on this CPU
}


@dataclass
class TrainConfig:
    source: str
    target: str
    out: str = "runs/not"
    preset: str = "cpu"
    cost: str = "strong"
    steps: int = 500
    size: int | None = None
    unet_base: int | None = None
    f_width: int | None = None
    f_max_width: int | None = None
    batch_size: int | None = None
    t_steps: int | None = None
    lr: float | None = None
    residual: bool | None = None  # T(x) = x + UNet(x): starts at the identity
    map_net: str = "unet"  # unet (translation) or autoencoder (a bottleneck map, P to P)
    latent: int = 64  # the auto-encoder's bottleneck
    objective: str = "not"  # not (max-min) or reconstruction (the plain auto-encoder baseline)
    gamma: float = 0.66
    z_count: int = 8
    z_std: float = 0.1
    seed: int = 0
    test_fraction: float = 0.1
    eval_every: int = 50
    eval_images: int = 500
    log_every: int = 10
    grid_images: int = 8
    backbone: str = "effnet-lite0"
    inception_weights: str | None = None
    device: str = "cpu"
    h5_key: str | None = None
    crop: bool = False
    cache_mb: int = 256  # hold a training split in memory (float32) when smaller than this; else stream it
    workers: int = 2  # DataLoader workers decoding a streamed split
    norm: str = "batch"  # the map's normalisation: batch (official) or group (independent of the batch split)
    devices: int = 1  # data-parallel processes per node (Lightning Fabric DDP); batch_size is the global batch
    num_nodes: int = 1
    precision: str = "32"  # 32, bf16-mixed or 16-mixed (CUDA)
    sync_batchnorm: bool = False  # BatchNorm statistics over the global batch (CUDA DDP)
    channels_last: bool | None = None  # NHWC memory layout for the convolutions
    compile: bool = False  # torch.compile the map and the potential
    ema: float = 0.0  # decay of an exponential moving average of the map's weights used to map (0: off)
    augment: str = "none"  # differentiable augmentations of f's inputs: none or a subset of translation,cutout
    f_norm: str = "none"  # the potential's weight normalisation: none or spectral

    def __post_init__(self):
        if self.preset not in PRESETS:
            raise ValueError(f"--preset {self.preset}: unknown (expected {', '.join(PRESETS)})")
        for key, value in PRESETS[self.preset].items():
            if getattr(self, key) is None:
                setattr(self, key, value)
        if self.size % 16:
            raise ValueError(f"--size {self.size}: must be a multiple of 16 (the UNet halves it 4 times)")
        if not 0 <= self.ema < 1:
            raise ValueError(f"--ema {self.ema}: the decay must be in [0, 1)")
        if self.steps < 1 or self.eval_every < 1:
            raise ValueError("--steps and --eval-every must be positive")
        world = self.devices * self.num_nodes
        if world < 1 or self.batch_size % world:
            raise ValueError(f"--batch-size {self.batch_size}: must be divisible by devices x nodes ({world})")

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown configuration keys: {', '.join(sorted(unknown))}")
        return cls(**d)

    @classmethod
    def from_file(cls, path: str | Path) -> "TrainConfig":
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(f"{path}: cannot read the configuration ({err})") from None


def build_solver(cfg: TrainConfig, fabric=None) -> NOT:
    """The NOT solver (UNet map, ResNet potential, cost, optimisers) of a configuration; ``fabric``
    (see :mod:`monge.engine`) places it for data parallelism and mixed precision."""
    cost = make_cost(cfg.cost, **({"gamma": cfg.gamma} if cfg.cost == "weak" else {}))
    z_channels = 1 if cost.stochastic else 0
    if cfg.map_net == "unet":
        T = UNet(3 + z_channels, 3, cfg.unet_base, residual=cfg.residual, norm=cfg.norm)
    elif cfg.map_net == "autoencoder" and not cost.stochastic:
        from .autoencoder import ConvAutoEncoder

        T = ConvAutoEncoder(cfg.size, 3, cfg.latent, width=2 * cfg.unet_base, norm=cfg.norm)
    else:
        raise ValueError(f"map_net {cfg.map_net} with cost {cfg.cost}: expected unet, or autoencoder with a "
                         "deterministic cost")
    f = ResNetPotential(cfg.size, 3, cfg.f_width, cfg.f_max_width)
    if cfg.f_norm == "spectral":
        f = spectral_normalise(f)
    elif cfg.f_norm != "none":
        raise ValueError(f"f_norm {cfg.f_norm}: expected none or spectral")
    if cfg.sync_batchnorm:
        T = torch.nn.SyncBatchNorm.convert_sync_batchnorm(T)
    if cfg.channels_last:
        T, f = T.to(memory_format=torch.channels_last), f.to(memory_format=torch.channels_last)
    if cfg.compile:
        T.compile()
        f.compile()
    solver_cls = NOT
    if cfg.objective == "reconstruction":
        from .autoencoder import ReconstructionSolver

        solver_cls = ReconstructionSolver
    elif cfg.objective != "not":
        raise ValueError(f"objective {cfg.objective}: expected not or reconstruction")
    return solver_cls(T, f, cost, t_steps=cfg.t_steps, lr=cfg.lr, z_count=cfg.z_count, z_channels=z_channels,
                      z_std=cfg.z_std, ema=cfg.ema, augment=Augment(cfg.augment) or None, device=None if fabric is not None else cfg.device, fabric=fabric)


# ---------------------------------------------------------------- checkpoints --------------------

def save_checkpoint(path: Path, solver: NOT, cfg: TrainConfig, data_rng: torch.Generator, extra: dict) -> None:
    """Write atomically (temp file + rename), refusing non-finite weights."""
    if not solver.parameters_finite():
        raise DivergenceError(f"{path}: refusing to write non-finite weights")
    state = {"solver": solver.state_dict(), "config": asdict(cfg), "torch_rng": torch.get_rng_state(),
             "data_rng": data_rng.get_state(), **extra}
    if torch.cuda.is_available():
        state["cuda_rng"] = torch.cuda.get_rng_state_all()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_checkpoint(path: str | Path) -> dict:
    """A checkpoint's dict (weights only, on the CPU); a missing or torn file raises DataError naming it."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise DataError(f"{path}: no such checkpoint") from None
    except Exception as err:  # a torn or foreign file
        raise DataError(f"{path}: not a readable monge checkpoint ({err})") from None


def load_solver(run: str | Path, which: str = "best", device: str | None = None) -> tuple[NOT, TrainConfig]:
    """The solver of a run folder at its ``best`` or ``last`` checkpoint, in eval mode."""
    run = Path(run)
    path = run / "checkpoints" / f"{which}.pt"
    if which == "best" and not path.exists():
        path = run / "checkpoints" / "last.pt"
    state = load_checkpoint(path)
    single = {"devices": 1, "num_nodes": 1, "sync_batchnorm": False, "compile": False}  # inference: one device
    cfg = TrainConfig.from_dict({**state["config"], **single, **({"device": device} if device else {})})
    solver = build_solver(cfg)
    solver.load_state_dict(state["solver"])
    solver.map_net.eval()
    return solver, cfg


# ---------------------------------------------------------------- data and evaluation ------------

def _load_split(domain, cfg: TrainConfig, path: Path, save: bool = True):
    train, test, split = split_domain(domain, cfg.test_fraction, cfg.seed)
    if path.exists():  # resume: the saved lists win
        saved = Split.load(path)
        train, test, split = domain.source.subset(saved.train), (domain.test or domain.source).subset(saved.test), saved
    elif save:
        split.save(path)
    return train, test


def _maybe_in_memory(source, cfg: TrainConfig, desc: str, progress: bool):
    if len(source) * 3 * cfg.size * cfg.size * 4 <= cfg.cache_mb * 2**20:
        return torch.stack([source[i] for i in tqdm(range(len(source)), desc=f"load {desc}", leave=False,
                                                   disable=not progress or len(source) < 2000)])
    return source  # streamed: decoded batch by batch


def make_sampler(source, cfg: TrainConfig, domain: int, data_rng: torch.Generator, rank: int = 0, world: int = 1,
                 start: int = 0, pin_memory: bool = False, progress: bool = False):
    """The training batch sampler of a split: from memory when it fits ``cache_mb`` (indices from
    ``data_rng``), else a :class:`StreamSampler` (``domain`` 0/1 keeps the two streams apart)."""
    data = _maybe_in_memory(source, cfg, "source" if domain == 0 else "target", progress)
    if isinstance(data, torch.Tensor):
        return as_sampler(data, data_rng, rank, world)
    return StreamSampler(data, 2 * cfg.seed + domain, rank, world, cfg.workers, pin_memory, start)


class Evaluator:
    """Held-out evaluation: FD (or FID) of T(source test) against the target test split, and paired
    metrics (MSE, PSNR, PD-EffNetLite0) when test images of both domains share file names."""

    def __init__(self, cfg: TrainConfig, source_test, target_test, run: Path):
        from .features import load_backbone

        name = cfg.backbone
        if name == "auto":
            try:
                self.extractor = load_backbone("inception", cfg.inception_weights)
            except FileNotFoundError:
                self.extractor = load_backbone("effnet-lite0")
        else:
            self.extractor = load_backbone(name, cfg.inception_weights)
        self.extractor.to(cfg.device)
        self.metric = self.extractor.name
        n = min(cfg.eval_images, len(source_test))
        self.source = torch.stack([source_test[i] for i in range(n)])
        self.size = cfg.size
        self.target_stats = image_stats(target_test, self.extractor, cfg.size,
                                        cache=run / f"target_test_stats_{self.extractor.backbone_id}.npz")
        common = set(source_test.names[:n]) & set(target_test.names)
        self.paired = None
        if common:
            keep = [i for i, name in enumerate(source_test.names[:n]) if name in common]
            self.paired_idx = torch.tensor(keep)
            self.paired = target_test.subset([source_test.names[i] for i in keep]).tensor()
            self.perceptual = PerceptualDistance(
                self.extractor if self.metric == "FD-EffNetLite0" else None).to(cfg.device)
        self.grid_source = self.source[: cfg.grid_images]
        self.grid_target = target_test.subset([source_test.names[i] for i in range(cfg.grid_images)]).tensor() \
            if self.paired is not None and len(self.paired) >= cfg.grid_images else None

    def __call__(self, solver: NOT, seed: int) -> tuple[dict[str, float], list[torch.Tensor]]:
        """Metrics and the rows of a sample grid; uses its own RNG so training is not perturbed."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            mapped = solver.map(self.source).clamp(-1, 1)  # the images translate writes: PNGs clip
            stats = image_stats(mapped, self.extractor, self.size)
            result = {self.metric: fd_from_stats(stats, self.target_stats)}
            if self.paired is not None:
                result.update(paired_metrics(mapped[self.paired_idx], self.paired, self.perceptual))
            rows = [self.grid_source]
            if solver.stochastic:
                rows += list(solver.sample(self.grid_source, 3).transpose(0, 1))
            else:
                rows.append(mapped[: len(self.grid_source)])
            if self.grid_target is not None:
                rows.append(self.grid_target)
        return result, rows


class _CSVLog:
    def __init__(self, path: Path):
        self.path = path

    def write(self, row: dict) -> None:
        new = not self.path.exists()
        with self.path.open("a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(row))
            if new:
                w.writeheader()
            w.writerow(row)

    def read(self) -> list[dict]:
        if not self.path.exists():
            return []
        with self.path.open() as fh:
            return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(fh)]

    def truncate_after(self, step: int) -> None:
        """Drop rows past ``step`` (written after the checkpoint a resumed run starts from)."""
        rows = [r for r in self.read() if r["step"] <= step]
        self.path.unlink(missing_ok=True)
        for r in rows:
            self.write({k: (int(v) if k == "step" else v) for k, v in r.items()})


# ---------------------------------------------------------------- the loop -----------------------

def open_splits(cfg: TrainConfig, run: Path, save: bool = True) -> tuple:
    """(source train, source test, target train, target test), the file lists saved in ``run``
    (``save=False`` on the non-zero ranks of a distributed run: the seeded split is the same)."""
    src_train, src_test = _load_split(open_domain(cfg.source, cfg.size, cfg.crop, cfg.h5_key), cfg,
                                      run / "split_source.json", save)
    tgt_train, tgt_test = _load_split(open_domain(cfg.target, cfg.size, cfg.crop, cfg.h5_key), cfg,
                                      run / "split_target.json", save)
    if len(src_test) == 0 or len(tgt_test) == 0:
        raise DataError(f"{cfg.source if len(src_test) == 0 else cfg.target}: the test split is empty "
                        "(raise --test-fraction or add testA/testB folders)")
    return src_train, src_test, tgt_train, tgt_test


def train(cfg: TrainConfig, resume: bool = False, progress: bool = True, data: tuple | None = None,
          init: dict | None = None, fabric=None) -> dict:
    """Train (or resume) a NOT run; returns a summary with the best and final metrics.

    ``data`` overrides the configured domains with prepared (source train, source test, target
    train, target test) image sources (stacking trains on mapped sources); ``init`` holds T and f
    state dicts to start a fresh run from (a warm start). With ``cfg.devices`` > 1 the other ranks
    are launched by Lightning Fabric (see :mod:`monge.engine`; pass ``fabric`` to reuse a launched
    one); only rank 0 evaluates and writes.
    """
    from .engine import make_fabric

    run = Path(cfg.out)
    ckpt_dir = run / "checkpoints"
    fabric = fabric or make_fabric(cfg.device, cfg.devices, cfg.num_nodes, cfg.precision)
    rank0 = fabric.is_global_zero
    if run.exists() and (ckpt_dir / "last.pt").exists() and not resume:
        raise DataError(f"{run}: already holds a run; pass --resume to continue it or choose another --out")
    if rank0:
        (run / "samples").mkdir(parents=True, exist_ok=True)
    if fabric.device.type == "cuda":
        torch.backends.cudnn.benchmark = True

    torch.manual_seed(cfg.seed)
    data_rng = torch.Generator().manual_seed(cfg.seed)  # the same on every rank: the global batch
    solver = build_solver(cfg, fabric)
    state = {"best_metric": float("inf"), "best_step": -1, "streams": [0, 0]}
    if init is not None and not (resume and (ckpt_dir / "last.pt").exists()):
        solver.T.load_state_dict(init["T"])
        solver.f.load_state_dict(init["f"])
    if resume and (ckpt_dir / "last.pt").exists():
        ck = load_checkpoint(ckpt_dir / "last.pt")
        solver.load_state_dict(ck["solver"])
        torch.set_rng_state(ck["torch_rng"])
        data_rng.set_state(ck["data_rng"])
        state = {"best_metric": float(ck["best_metric"]), "best_step": int(ck["best_step"]),
                 "streams": [int(v) for v in ck.get("streams", [0, 0])]}
    fabric.barrier()  # every rank has read the checkpoint before rank 0 may overwrite it
    src_train, src_test, tgt_train, tgt_test = data if data is not None else open_splits(cfg, run, save=rank0)
    rank, world = fabric.global_rank, fabric.world_size
    pin = fabric.device.type == "cuda"
    sample_x, sample_y = (make_sampler(split, cfg, k, data_rng, rank, world, state["streams"][k], pin, progress and rank0)
                          for k, split in enumerate((src_train, tgt_train)))
    start, t0 = solver.steps_done, time.perf_counter()
    last_eval: dict[str, float] = {}
    if rank0:
        (run / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
        evaluator = Evaluator(cfg, src_test, tgt_test, run)
        losses_log, eval_log = _CSVLog(run / "losses.csv"), _CSVLog(run / "eval.csv")
        losses_log.truncate_after(solver.steps_done)
        eval_log.truncate_after(solver.steps_done)
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(run / "tb"), purge_step=solver.steps_done or None)
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, disable=not (progress and rank0), desc="NOT",
               dynamic_ncols=True)
    try:
        for _ in bar:
            solver.cost.set_progress(solver.steps_done / cfg.steps)
            try:
                losses = solver.step(sample_x, sample_y, cfg.batch_size)
            except DivergenceError as err:
                raise DivergenceError(f"{err}; last good checkpoint: {ckpt_dir / 'last.pt'}") from None
            step = solver.steps_done
            if not rank0:
                continue
            bar.set_postfix(T=f"{losses['t_loss']:.4f}", f=f"{losses['f_loss']:.4f}",
                            **({evaluator.metric: f"{last_eval[evaluator.metric]:.1f}"} if last_eval else {}))
            if step % cfg.log_every == 0 or step == cfg.steps:
                losses_log.write({"step": step, **losses, "seconds": round(time.perf_counter() - t0, 2)})
                for k, v in losses.items():
                    writer.add_scalar(f"loss/{k}", v, step)
            if step % cfg.eval_every == 0 or step == cfg.steps:
                state["streams"] = [getattr(s, "drawn", 0) for s in (sample_x, sample_y)]
                last_eval, state = _evaluate(solver, evaluator, cfg, step, state, writer, eval_log, data_rng)
    finally:
        if rank0:
            writer.close()
    fabric.barrier()
    elapsed = time.perf_counter() - t0
    summary = {"run": str(run), "metric": evaluator.metric if rank0 else None, "steps": solver.steps_done,
               "best_step": state["best_step"], "final": last_eval, "seconds": round(elapsed, 1),
               "steps_per_second": round((solver.steps_done - start) / elapsed, 4) if elapsed > 0 else None,
               "world_size": world, "rank": rank}
    if rank0:
        summary[f"best_{evaluator.metric}"] = state["best_metric"]
        (run / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def _evaluate(solver: NOT, evaluator: Evaluator, cfg: TrainConfig, step: int, state: dict, writer, eval_log: _CSVLog,
              data_rng: torch.Generator) -> tuple[dict[str, float], dict]:
    """Score the map, log and plot, write the grid and the ``last`` (and maybe ``best``) checkpoints."""
    run = Path(cfg.out)
    result, rows = evaluator(solver, cfg.seed)
    eval_log.write({"step": step, **result})
    for k, v in result.items():
        writer.add_scalar(f"eval/{k}", v, step)
    grid = save_grid(rows, run / "samples" / f"step_{step:06d}.png", scale=2)
    save_grid(rows, run / "samples" / "latest.png", scale=2)
    writer.add_image("samples", grid.add(1).div(2), step)
    history = eval_log.read()
    plot_curves({evaluator.metric: ([r["step"] for r in history], [r[evaluator.metric] for r in history])},
                run / "curve.png", evaluator.metric, f"{cfg.source} -> {cfg.target} (test split)")
    if result[evaluator.metric] < state["best_metric"]:
        state = {**state, "best_metric": result[evaluator.metric], "best_step": step}
        save_checkpoint(run / "checkpoints" / "best.pt", solver, cfg, data_rng, state)
    save_checkpoint(run / "checkpoints" / "last.pt", solver, cfg, data_rng, state)
    return result, state
