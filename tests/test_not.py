import json
import weakref
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY_NETS, TINY_SIZES
from PIL import Image

from monge.cli.main import main
from monge.data.domains import open_domain
from monge.data.emoji import load_emoji
from monge.errors import ConfigError, DataError, DivergenceError
from monge.metrics import l2_uvp
from monge.ot.costs import Cost, QuadraticCost, WeakQuadraticCost
from monge.ot.discrete import discrete_ot_pairs, fit_to_pairs
from monge.ot.nets import MLP, ResNetPotential, UNet, count_parameters
from monge.ot.optim import anchored_gradient, cosine_schedule
from monge.ot.solver import NOT
from monge.runs import CSVLog, load_checkpoint
from monge.train.config import TrainConfig
from monge.train.factory import load_solver
from monge.train.loop import train
from monge.train.stack import ShardSource


def test_network_sizes_match_the_official_code():
    assert abs(count_parameters(UNet(3, 3, 48)) - 9.7e6) < 0.05e6
    assert abs(count_parameters(ResNetPotential(64)) - 22.9e6) < 0.05e6
    assert UNet(4, 3, 4)(torch.zeros(2, 4, 32, 32)).shape == (2, 3, 32, 32)
    assert ResNetPotential(32, nf=4, nf_max=16)(torch.zeros(2, 3, 32, 32)).shape == (2,)


def test_map_uses_the_moving_average_of_the_weights():
    x, y, _ = _gaussian_pair(400)
    solver = NOT(MLP(2, 2, (16,)), MLP(2, 1, (16,)), QuadraticCost(), t_steps=1, lr=1e-2, ema=0.5)
    seen = []

    class Record:
        def on_step(self, solver, step, losses):
            seen.append([p.detach().clone() for p in solver.T.parameters()])

    solver.fit(x, y, steps=3, batch_size=32, progress=False, callbacks=[Record()])
    expected = seen[0]  # the first update copies, then e <- 0.5 e + 0.5 p
    for params in seen[1:]:
        expected = [0.5 * e + 0.5 * p for e, p in zip(expected, params)]
    for e, p in zip(expected, solver.T_ema.module.parameters()):
        assert torch.allclose(e, p, atol=1e-6)
    probe = torch.randn(5, 2)
    assert torch.allclose(solver.map(probe), solver.T_ema.module(probe))
    assert not torch.allclose(solver.map(probe), solver.T(probe))


def _gaussian_pair(n=4000):
    A, b = torch.tensor([[2.0, 0.5], [0.5, 1.0]]), torch.tensor([3.0, -1.0])  # x -> xA + b is the OT map
    return torch.randn(n, 2), torch.randn(n, 2) @ A + b, (lambda x: x @ A + b)


def test_strong_solver_beats_identity_on_a_2d_gaussian_pair():
    x, y, true_map = _gaussian_pair()
    solver = NOT(MLP(2, 2, (64, 64)), MLP(2, 1, (64, 64)), QuadraticCost(), t_steps=10, lr=1e-3)
    history = solver.fit(x, y, steps=300, batch_size=128, progress=False).history
    xt = torch.randn(2000, 2)
    uvp, identity = l2_uvp(solver.map(xt), true_map(xt)), l2_uvp(xt, true_map(xt))
    assert uvp < 10 and uvp < identity / 20
    assert history[-1]["t_loss"] < history[0]["t_loss"]


def test_discrete_ot_pairs_of_a_shifted_sample_are_the_shift():
    x = torch.randn(300, 3, 4, 4)
    y = x[torch.randperm(300)] + 0.5  # the OT map of a translation is the translation
    xs, ys = discrete_ot_pairs(x, y, generator=torch.Generator().manual_seed(0))
    assert xs.shape == ys.shape == x.shape
    torch.testing.assert_close(ys - xs, torch.full_like(xs, 0.5))
    xs, ys = discrete_ot_pairs(x, y[:100], max_pairs=50)  # unequal sizes: equal subsets, capped
    assert len(xs) == len(ys) == 50


def test_features_in_the_pairing_cost_find_more_of_the_hidden_emoji_pairs(effnet):
    twitter, google = (load_emoji(style, 32).images[::8] for style in ("twitter", "google"))  # 474 pairs
    found = {}
    for name, encode in (("pixels", None), ("pixels+effnet", effnet.encode)):
        xs, ys = discrete_ot_pairs(twitter, google, encode=encode)
        partner = {tuple(a.flatten()[:64].tolist()): b for a, b in zip(xs, ys)}
        found[name] = sum(bool((partner[tuple(a.flatten()[:64].tolist())] == b).all()) for a, b in zip(twitter, google))
    assert found["pixels"] > 0.25 * len(twitter)  # the unpaired sets alone recover many pairs
    assert found["pixels+effnet"] > 1.2 * found["pixels"]


def test_warm_start_on_discrete_ot_pairs_brings_the_map_near_the_ot_map_before_any_game():
    torch.manual_seed(0)
    x, y, true_map = _gaussian_pair(2000)
    # with a weight average, it must start from the warm-started map, not average the warm start in
    solver = NOT(MLP(2, 2, (64, 64)), MLP(2, 1, (64, 64)), QuadraticCost(), lr=1e-2, ema=0.999)
    losses = fit_to_pairs(solver, *discrete_ot_pairs(x, y), steps=300, batch_size=128, lr=1e-2, progress=False)
    xt = torch.randn(2000, 2)
    assert l2_uvp(solver.map(xt), true_map(xt)) < 0.05 * l2_uvp(xt, true_map(xt))
    assert sum(losses[-20:]) < 0.1 * sum(losses[:20]) and solver.steps_done == 0  # no outer step counted
    warm = solver.map(xt)
    solver.t_update(x[:128])  # the average's first update copies the warm-started weights
    assert (solver.map(xt) - warm).abs().max() < 0.5 * (warm - xt).abs().max()


def test_an_l1_fit_to_pairs_ignores_the_wrong_pairs_that_an_l2_fit_blends_in():
    torch.manual_seed(0)
    x, y, true_map = _gaussian_pair(2000)
    xs, ys = discrete_ot_pairs(x, y)
    wrong = torch.rand(len(ys)) < 0.2  # a fifth of the partners are another sample's
    ys = torch.where(wrong[:, None], ys[torch.randperm(len(ys))], ys)
    xt = torch.randn(2000, 2)
    uvp = {}
    for loss in ("l2", "l1"):
        torch.manual_seed(1)
        solver = NOT(MLP(2, 2, (64, 64)), MLP(2, 1, (64, 64)), QuadraticCost())
        errors = fit_to_pairs(solver, xs, ys, steps=600, batch_size=128, lr=1e-2, progress=False, loss=loss)
        assert sum(errors[-20:]) < sum(errors[:20])
        uvp[loss] = l2_uvp(solver.map(xt), true_map(xt))
    assert uvp["l1"] < 0.5 * uvp["l2"]  # the mean is pulled towards the wrong partners, the median is not


def test_the_ot_anchor_holds_the_map_at_its_pairs_where_a_misleading_potential_pushes_it_away():
    torch.manual_seed(0)
    x, y, true_map = _gaussian_pair(2000)
    xs, ys = discrete_ot_pairs(x, y)
    xt = torch.randn(2000, 2)
    uvp = {}
    for weight in (0.0, 2.0):
        torch.manual_seed(1)
        # a potential that barely learns (lr 1e-8) keeps pushing the map one way, away from the OT map
        solver = NOT(MLP(2, 2, (64, 64)), MLP(2, 1, (64, 64)), QuadraticCost(), lr=1e-8, map_lr=1e-2)
        fit_to_pairs(solver, xs, ys, steps=300, batch_size=128, lr=1e-2, progress=False)
        if weight:
            solver.anchor_to(xs, ys, weight)
        solver.fit(x, y, steps=30, batch_size=128, progress=False)
        uvp[weight] = l2_uvp(solver.map(xt), true_map(xt))
    identity = l2_uvp(xt, true_map(xt))
    assert uvp[0.0] > identity / 2  # led astray: no better than doing nothing
    assert uvp[2.0] < identity / 100  # a pull of twice the game's gradient keeps it at the OT map


def test_anchored_gradient_adds_a_pull_of_the_given_share_towards_the_partners():
    grad, out, partners = torch.randn(4, 3), torch.randn(4, 3), torch.randn(4, 3)
    pull = anchored_gradient(grad, out, partners, weight=0.5) - grad
    assert torch.allclose(pull.norm(), 0.5 * grad.norm())
    assert torch.allclose(pull / pull.norm(), (out - partners) / (out - partners).norm(), atol=1e-6)


def test_an_l1_anchor_pulls_every_coordinate_off_its_partner_alike():
    grad, out, partners = torch.randn(4, 3), torch.randn(4, 3), torch.randn(4, 3)
    partners[0] = out[0] + 1e-3  # barely off: l2 barely pulls it, l1 as hard as any other
    pull = anchored_gradient(grad, out, partners, weight=0.5, loss="l1") - grad
    assert torch.allclose(pull.norm(), 0.5 * grad.norm())
    assert torch.allclose(pull.abs(), pull.abs().mean().expand_as(pull), atol=1e-6)
    assert torch.equal(pull.sign(), (out - partners).sign())


def test_an_anchored_update_frees_its_batch():
    solver = NOT(MLP(2, 2), MLP(2, 1))
    solver.anchor_to(torch.randn(64, 2), torch.randn(64, 2), 0.5)
    outputs, apply = [], solver._apply

    def keep_a_weak_reference(*args):
        out = apply(*args)
        outputs.append(weakref.ref(out))
        return out

    solver._apply = keep_a_weak_reference  # type: ignore[method-assign]
    solver.t_update(*solver.pair_batch(*solver.anchor, 8))
    assert len(outputs) == 1 and outputs[0]() is None  # a hook holding T(x) itself leaked 1 MB per update


def test_map_lr_moves_the_map_at_its_own_rate_along_its_own_cosine():
    torch.manual_seed(0)
    x, y = torch.randn(256, 2), torch.randn(256, 2) + 3
    solver = NOT(MLP(2, 2), MLP(2, 1), t_steps=2, lr=1e-2, map_lr=1e-6, scheduler=cosine_schedule(4))
    start = {name: [p.detach().clone() for p in net.parameters()] for name, net in (("T", solver.T), ("f", solver.f))}
    solver.fit(x, y, steps=2, batch_size=64, progress=False)
    moved = {
        name: max((p - p0).abs().max().item() for p, p0 in zip(net.parameters(), start[name]))
        for name, net in (("T", solver.T), ("f", solver.f))
    }
    assert moved["T"] < 1e-5 < 1e-3 < moved["f"]  # Adam moves a weight about one lr per update
    # half-way along the cosine each optimiser is at half its own base rate
    assert solver.opt_T.param_groups[0]["lr"] == pytest.approx(0.5e-6)
    assert solver.opt_f.param_groups[0]["lr"] == pytest.approx(0.5e-2)


def test_weak_solver_draws_spread_around_a_map_that_beats_the_identity():
    x, y, true_map = _gaussian_pair()
    cost = WeakQuadraticCost(gamma=0.66)
    solver = NOT(MLP(3, 2, (64, 64)), MLP(2, 1, (64, 64)), cost, t_steps=5, lr=1e-3, z_count=4)
    solver.fit(x, y, steps=40, batch_size=64, progress=False)
    probe = torch.randn(500, 2)
    draws = solver.sample(probe, 5)
    assert draws.shape == (500, 5, 2)
    # different z give different outputs: the spread is a visible fraction of the target's scale
    assert draws.std(dim=1).mean() > 0.005 * y.std(0).mean()
    # and the draws' mean moved from the identity towards the optimal map
    assert l2_uvp(draws.mean(1), true_map(probe)) < 0.5 * l2_uvp(probe, true_map(probe))
    assert cost.gamma == pytest.approx(0.66)


def test_weak_cost_warms_gamma_up_linearly():
    cost = WeakQuadraticCost(gamma=0.6, warmup=0.25)
    cost.set_progress(0.0)
    assert cost.gamma == 0
    cost.set_progress(0.125)
    assert cost.gamma == pytest.approx(0.3)
    cost.set_progress(0.9)
    assert cost.gamma == pytest.approx(0.6)
    x = torch.zeros(3, 4)
    ys = torch.stack([torch.ones(3, 4), -torch.ones(3, 4)], dim=1)  # mean 0, unbiased var 2
    assert torch.allclose(cost(x, ys), torch.full((3,), (1 - 0.6 - 0.5) * 2))


class _NaNCost(Cost):
    def forward(self, x, y):
        return torch.full((len(x),), float("nan"))


def test_nan_loss_triggers_the_guard_and_leaves_weights_alone():
    solver = NOT(MLP(2, 2, (8,)), MLP(2, 1, (8,)), _NaNCost(), t_steps=1)
    before = [p.clone() for p in solver.T.parameters()]
    with pytest.raises(DivergenceError, match="T-loss is nan"):
        solver.fit(torch.randn(10, 2), torch.randn(10, 2), steps=1, batch_size=4, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, solver.T.parameters()))


def _tiny_cfg(domains, out, steps, **kw):
    return TrainConfig(
        source=domains[0],
        target=domains[1],
        out=str(out),
        **TINY_SIZES,
        t_steps=2,
        steps=steps,
        eval_every=2,
        eval_images=8,
        grid_images=4,
        test_fraction=0.2,
        **kw,
    )


@pytest.mark.parametrize(
    "data",
    [{}, {"cache_mb": 0, "workers": 1}, {"ema": 0.9}, {"ot_warm_start": 2, "ot_anchor": 0.5}],
    ids=["in-memory", "streamed-by-workers", "weight-average", "ot-anchor"],
)
def test_resume_gives_the_same_weights_as_an_uninterrupted_run(tiny_domains, tmp_path, data):
    # a finished 2-step run extended to 4 equals a 4-step run when nothing depends on the length:
    # a constant rate and a fixed warm start (the cosine and the default warm start scale with it)
    data = {"lr_schedule": "constant", "ot_warm_start": 2, **data}
    train(_tiny_cfg(tiny_domains, tmp_path / "full", 4, **data), progress=False)
    train(_tiny_cfg(tiny_domains, tmp_path / "cut", 2, **data), progress=False)
    with pytest.raises(ValueError, match="already holds a run; resume it"):
        train(_tiny_cfg(tiny_domains, tmp_path / "cut", 4, **data), progress=False)
    train(_tiny_cfg(tiny_domains, tmp_path / "cut", 4, **data), resume=True, progress=False)
    full = load_checkpoint(tmp_path / "full" / "checkpoints" / "last.pt")  # weights_only=True inside
    cut = load_checkpoint(tmp_path / "cut" / "checkpoints" / "last.pt")
    assert full["solver"]["steps_done"] == cut["solver"]["steps_done"] == 4
    for key in ("T", "f", "T_ema"):
        for name, value in full["solver"][key].items():
            assert torch.allclose(value.float(), cut["solver"][key][name].float(), atol=1e-6), name
    rows = (tmp_path / "cut" / "eval.csv").read_text().strip().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["2", "4"]
    for name in ("curve.png", "samples/latest.png", "split_source.json", "summary.json"):
        assert (tmp_path / "cut" / name).exists()
    page = (tmp_path / "cut" / "report.html").read_text()  # both evaluations on the page's own curve
    assert page.count("<polyline") == 1 and len(page.split('points="')[1].split('"')[0].split()) == 2
    assert "4 of 4 steps" in page and "so far" not in page  # a finished run's page says no "so far"
    assert list((tmp_path / "cut" / "tb").iterdir())


def test_best_is_chosen_on_a_validation_split_the_map_never_trains_on(tiny_domains, tmp_path, monkeypatch):
    import monge.train.loop as loop

    trained_on = []

    def recording(split, *args, **kwargs):
        trained_on.append(set(split.names))
        return real(split, *args, **kwargs)

    real = loop.image_sampler
    monkeypatch.setattr(loop, "image_sampler", recording)
    import monge.train.evaluate as evaluate

    loaded = []
    real_backbone = evaluate.load_backbone
    monkeypatch.setattr(evaluate, "load_backbone", lambda *a: loaded.append(a) or real_backbone(*a))
    summary = train(_tiny_cfg(tiny_domains, tmp_path / "run", 6, val_fraction=0.7), progress=False)
    assert summary.chosen_on == "validation" and summary.to_dict()["chosen_on"] == "validation"
    assert len(loaded) == 1  # one metric backbone measures both splits
    rows = CSVLog(tmp_path / "run" / "eval.csv").read()
    val, test = [r["val_FD-EffNetLite0"] for r in rows], [r["FD-EffNetLite0"] for r in rows]
    assert len(rows) == 3 and val != test
    assert summary.best == min(val) and summary.best_step == rows[val.index(min(val))]["step"]
    best = load_checkpoint(tmp_path / "run" / "checkpoints" / "best.pt")
    assert best["solver"]["steps_done"] == summary.best_step
    split = json.loads((tmp_path / "run" / "split_source.json").read_text())
    assert len(trained_on[0]) == 10 and trained_on[0] < set(split["train"])  # 22 of 32 held out
    assert not trained_on[0] & set(split["test"])
    # too few images to hold out 20 per side: chosen on the test split, as with val_fraction 0
    assert train(_tiny_cfg(tiny_domains, tmp_path / "few", 2), progress=False).chosen_on == "test"
    with pytest.raises(ConfigError, match="val_fraction: 0.8 leaves fewer training images than batch_size"):
        train(_tiny_cfg(tiny_domains, tmp_path / "small", 2, val_fraction=0.8), progress=False)  # 6 of 32 left


def test_training_stops_once_validation_stalls_and_a_resume_trains_no_more(tiny_domains, tmp_path, monkeypatch):
    import monge.train.loop as loop

    class StallingValidation(loop.Evaluator):  # the validation score is best at step 4, then only rises
        def __call__(self, solver, seed):
            result, rows = super().__call__(solver, seed)
            if self.split == "val":
                result[self.metric] = float(abs(solver.steps_done - 4))
            return result, rows

    monkeypatch.setattr(loop, "Evaluator", StallingValidation)
    cfg = _tiny_cfg(tiny_domains, tmp_path / "run", 20, val_fraction=0.7, patience=3, ot_anchor=0.5)
    summary = train(cfg, progress=False)  # evaluations every 2 steps: 3 without a gain after step 4 end it at 10
    assert (summary.steps, summary.best_step, summary.stopped_early) == (10, 4, True)
    assert [r["step"] for r in CSVLog(tmp_path / "run" / "eval.csv").read()] == [2, 4, 6, 8, 10]
    checkpoints = tmp_path / "run" / "checkpoints"
    assert load_checkpoint(checkpoints / "best.pt")["solver"]["steps_done"] == 4
    assert load_checkpoint(checkpoints / "last.pt")["solver"]["steps_done"] == 10
    assert "10 of 20 steps" in (page := (tmp_path / "run" / "report.html").read_text()) and "stopped early" in page
    monkeypatch.setattr("monge.train.loop.discrete_ot_pairs", lambda *a, **k: pytest.fail("a stopped run paired again"))
    again = train(cfg, resume=True, progress=False)  # the run is finished
    assert (again.steps, again.stopped_early, again.final) == (10, True, summary.final)
    monkeypatch.undo()
    monkeypatch.setattr(loop, "Evaluator", StallingValidation)
    longer = train(replace(cfg, patience=0), resume=True, progress=False)  # --patience 0 trains every step
    assert (longer.steps, longer.best_step, longer.stopped_early) == (20, 4, False)


def test_a_finished_anchored_run_reopens_without_pairing_again(tiny_domains, tmp_path, monkeypatch):
    cfg = _tiny_cfg(tiny_domains, tmp_path / "run", 2, ot_warm_start=2, ot_anchor=0.5)
    first = train(cfg, progress=False)

    def no_pairing(*args, **kwargs):
        raise AssertionError("a run with nothing left to train paired its images again")

    monkeypatch.setattr("monge.train.loop.discrete_ot_pairs", no_pairing)
    again = train(cfg, resume=True, progress=False)
    assert again.steps == first.steps == 2 and again.final == first.final


def test_an_interrupted_cosine_run_resumes_onto_the_same_schedule_and_weights(tiny_domains, tmp_path, monkeypatch):
    kw = {"lr_schedule": "cosine", "f_net": "effnet+resnet", "ema": 0.9}
    train(_tiny_cfg(tiny_domains, tmp_path / "full", 4, **kw), progress=False)
    step = NOT.step

    def dies_after_two(self, *args):  # the process is killed once step 2's checkpoint is written
        if self.steps_done == 2:
            raise KeyboardInterrupt
        return step(self, *args)

    monkeypatch.setattr(NOT, "step", dies_after_two)
    with pytest.raises(KeyboardInterrupt):
        train(_tiny_cfg(tiny_domains, tmp_path / "cut", 4, **kw), progress=False)
    monkeypatch.setattr(NOT, "step", step)
    train(_tiny_cfg(tiny_domains, tmp_path / "cut", 4, **kw), resume=True, progress=False)
    full, cut = (load_checkpoint(tmp_path / run / "checkpoints" / "last.pt")["solver"] for run in ("full", "cut"))
    assert cut["opt_T"]["param_groups"][0]["lr"] == pytest.approx(0.0, abs=1e-12)  # decayed to zero at the end
    for key in ("T", "f", "T_ema"):
        for name, value in full[key].items():
            assert torch.allclose(value.float(), cut[key][name].float(), atol=1e-6), name
    # extending a finished cosine run stretches the schedule over the new length
    train(_tiny_cfg(tiny_domains, tmp_path / "cut", 6, **kw), resume=True, progress=False)
    extended = load_checkpoint(tmp_path / "cut" / "checkpoints" / "last.pt")["solver"]
    assert extended["steps_done"] == 6 and extended["opt_T"]["param_groups"][0]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_divergence_during_training_keeps_the_last_good_checkpoint(tiny_domains, tmp_path, monkeypatch):
    cfg = _tiny_cfg(tiny_domains, tmp_path / "run", 2)
    train(cfg, progress=False)
    good = (tmp_path / "run" / "checkpoints" / "last.pt").read_bytes()
    cfg.steps = 4
    monkeypatch.setattr(NOT, "f_loss", lambda self, x, y: self.f(y).mean() * float("inf"))
    with pytest.raises(DivergenceError, match="f-loss is .*last good checkpoint"):
        train(cfg, resume=True, progress=False)
    assert (tmp_path / "run" / "checkpoints" / "last.pt").read_bytes() == good


def test_cli_train_and_translate(tiny_domains, tmp_path, capsys):
    out = tmp_path / "run"
    args = [
        "train",
        "--source",
        tiny_domains[0],
        "--target",
        tiny_domains[1],
        "--out",
        str(out),
        *TINY_NETS,
        "--t-steps",
        "1",
        "--steps",
        "2",
        "--eval-every",
        "1",
        "--eval-images",
        "8",
        "--cost",
        "weak",
        "--z-count",
        "2",
        "--no-residual",
        "--ot-warm-start",
        "3",
        "--ot-anchor",
        "0.5",
        "--json",
    ]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 2 and "FD-EffNetLite0" in summary["final"]
    assert main(["translate", str(out), tiny_domains[0], "--out", str(tmp_path / "t"), "--samples", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["written"] == 120
    a, b = (np.asarray(Image.open(tmp_path / "t" / f"000_{k}.png"), dtype=float) for k in (0, 1))
    assert np.abs(a - b).sum() > 0  # different noise, different output
    solver, cfg = load_solver(out, "best")
    assert solver.stochastic and cfg.z_count == 2
    assert main(["translate", str(tmp_path / "nope"), tiny_domains[0], "--out", str(tmp_path / "t2")]) == 2
    assert "neither an exported map" in capsys.readouterr().err


def test_two_level_stack_composes_resumes_and_reports(tiny_domains, tmp_path, capsys, monkeypatch):
    from monge.train.stack import ComposedMap, load_stack, train_stack

    out = tmp_path / "stack"
    cfg = _tiny_cfg(tiny_domains, out, 2)
    real_train = __import__("monge.train.stack", fromlist=["train"]).train
    calls = []

    def interrupted(level_cfg, **kw):  # the process dies right after level 0 finishes
        calls.append(level_cfg.out)
        if level_cfg.out.endswith("level_1"):
            raise KeyboardInterrupt
        return real_train(level_cfg, **kw)

    monkeypatch.setattr("monge.train.stack.train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train_stack(cfg, levels=2, mapped="disk", progress=False)
    monkeypatch.setattr(
        "monge.train.stack.train", lambda level_cfg, **kw: (calls.append(level_cfg.out), real_train(level_cfg, **kw))[1]
    )
    result = train_stack(cfg, levels=2, mapped="disk", progress=False)
    assert [Path(c).name for c in calls] == ["level_0", "level_1", "level_1"]  # level 0 was not retrained
    assert [r["level"] for r in result["levels"]] == [0, 1]
    for name in ("stack_table.md", "stack_table.json", "stack_curves.png", "stack_grid.png"):
        assert (out / name).exists()
    # the identity is scored beside the levels, on the same held-out images, and a losing level is named
    saved = json.loads((out / "stack_table.json").read_text())
    identity = saved["baselines"]["identity"][saved["levels"][0]["metric"]]
    assert [r["level"] for r in saved["levels"]] == [0, 1] and identity > 0
    table_md = (out / "stack_table.md").read_text()
    assert "| identity |" in table_md and "| Gaussian colour OT |" in table_md
    for r in saved["levels"]:
        assert (f"Level {r['level']} loses to the identity" in table_md) == (r["last"] >= identity)
    page = (out / "report.html").read_text()
    assert "<td>identity</td>" in page
    assert ("loses to the identity" in page) == any(r["last"] >= identity for r in saved["levels"])

    # level 1 was trained on T0(X) in float, for train and test alike
    t0 = load_solver(out / "level_0", "best")[0]
    mapped_test = ShardSource(out / "level_1" / "mapped_source" / "test")
    x = open_domain(tiny_domains[0], 16).source.subset(mapped_test.names).tensor()
    assert torch.allclose(mapped_test.tensor(), t0.map(x), atol=1e-5)

    # composed translation equals applying the saved levels by hand
    mapping, _, level = load_stack(out, 1)
    t1 = load_solver(out / "level_1", "best")[0]
    assert level == 1 and isinstance(mapping, ComposedMap)
    assert torch.allclose(mapping(x), t1.map(t0.map(x)), atol=1e-5)
    assert main(["translate", str(out), tiny_domains[0], "--level", "1", "--out", str(tmp_path / "t"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["level"] == 1


def test_stack_on_the_fly_matches_materialised_on_disk(tiny_domains, tmp_path):
    from monge.train.stack import ComposedMap, MappedSource, train_stack

    # the official configuration: the default recipe's discrete OT pairs of level 1's inputs can flip
    # on their float noise (1e-6), which this comparison of the two data paths is not about
    plain = {"f_net": "resnet", "augment": "none", "ema": 0.0, "ot_warm_start": 0, "ot_anchor": 0.0}
    disk = train_stack(_tiny_cfg(tiny_domains, tmp_path / "disk", 2, **plain), levels=2, mapped="disk", progress=False)
    fly = train_stack(_tiny_cfg(tiny_domains, tmp_path / "fly", 2, **plain), levels=2, mapped="fly", progress=False)
    assert disk["levels"][1]["min"] == pytest.approx(fly["levels"][1]["min"], rel=1e-3)
    # both modes feed level 1 the same images: T0's float outputs, materialised or computed per image
    t0 = load_solver(tmp_path / "disk" / "level_0", "best")[0]
    shards = ShardSource(tmp_path / "disk" / "level_1" / "mapped_source" / "train")
    fly_source = MappedSource(open_domain(tiny_domains[0], 16).source.subset(shards.names), ComposedMap([t0]))
    assert torch.allclose(shards.tensor(), fly_source.tensor(), atol=1e-5)
    # and train the same weights: Adam moves a weight whose gradient is ~0 by +-lr on float noise alone
    # (with one thread, 3 % of this tiny UNet's entries differ by more than 1e-4), so the typical
    # entry must agree to 1e-5
    a = load_checkpoint(tmp_path / "disk" / "level_1" / "checkpoints" / "last.pt")["solver"]["T"]
    b = load_checkpoint(tmp_path / "fly" / "level_1" / "checkpoints" / "last.pt")["solver"]["T"]
    diffs = torch.cat([(a[k].float() - b[k].float()).abs().flatten() for k in a])
    assert diffs.median() < 1e-5


def test_a_stack_of_last_checkpoints_maps_and_composes_with_them(tiny_domains, tmp_path):
    from monge.train.stack import load_stack, train_stack

    cfg = _tiny_cfg(tiny_domains, tmp_path / "stack", 6)
    cfg.eval_every = 1
    result = train_stack(cfg, levels=2, mapped="disk", progress=False, checkpoint="last")
    assert [r["last"] for r in result["levels"]] == [
        CSVLog(tmp_path / "stack" / f"level_{k}" / "eval.csv").read()[-1]["FD-EffNetLite0"] for k in (0, 1)
    ]
    t0, t1 = (load_solver(tmp_path / "stack" / f"level_{k}", "last")[0] for k in (0, 1))
    shards = ShardSource(tmp_path / "stack" / "level_1" / "mapped_source" / "test")
    x = open_domain(tiny_domains[0], 16).source.subset(shards.names).tensor()
    assert torch.allclose(shards.tensor(), t0.map(x), atol=1e-5)  # level 1 learnt from T0's last map
    # a level-0 best checkpoint that is not its last (here: other weights of the same shape) is ignored
    best0 = tmp_path / "stack" / "level_0" / "checkpoints" / "best.pt"
    best0.write_bytes((tmp_path / "stack" / "level_1" / "checkpoints" / "last.pt").read_bytes())
    assert not torch.allclose(load_solver(tmp_path / "stack" / "level_0", "best")[0].map(x), t0.map(x))
    mapping, _, _ = load_stack(tmp_path / "stack", level=1)
    assert torch.allclose(mapping(x), t1.map(t0.map(x)), atol=1e-5)
    with pytest.raises(DataError, match="checkpoint=last; resume it with the same options"):
        train_stack(cfg, levels=2, mapped="disk", progress=False)


def test_not_autoencoder_trains_its_potential_and_shares_the_baseline_architecture(tiny_domains, tmp_path, capsys):
    from monge.ot.autoencoder import ConvAutoEncoder

    ae = ConvAutoEncoder(size=16, latent=5, width=8)
    assert ae.encode(torch.zeros(3, 3, 16, 16)).shape == (3, 5)  # the bottleneck really is 5 numbers
    common = [
        "--data",
        tiny_domains[1],
        "--size",
        "16",
        "--latent",
        "8",
        "--unet-base",
        "4",
        "--f-width",
        "4",
        "--f-max-width",
        "8",
        "--batch-size",
        "8",
        "--t-steps",
        "1",
        "--eval-every",
        "10",
        "--eval-images",
        "8",
        "--lr",
        "1e-3",
        "--json",
    ]
    assert main(["ae", *common, "--steps", "30", "--out", str(tmp_path / "not")]) == 0
    assert main(["ae", *common, "--steps", "30", "--baseline", "--out", str(tmp_path / "plain")]) == 0
    capsys.readouterr()
    not_ae, cfg = load_solver(tmp_path / "not", "last")
    plain, _ = load_solver(tmp_path / "plain", "last")
    assert {k: v.shape for k, v in not_ae.T.state_dict().items()} == {
        k: v.shape for k, v in plain.T.state_dict().items()
    }
    # the potential was trained: its weights moved away from their initial values (the baseline's
    # untouched potential, built from the same seed)
    trained, untouched = (
        torch.cat([p.detach().flatten() for p in m.f.parameters() if p.requires_grad]) for m in (not_ae, plain)
    )
    assert (trained - untouched).norm() > 0.01 * untouched.norm()
    # the potential's update direction is right: with the map frozen, f-steps rank real images above their
    # reconstructions. (Right after max-min training the ranking is a coin toss on this tiny problem: the map
    # best-responds to f, so T(x) sits where f is high; see benchmarks/README.md.)
    x = open_domain(tiny_domains[1], 16).source.tensor()
    for _ in range(20):
        loss = not_ae.f_loss(x, x)
        not_ae.opt_f.zero_grad()
        loss.backward()
        not_ae.opt_f.step()
    with torch.no_grad():
        assert not_ae.f(x).mean() > not_ae.f(not_ae.map(x)).mean()
    # encode / decode round trip equals reconstruction through translate
    assert main(["encode", str(tmp_path / "not"), tiny_domains[1], "--out", str(tmp_path / "z.npz")]) == 0
    assert np.load(tmp_path / "z.npz")["latents"].shape == (40, 8)
    assert main(["decode", str(tmp_path / "not"), str(tmp_path / "z.npz"), "--out", str(tmp_path / "dec")]) == 0
    assert main(["translate", str(tmp_path / "not"), tiny_domains[1], "--out", str(tmp_path / "rec")]) == 0
    a = np.asarray(Image.open(tmp_path / "dec" / "000.png"), dtype=float)
    b = np.asarray(Image.open(tmp_path / "rec" / "000.png"), dtype=float)
    assert np.abs(a - b).max() <= 1


def test_spectral_norm_on_a_feature_potential_leaves_the_frozen_backbone_alone(effnet):
    from monge.ot.feature_potential import EffNetPotential
    from monge.ot.nets import spectral_normalise

    f = EffNetPotential(width=8, backbone=effnet)
    y = torch.rand(2, 3, 64, 64) * 2 - 1
    before = f.backbone.stages(y, upto=3)[-1]
    spectral_normalise(f)
    assert torch.equal(f.backbone.stages(y, upto=3)[-1], before)  # the pretrained features are unchanged
    head = [m for m in f.head if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert head and all(torch.nn.utils.parametrize.is_parametrized(m) for m in head)


def test_r1_penalty_keeps_the_potential_from_outgrowing_the_cost():
    """Without it, a potential that separates T(x) from y steepens without bound; with it, its
    gradient at the target images stays small."""

    def steepness(penalty: float) -> float:
        torch.manual_seed(0)
        solver = NOT(MLP(2, 2, (16,)), MLP(2, 1, (32, 32)), t_steps=1, lr=1e-2, f_penalty=penalty)
        x, y = torch.randn(256, 2), torch.randn(256, 2) + 4
        for _ in range(100):
            solver.f_update(x, y)
        y = y.requires_grad_(True)
        (grad,) = torch.autograd.grad(solver.f(y).sum(), y)
        return grad.pow(2).sum(1).mean().item()

    free, penalised = steepness(0.0), steepness(10.0)
    assert penalised < 0.01 * free
