"""The benchmark scripts' own logic: time to quality, and timing a run the same way in any commit."""

import importlib.util

from conftest import ROOT, TINY_NETS

from monge.cli.main import main
from monge.runs import CSVLog
from monge.train import callbacks


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seconds_to_quality_is_the_first_evaluation_from_which_both_scores_hold():
    ttq = _script("time_to_quality")
    rows = [(10, 300, 0.20), (20, 260, 0.20), (30, 270, 0.20), (40, 262, 0.21), (50, 261, 0.19)]
    history = [{"train_seconds": s, "FD-EffNetLite0": fd, "mse": mse} for s, fd, mse in rows]
    assert ttq.seconds_to_quality(history, 265, 0.21) == 40  # reached at 20, lost at 30, held from 40
    assert ttq.seconds_to_quality(history, 265, 0.20) == 50
    assert ttq.seconds_to_quality(history[:3], 265, 0.21) is None  # the last evaluation misses


def test_timed_train_records_the_training_seconds_that_eval_csv_records(tmp_path, monkeypatch, tiny_domains):
    for name in ("__init__", "on_step"):  # restored after the test: the timer wraps the class in place
        monkeypatch.setattr(callbacks.Evaluation, name, getattr(callbacks.Evaluation, name))
    times: list[dict] = []
    _script("timed_train").record_evaluation_times(times)
    a, b = tiny_domains
    run = tmp_path / "run"
    args = ["train", "--source", a, "--target", b, *TINY_NETS, "--t-steps", "1", "--steps", "4", "--eval-every", "2"]
    assert main([*args, "--eval-images", "8", "--test-fraction", "0.2", "--out", str(run)]) == 0
    logged = CSVLog(run / "eval.csv").read()
    assert [t["step"] for t in times] == [r["step"] for r in logged] == [2, 4]
    assert times[1]["train_seconds"] > times[0]["train_seconds"] > 0
    for timed, row in zip(times, logged):  # one definition: the evaluations left out, the warm start in
        assert abs(timed["train_seconds"] - row["train_seconds"]) < 0.5


def test_frechet_speed_times_two_routes_to_the_same_distance(capsys, monkeypatch):
    import json
    import sys

    monkeypatch.setattr(sys, "argv", ["frechet_speed", "--dim", "24", "--sizes", "6", "60", "--repeats", "1"])
    _script("frechet_speed").main()
    rows = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["rows"]
    assert [r["n"] for r in rows] == [6, 60]
    assert all(r["rel_diff"] < 1e-8 and r["sqrtm_s"] > 0 and r["eig_s"] > 0 for r in rows)
