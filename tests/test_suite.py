"""The translation suite's verdicts, table and page, on hand-made scores (a real run takes minutes)."""

import json

import pytest
import torch

from monge.bench.suite import CEILING, CYCLEGAN, MAP, targets_met, write_suite_report
from monge.bench.tasks import TASKS
from monge.cli.main import main
from monge.report.suite import collect_results, suite_table, write_suite_html


def _row(fd: float, mse: float, c2st: float, delta: float = 0.0, sd: float = 1.0) -> dict:
    return {
        "FD-EffNetLite0": fd,
        "FD - identity (mean)": delta,
        "FD - identity (std)": sd,
        "KID": fd / 1000,
        "mse": mse,
        "psnr": 20.0,
        "PD-EffNetLite0": 0.1,
        "C2ST accuracy": c2st,
        "seconds": 60.0,
    }


def _rows(map_fd: float, map_mse: float) -> dict:
    return {
        "identity": _row(100.0, 0.30, 0.90),
        MAP: _row(map_fd, map_mse, 0.80, delta=map_fd - 100.0, sd=2.0),
        CYCLEGAN: _row(150.0, 0.28, 0.95),
        CEILING: _row(40.0, 0.10, 0.60),
    }


def test_a_map_that_wins_meets_every_target_and_one_that_loses_is_named():
    assert all(targets_met(_rows(80.0, 0.20), peers=True).values())
    met = targets_met(_rows(97.0, 0.27), peers=True)  # 3 % below the identity, 15 % of the way to the ceiling
    assert not met["FD 5 % below identity"] and not met["MSE 25 % to ceiling"]
    assert met["FD 3 SD below identity"] is False  # -3 against 3 x 2
    assert met["C2ST below identity"] and met["beats CycleGAN on FD and MSE"]
    assert set(targets_met(_rows(80.0, 0.2), peers=False)) == {
        "FD 5 % below identity",
        "FD 3 SD below identity",
        "C2ST below identity",
    }


def _results() -> list[dict]:
    results = []
    for task, fd in (("sans-serif", 80.0), ("sans-bold", 97.0)):
        rows = _rows(fd, 0.2)
        source, target = TASKS[task]
        results.append(
            {
                "task": task,
                "source": source,
                "target": target,
                "seed": 0,
                "steps": 10,
                "solver": "not",
                "test_pairs": 300,
                "cpu": "test CPU",
                "rows": rows,
                "targets": targets_met(rows, True),
                "grid rows": ["source", "hidden target"],
            }
        )
    return results


def test_the_suite_table_and_page_show_every_task_with_its_verdict(tmp_path):
    results = _results()
    table = suite_table(results)
    assert "| sans-serif | map | 1 | 80.0 |" in table
    assert "sans-serif, seed 0: the map meets every target" in table
    assert "sans-bold, seed 0: the map misses: FD 5 % below identity, FD 3 SD below identity" in table
    page = write_suite_html(tmp_path, results, table).read_text()
    assert page.count("<h2>") == 3 and "the map misses: FD 5 % below identity" in page
    assert "sans-bold grid: not written yet" in page


def test_tasks_scored_by_separate_calls_gather_into_one_report_in_task_order(tmp_path):
    for r in reversed(_results()):  # written sans-bold first
        folder = tmp_path / r["task"] / "seed0"
        folder.mkdir(parents=True)
        (folder / "result.json").write_text(json.dumps(r))
    assert [r["task"] for r in collect_results(tmp_path, list(TASKS))] == ["sans-serif", "sans-bold"]
    table = write_suite_report(tmp_path)
    assert table.index("| sans-serif |") < table.index("| sans-bold |")
    assert (tmp_path / "suite.md").read_text().strip() == table.strip() and (tmp_path / "report.html").exists()


@pytest.mark.parametrize(
    "recipe, complaint", [('{"stepz": 1}', "stepz"), ("[1]", "recipe"), ("{nope", "recipe"), ('{"lr": 5}', "lr")]
)
def test_a_bad_recipe_is_refused_before_any_training(tmp_path, capsys, recipe, complaint):
    assert main(["bench", "suite", "--tasks", "sans-serif", "--recipe", recipe, "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and complaint in err[0]
    assert not (tmp_path / "s").exists()


def test_the_reference_row_answers_real_target_images_whatever_the_input():
    from monge.bench.suite import _other_targets

    y_train = torch.arange(50.0).view(50, 1, 1, 1).expand(50, 3, 2, 2).contiguous()
    reference = _other_targets(y_train, seed=3)
    out = reference(torch.zeros(20, 3, 2, 2))
    assert out.shape == (20, 3, 2, 2) and len(set(out[:, 0, 0, 0].tolist())) == 20  # 20 distinct real images
    assert set(out[:, 0, 0, 0].tolist()) <= set(range(50))
    assert torch.equal(reference(torch.ones(20, 3, 2, 2)), out)  # the input is ignored
    assert torch.equal(_other_targets(y_train, seed=3)(out), out) and not torch.equal(
        _other_targets(y_train, 4)(out), out
    )
