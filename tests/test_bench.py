"""The translation ladder's pieces: augmentations, the two-sample test, the peer, the ceiling, the table."""

import pytest
import torch

from monge.bench.c2st import two_sample_accuracy
from monge.bench.cyclegan import train_cyclegan
from monge.bench.ladder import ladder_table, mse_progress
from monge.bench.supervised import train_supervised
from monge.errors import ConfigError
from monge.ot.augment import Augment, cutout, translate
from monge.ot.baselines import gaussian_colour_map
from monge.train.config import TrainConfig


def _blobs(n: int, bright: bool, size: int = 16, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(2 * seed + int(bright))
    base = torch.rand(n, 3, size, size, generator=gen) * 0.5 - 0.75
    return -base if bright else base


def test_augmentations_are_differentiable_and_keep_content():
    x = torch.rand(8, 3, 16, 16, requires_grad=True)
    shifted = translate(x)
    shifted.sum().backward()
    assert shifted.shape == x.shape and x.grad is not None and x.grad.abs().sum() > 0
    # a shift only moves (and repeats border) pixels: every output value is an input value of its image
    flat = x.detach().flatten(1)
    for i in range(8):
        assert torch.isin(shifted[i].detach().flatten(), flat[i]).all()
    holes = cutout(torch.ones(8, 3, 16, 16))
    assert ((holes == 0).float().mean(dim=(1, 2, 3)) == 0.25).all()  # one half-side square per image
    with pytest.raises(ConfigError, match="augment"):
        Augment("translation,colour")
    assert not Augment("none")


def test_two_sample_accuracy_is_chance_for_one_distribution_and_high_for_two():
    same_a, same_b = _blobs(400, False, seed=1), _blobs(400, False, seed=2)
    chance = two_sample_accuracy(same_a[:200], same_b[:200], same_a[200:], same_b[200:], steps=150)
    dark, bright = _blobs(400, False), _blobs(400, True)
    apart = two_sample_accuracy(dark[:200], bright[:200], dark[200:], bright[200:], steps=150)
    assert abs(chance - 0.5) < 0.1 and apart > 0.95


def test_colour_map_moves_the_mean_colour_to_the_target_domain():
    dark, bright = _blobs(64, False), _blobs(64, True)
    mapped = gaussian_colour_map(dark, bright)(dark)
    assert (mapped.mean(dim=(0, 2, 3)) - bright.mean(dim=(0, 2, 3))).abs().max() < 0.05


def test_cyclegan_and_supervised_ceiling_train_within_their_budget():
    # step caps, not wall-clock budgets, so that a busy machine cannot fail it; no time means no update
    dark, bright = _blobs(64, False), _blobs(64, True)
    gan = train_cyclegan(dark, bright, seconds=600, batch_size=4, width=4, blocks=1, progress=False, max_steps=3)
    assert gan.steps == 3 and len(gan.history) == 3 and gan.map(dark[:5]).shape == (5, 3, 16, 16)
    assert train_cyclegan(dark, bright, seconds=0, width=4, blocks=1, progress=False).steps == 0
    cfg = TrainConfig(source="-", target="-", size=16, unet_base=4, batch_size=16, lr=3e-3)
    ceiling = train_supervised(dark, bright, cfg, seconds=600, progress=False, max_steps=40)
    before = ((dark - bright) ** 2).mean()
    assert ceiling.steps == 40 and ((ceiling.map(dark) - bright) ** 2).mean() < 0.5 * before
    assert train_supervised(dark, bright, cfg, seconds=0, progress=False).steps == 0


def test_ladder_table_says_where_a_method_loses_to_the_identity():
    row = {"FD - identity (mean)": 0.0, "FD - identity (std)": 1.0, "KID": 0.1, "psnr": 10.0, "PD-EffNetLite0": 0.8}
    rows = {
        "identity": {**row, "FD-EffNetLite0": 290.0, "mse": 0.32, "C2ST accuracy": 0.9},
        "map": {**row, "FD-EffNetLite0": 300.0, "mse": 0.29, "C2ST accuracy": 0.8, "C2ST accuracy (std)": 0.012},
        "ceiling": {**row, "FD-EffNetLite0": 250.0, "mse": 0.20, "C2ST accuracy": 0.7},
    }
    table = ladder_table(rows)
    assert "map loses to the identity on FD." in table and "ceiling loses" not in table
    assert "| 80.0 +- 1.2 % |" in table  # the spread over the two-sample classifiers' seeds
    assert mse_progress(rows, "map", "ceiling") == pytest.approx(0.25)
