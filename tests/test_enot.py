"""ENOT: the expectile loss, the map it learns on a closed-form pair, and its place in runs."""

import json

import pytest
import torch
from conftest import TINY_NETS, TINY_SIZES

from monge.bench.w2 import not_solver
from monge.bench.w2_problems import gaussian_pair
from monge.cli.main import main
from monge.metrics import l2_uvp
from monge.ot.enot import ENOT, expectile_loss
from monge.ot.optim import cosine_schedule
from monge.runs import load_checkpoint
from monge.train.config import TrainConfig
from monge.train.factory import load_solver
from monge.train.loop import train


def test_expectile_loss_matches_its_definition_on_hand_computed_numbers():
    diff = torch.tensor([2.0, -2.0, 0.5, -0.5, 0.0])
    # tau u^2 above zero, (1 - tau) u^2 below: 0.9 * 4, 0.1 * 4, 0.9 * 0.25, 0.1 * 0.25, 0
    expected = torch.tensor([3.6, 0.4, 0.225, 0.025, 0.0])
    assert torch.allclose(expectile_loss(diff, 0.9), expected)
    assert torch.allclose(expectile_loss(diff, 0.5), 0.5 * diff**2)  # tau = 1/2: half the squared loss


def test_the_potentials_loss_is_the_dual_plus_the_weighted_expectile_terms_by_hand():
    """T the identity and f the constant b: g(x) = c(x, x) - b = -b and f(y) = b, so the dual term is
    0 and both expectile arguments are -c(x, y) <= 0, each weighed 1 - tau: the loss is
    2 (1 - tau) mean c(x, y)^2, times the weight and the coordinates (1 here)."""
    T, f = torch.nn.Linear(1, 1), torch.nn.Linear(1, 1)
    with torch.no_grad():
        T.weight.fill_(1.0), T.bias.zero_(), f.weight.zero_(), f.bias.fill_(3.0)
    solver = ENOT(T, f, expectile=0.99, expectile_weight=1.0)
    x, y = torch.tensor([[0.0], [1.0]]), torch.tensor([[2.0], [1.0]])  # c(x, y) = 4 and 0
    t_loss, f_loss = solver.losses(x, y)
    assert float(f_loss) == pytest.approx(2 * 0.01 * (16 + 0) / 2)
    assert float(t_loss) == pytest.approx(0.0 - 3.0)  # c(x, T(x)) = 0, f(T(x)) = 3
    solver.expectile_weight = 0.5
    assert float(solver.losses(x, y)[1]) == pytest.approx(0.08)


def test_enot_recovers_the_closed_form_map_of_a_2d_gaussian_pair():
    torch.manual_seed(0)
    pair = gaussian_pair(2, seed=0)
    x = pair.sample_p(4096)
    truth, var_q = pair.true_map(x), float(pair.sample_q(2**14).var(0).sum())
    steps = 2000
    nets = not_solver(2, 64, skip=False)  # from the identity: no linear warm start
    solver = ENOT(nets.T, nets.f, lr=1e-3, weight_decay=0.0, scheduler=cosine_schedule(steps))
    solver.fit(pair.sample_p, pair.sample_q, steps, batch_size=256, progress=False)
    identity, mapped = l2_uvp(x, truth, var_q), l2_uvp(solver.map(x), truth, var_q)
    assert identity > 100 and mapped < 5, (identity, mapped)  # within 5 % of the target's variance


def test_without_the_regulariser_one_update_per_step_does_not_settle():
    """The same budget with the weight at 0 (NOT with one map update per potential update) ends far
    from the map: the regulariser is what makes one joint update enough."""
    torch.manual_seed(0)
    pair = gaussian_pair(2, seed=0)
    x = pair.sample_p(4096)
    truth, var_q = pair.true_map(x), float(pair.sample_q(2**14).var(0).sum())
    nets = not_solver(2, 64, skip=False)
    solver = ENOT(nets.T, nets.f, lr=1e-3, weight_decay=0.0, expectile_weight=0.0, scheduler=cosine_schedule(2000))
    solver.fit(pair.sample_p, pair.sample_q, 2000, batch_size=256, progress=False)
    assert l2_uvp(solver.map(x), truth, var_q) > 10


def _cfg(domains, out, steps, **kw) -> TrainConfig:
    a, b = domains
    base = dict(**TINY_SIZES, eval_every=2, eval_images=16)
    return TrainConfig(source=a, target=b, out=str(out), steps=steps, logger="csv", solver="enot", **{**base, **kw})


def test_an_interrupted_enot_run_resumes_bit_identically(tiny_domains, tmp_path, monkeypatch):
    """With the default recipe (augmentations, cosine, weight average, warm start, anchor): killed
    once step 2's checkpoint is written, resumed, it ends where an uninterrupted run ends."""
    train(_cfg(tiny_domains, tmp_path / "full", 4), progress=False)
    step = ENOT.step

    def dies_after_two(self, *args):
        if self.steps_done == 2:
            raise KeyboardInterrupt
        return step(self, *args)

    monkeypatch.setattr(ENOT, "step", dies_after_two)
    with pytest.raises(KeyboardInterrupt):
        train(_cfg(tiny_domains, tmp_path / "cut", 4), progress=False)
    monkeypatch.setattr(ENOT, "step", step)
    train(_cfg(tiny_domains, tmp_path / "cut", 4), resume=True, progress=False)
    full, cut = (load_checkpoint(tmp_path / run / "checkpoints" / "last.pt")["solver"] for run in ("full", "cut"))
    assert full["steps_done"] == cut["steps_done"] == 4
    for key in ("T", "f", "T_ema"):
        for name, value in full[key].items():
            assert torch.equal(value, cut[key][name]), name
    solver, cfg = load_solver(tmp_path / "cut", "last")
    assert isinstance(solver, ENOT) and cfg.solver == "enot" and cfg.augment == "translation,cutout"


def test_cli_trains_and_translates_with_enot(tiny_domains, tmp_path, capsys):
    a, b = tiny_domains
    out = tmp_path / "run"
    args = ["train", "--source", a, "--target", b, "--steps", "2", "--eval-every", "2", "--eval-images", "16"]
    main([*args, *TINY_NETS, "--solver", "enot", "--logger", "csv", "--out", str(out), "--json"])
    capsys.readouterr()
    assert main(["translate", str(out), a, "--out", str(tmp_path / "mapped"), "--json"]) == 0
    assert len(list((tmp_path / "mapped").glob("*.png"))) == 40
    capsys.readouterr()
    assert main([*args, *TINY_NETS, "--solver", "enot", "--expectile", "1.5", "--out", str(tmp_path / "bad")]) == 2
    assert "expectile" in capsys.readouterr().err


def test_bench_w2_runs_enot(capsys):
    main(["bench", "w2", "--dim", "2", "--pair", "gaussian", "--solver", "enot", "--steps", "200", "--json"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    row = result["results"]["monge-enot"]
    assert row["L2-UVP"] < result["results"]["identity"]["L2-UVP"] and row["expectile"] == 0.99
