"""The one configuration of a NOT run: presets and :class:`TrainConfig`.

Every option is a dataclass field whose metadata carries its help text, its choices and its
command-line group; the ``monge train``/``stack``/``ae`` flags are generated from these fields
(:func:`monge.cli.options.add_config_options`), so an option is declared once, here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..errors import ConfigError, DataError
from ..options import check_choices, check_types, option
from ..ot.defaults import COST_NAMES, EXPECTILE, EXPECTILE_WEIGHT, PAIR_LOSSES, PAIRINGS, SOLVERS, T_STEPS

# the warm start's default length: on Sans -> Serif glyphs (150 steps, seed 0) 2,000 updates took the
# held-out MSE from 0.036 to 0.027 and the two-sample accuracy from 93 % to 60 % against 250 updates
WARM_START_UPDATES = 2000
DEFAULT_STEPS = 500  # best.pt, chosen on the validation split, stops the game earlier where it drifts

PRESETS: dict[str, dict] = {
    # the official NOT configuration, for a GPU
    "paper": dict(
        size=64,
        unet_base=48,
        f_width=64,
        f_max_width=512,
        batch_size=64,
        t_steps=T_STEPS,
        lr=1e-4,
        map_lr=1e-4,
        residual=False,
        channels_last=False,
    ),
    # about 30x cheaper per step: 32 px, thin UNet and critic, higher learning rates (the map's lower)
    "cpu": dict(
        size=32,
        unet_base=16,
        f_width=16,
        f_max_width=128,
        batch_size=32,
        t_steps=T_STEPS,
        lr=1e-3,
        map_lr=3e-4,
        residual=True,
        channels_last=True,
    ),  # NHWC: 1.4-1.7x faster convolutions on this CPU
}
COSTS = COST_NAMES


# fields added with a default that differs from what runs saved before them did: their old behaviour
SAVED_BEFORE = {"ot_pair_loss": "l2", "val_fraction": 0.0, "patience": 0}

# what a resumed run may change: schedules, evaluation and hardware, never the model or the data
RESUME_CHANGEABLE = (
    *("steps", "patience", "lr", "map_lr", "eval_every", "eval_images", "log_every", "grid_images", "logger"),
    *("device", "workers", "cache_mb"),
)


@dataclass
class TrainConfig:
    """A NOT training run. Fields given as ``None`` take the preset's value (see :data:`PRESETS`)."""

    source: str = option("", "source images: folder, .h5, .zip, ROOT:A (CycleGAN) or emoji:twitter", group="data")
    target: str = option("", "target images, same forms", group="data")
    out: str = option("runs/not", "run folder", cli=False)
    preset: str = option("cpu", "cpu: 32 px, thin nets; paper: the official sizes", tuple(PRESETS))
    cost: str = option("strong", "transport cost", COSTS)
    solver: str = option(
        "not",
        "the update rule: not (max-min: t_steps map updates per potential update) or enot (one joint update, "
        "the potential regularised by expectile regression; Buzun et al. 2024)",
        SOLVERS,
    )
    expectile: float = option(EXPECTILE, "ENOT's expectile tau, in (0.5, 1)")
    expectile_weight: float = option(EXPECTILE_WEIGHT, "ENOT's regularisation weight (for summed squared distances)")
    steps: int = option(DEFAULT_STEPS, "outer iterations (each: t_steps map updates + 1 potential update)")
    size: int = option(None, "image side (a multiple of 16)")
    unet_base: int = option(None, "the map UNet's base width")
    f_width: int = option(None, "the potential ResNet's first width")
    f_max_width: int = option(None, "the potential ResNet's widest layer")
    batch_size: int = option(None, "global batch size")
    t_steps: int = option(None, "map updates per potential update")
    lr: float = option(None, "Adam learning rate of the potential")
    map_lr: float = option(None, "Adam learning rate of the map")
    lr_schedule: str = option(
        "cosine",
        "constant, or cosine: decayed to zero over the run's steps (lets the max-min game settle)",
        ("constant", "cosine"),
    )
    residual: bool = option(None, "T(x) = x + UNet(x): starts at the identity")
    map_net: str = option(
        "unet", "unet (translation) or autoencoder (a bottleneck map, P to P)", ("unet", "autoencoder"), cli=False
    )
    latent: int = option(64, "the auto-encoder's bottleneck size", cli=False)
    objective: str = option(
        "not", "not (max-min) or reconstruction (the plain auto-encoder baseline)", ("not", "reconstruction"), cli=False
    )
    gamma: float = option(0.66, "the weak cost's gamma")
    z_count: int = option(8, "noise draws per input for the weak cost")
    z_std: float = option(0.1, "standard deviation of the weak map's noise input")
    ema: float = option(
        0.999, "map with an exponential moving average of T's weights, this decay per map update (0: off)"
    )
    augment: str = option(
        "translation,cutout",
        "differentiable augmentations of the potential's inputs, T(x) and y alike: "
        "none or a comma-separated subset of translation,cutout",
    )
    ot_warm_start: int = option(
        None,
        "map updates fitting T to the exact discrete OT pairs of the training images (cost: ot_pairing) "
        "before the game starts from there (default: 2000, or 40/3 of steps when fewer; 0: off, the game starts "
        "at the identity)",
    )
    ot_anchor: float = option(
        0.01,
        "during the game, pull each mapped training image towards its discrete OT partner (cost: ot_pairing) "
        "with this share of the game's gradient at the map's output (0: off)",
    )
    ot_pairing: str = option(
        "pixels+effnet",
        "the discrete OT pairs' cost (warm start and anchor): squared pixel distance, or plus that of "
        "EfficientNet-Lite0 features",
        PAIRINGS,
    )
    ot_pair_loss: str = option(
        "l1",
        "the error the map's fit to the discrete OT pairs minimises (warm start and anchor): l2 fits their mean, "
        "l1 their pixelwise median, which ignores the minority of wrong pairs that l2 blends in as ghosts",
        PAIR_LOSSES,
    )
    f_norm: str = option("none", "the potential's weight normalisation", ("none", "spectral"))
    f_penalty: float = option(0.0, "R1 gradient penalty on the potential at the target images, gamma (0: off)")
    f_net: str = option(
        "effnet",
        "the potential: a ResNet trained from scratch, a head on frozen EfficientNet-Lite0 features "
        "(judge it by a backbone-free measure), or the sum of both (features for shape, pixels for colour)",
        ("resnet", "effnet", "effnet+resnet"),
    )
    seed: int = option(0, "seed of the weights, the split and the batches", group="data")
    test_fraction: float = option(0.1, "held-out share of each domain", group="data")
    val_fraction: float = option(
        0.1,
        "share of each domain's training images held out to choose the checkpoint a run hands out (best.pt), "
        "so that the test split only scores it (0, or under 20 images: chosen on the test split)",
        group="data",
    )
    patience: int = option(
        4, "stop when the validation score has not improved for this many evaluations (0: never)", group="data"
    )
    eval_every: int = option(50, "evaluate every this many steps", group="data")
    eval_images: int = option(500, "held-out source images mapped at each evaluation", group="data")
    log_every: int = option(10, "log losses every this many steps", group="data")
    grid_images: int = option(8, "columns of the sample grid", group="data")
    logger: str = option(
        "auto",
        "where losses, metrics and grids go besides the CSV logs: auto (TensorBoard where it is installed, "
        "else nowhere else), csv (nowhere else), tensorboard, wandb (offline with WANDB_MODE=offline)",
        ("auto", "csv", "tensorboard", "wandb"),
        group="data",
    )
    backbone: str = option(
        "effnet-lite0",
        "metric backbone: FD-EffNetLite0, FID (needs Inception weights) or auto",
        ("effnet-lite0", "inception", "auto"),
        group="data",
    )
    inception_weights: str | None = option(None, "the FID Inception weights file", group="data")
    device: str = option("auto", "auto (CUDA when present, else cpu), cpu, cuda, cuda:1 or mps", group="data")
    h5_key: str | None = option(None, "the dataset inside an HDF5 file (default: its first)", group="data")
    crop: bool = option(False, "centre-crop non-square images", group="data")
    cache_mb: int = option(256, "hold a training split in memory below this size, else stream it", group="data")
    workers: int = option(2, "DataLoader workers decoding a streamed split", group="data")
    norm: str = option(
        "batch", "the map's normalisation (group: independent of the batch split)", ("batch", "group"), group="scale"
    )
    devices: int = option(1, "data-parallel processes on this node (DDP; batch_size is global)", group="scale")
    num_nodes: int = option(1, "nodes (launch the same command on each, as with torchrun)", group="scale")
    precision: str = option(
        "32",
        "float precision (16-mixed needs CUDA; auto: bf16-mixed where the device has fast bfloat16, "
        "CUDA or a CPU with AMX or AVX512-BF16, else 32)",
        ("auto", "32", "bf16-mixed", "16-mixed"),
        group="scale",
    )
    sync_batchnorm: bool = option(False, "BatchNorm statistics over the global batch (CUDA DDP)", group="scale")
    channels_last: bool = option(None, "NHWC memory layout for the convolutions", group="scale")
    compile: bool = option(False, "torch.compile the map and the potential", group="scale")

    def __post_init__(self):
        check_choices(self)
        for key, value in PRESETS[self.preset].items():
            if getattr(self, key) is None:
                setattr(self, key, value)
        # a preset fills the None fields first; ot_warm_start's None means "the default length"
        check_types(self, lambda f: "None" in str(f.type) or f.name == "ot_warm_start")
        from ..engine import resolve_device

        self.device = resolve_device(self.device)  # the saved config names the device actually used
        if self.ot_warm_start is None:  # fit the pairs well (2,000 updates) before the game; short runs scale it down
            self.ot_warm_start = max(1, min(WARM_START_UPDATES, self.steps * 40 // 3))
        if self.size < 16 or self.size % 16:
            raise ConfigError("size", f"{self.size} is not a positive multiple of 16 (the UNet halves it 4 times)")
        if not 0 <= self.ema < 1:
            raise ConfigError("ema", f"the decay {self.ema} is not in [0, 1)")
        if not self.f_penalty >= 0:  # also refuses NaN
            raise ConfigError("f_penalty", f"{self.f_penalty} is negative or not a number")
        if self.seed < 0:
            raise ConfigError("seed", f"{self.seed} is negative (seeds are 0 or more)")
        for key in ("ot_warm_start", "ot_anchor", "patience"):
            if not getattr(self, key) >= 0:  # also refuses NaN
                raise ConfigError(key, f"{getattr(self, key)} is negative")
        positive = ("steps", "eval_every", "eval_images", "log_every", "grid_images", "batch_size", "t_steps")
        for key in (*positive, "z_count", "unet_base", "f_width", "f_max_width", "latent"):
            if getattr(self, key) < 1:
                raise ConfigError(key, f"{getattr(self, key)} is not positive")
        for key in ("lr", "map_lr"):
            rate = getattr(self, key)
            if rate is not None and not 0 < rate <= 1:  # also refuses NaN
                raise ConfigError(key, f"{rate} is not in (0, 1]: Adam diverges at once above that")
        if not 0.5 < self.expectile < 1:  # also refuses NaN
            raise ConfigError("expectile", f"{self.expectile} is not in (0.5, 1)")
        if not self.expectile_weight >= 0:
            raise ConfigError("expectile_weight", f"{self.expectile_weight} is negative or not a number")
        if not 0 < self.test_fraction < 1:
            raise ConfigError("test_fraction", f"{self.test_fraction} is not in (0, 1)")
        if not 0 <= self.val_fraction < 1:
            raise ConfigError("val_fraction", f"{self.val_fraction} is not in [0, 1)")
        for key in ("gamma", "z_std", "cache_mb", "workers"):
            if not getattr(self, key) >= 0:
                raise ConfigError(key, f"{getattr(self, key)} is negative or not a number")
        for key in ("devices", "num_nodes"):
            if getattr(self, key) < 1:
                raise ConfigError(key, f"{getattr(self, key)} is not positive")
        world = self.devices * self.num_nodes
        if self.batch_size % world:
            raise ConfigError("batch_size", f"{self.batch_size} is not divisible by devices x nodes ({world})")
        from ..ot.augment import Augment

        Augment(self.augment)  # raises on an unknown policy

    def to_dict(self) -> dict:
        """The configuration as plain JSON values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """A configuration from a dict, refusing unknown keys."""
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ConfigError(sorted(unknown)[0], f"unknown configuration key(s) {', '.join(sorted(unknown))}")
        return cls(**d)

    @classmethod
    def from_saved(cls, d: dict) -> TrainConfig:
        """A saved run's configuration: a field the run predates takes the value it was trained with
        (:data:`SAVED_BEFORE`), not today's default."""
        return cls.from_dict({**SAVED_BEFORE, **d})

    @classmethod
    def from_file(cls, path: str | Path) -> TrainConfig:
        """A configuration from a JSON file; errors name the file."""
        return cls.from_dict(read_config_file(path))


def read_config_file(path: str | Path) -> dict:
    """The raw keys of a JSON configuration file (presets not yet applied); errors name the file."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise DataError(f"{path}: cannot read the configuration ({err})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: the configuration is not a JSON object")
    return data


def demo_config(out: str = "runs/demo", steps: int = 300, eval_images: int = 379, seed: int = 0) -> TrainConfig:
    """``monge demo``: ``monge train``'s defaults on twitter -> google emoji, eight evaluations on the
    held-out split. The defaults are the recipe that won the translation ladder at this budget
    (benchmarks/README.md): a potential on frozen EfficientNet-Lite0 features, shifted and cut-out
    copies of T(x) and y for it, a moving average of the map's weights, Adam at 1e-3 for the
    potential and 3e-4 for the map, both decayed to zero along a cosine; the map starts at the
    exact discrete OT pairs of the training images (pixel and feature distances) and is pulled
    towards them during the game with 1 % of the game's gradient norm, both in absolute error (the
    pairs' median: no ghosts of the wrong pairs, no grey wash on white backgrounds)."""
    return TrainConfig(
        source="emoji:twitter",
        target="emoji:google",
        out=out,
        steps=steps,
        eval_every=max(1, steps // 8),
        eval_images=eval_images,
        seed=seed,
    )
