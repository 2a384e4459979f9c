"""Optional pieces (the bench, hdf5 and viz extras): a missing one is named with its pip install, or skipped
where the run does without it; the colour baseline needs none of them."""

import sys

import numpy as np
import pytest
import torch

from monge.errors import MissingExtra
from monge.ot.gaussian import fit_gaussian_ot


def test_gaussian_ot_map_matches_pot_and_moves_moments():
    ot = pytest.importorskip("ot", reason="POT (the bench extra) is the reference")
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(4000, 3)) @ rng.normal(size=(3, 3)) + 1.0
    xt = rng.normal(size=(4000, 3)) @ rng.normal(size=(3, 3)) - 2.0
    A, b = fit_gaussian_ot(xs, xt)
    A_ref, b_ref = ot.gaussian.bures_wasserstein_mapping(xs.mean(0), xt.mean(0), np.cov(xs.T), np.cov(xt.T))[:2]
    assert np.allclose(A, np.real(A_ref), atol=1e-6) and np.allclose(b, np.real(b_ref), atol=1e-6)
    mapped = xs @ A + b  # the map carries the source's mean and covariance onto the target's
    assert np.allclose(mapped.mean(0), xt.mean(0), atol=1e-6)
    assert np.allclose(np.cov(mapped.T), np.cov(xt.T), atol=1e-6)


def test_missing_extras_are_named_or_done_without(tmp_path, monkeypatch, capsys):
    from monge.data.sources import H5Source
    from monge.train.callbacks import scalar_writer
    from monge.viz import plot_curves

    for module in ("h5py", "matplotlib.figure", "torch.utils.tensorboard", "ot"):
        monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    with pytest.raises(MissingExtra, match=r"x.h5: reading HDF5 needs the 'hdf5' extra: pip install 'monge\[hdf5\]'"):
        H5Source(tmp_path / "x.h5", 16)
    plot_curves({"FD": ([1, 2], [3.0, 2.0])}, tmp_path / "curve.png", "FD")
    assert not (tmp_path / "curve.png").exists()  # no plot, no crash: the numbers are in the CSV logs
    capsys.readouterr()
    writer = scalar_writer(tmp_path / "tb", 0)  # auto: CSV only, without a word
    writer.add_scalar("loss", 1.0, 1)
    writer.close()
    assert capsys.readouterr().err == ""
    scalar_writer(tmp_path / "tb", 0, "tensorboard").close()  # asked for by name: its absence is said
    assert "pip install 'monge[viz]'" in capsys.readouterr().err
    from monge.ot.baselines import gaussian_colour_map, palette_transfer

    x = torch.rand(4, 3, 8, 8) * 2 - 1
    assert gaussian_colour_map(x, -x)(x).shape == x.shape  # the colour baseline needs no extra
    with pytest.raises(MissingExtra, match=r"pip install 'monge\[bench\]'"):
        palette_transfer(x, x)


def test_logger_choice_csv_tensorboard_wandb(tmp_path, monkeypatch, tiny_domains):
    import types

    from conftest import TINY_NETS

    from monge.cli.main import main

    logged: list = []

    class FakeRun:
        def log(self, values, step):
            logged.append((step, values))

        def finish(self):
            logged.append("finished")

    fake = types.SimpleNamespace(init=lambda **kw: logged.append(kw) or FakeRun(), Image=lambda a: ("image", a.shape))
    monkeypatch.setitem(sys.modules, "wandb", fake)  # W&B's API, offline: records what monge sends
    a, b = tiny_domains
    tiny = [*TINY_NETS, "--t-steps", "1", "--eval-every", "2", "--eval-images", "8", "--test-fraction", "0.2"]
    for logger in ("csv", "wandb", "tensorboard"):
        out = tmp_path / logger
        argv = ["train", "--source", a, "--target", b, *tiny, "--steps", "2", "--logger", logger]
        assert main([*argv, "--out", str(out)]) == 0
        assert (out / "eval.csv").exists() and (out / "tb").exists() == (logger == "tensorboard")
    init = logged[0]
    assert init["project"] == "monge" and init["config"]["logger"] == "wandb"
    assert any(isinstance(e, tuple) and "eval/FD-EffNetLite0" in e[1] for e in logged)
    assert any(isinstance(e, tuple) and e[1].get("samples", ("",))[0] == "image" for e in logged)
    assert logged[-1] == "finished"
