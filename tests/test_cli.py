"""The command line: flags generated from the configuration, and one small run of every command."""

import json
import os
import re
import subprocess
import sys
from dataclasses import fields

import numpy as np
import pytest
import torch
from conftest import TINY_NETS
from PIL import Image

from monge import __version__
from monge.cli.common import config_from_args
from monge.cli.main import build_parser, main
from monge.train.config import PRESETS, TrainConfig

TINY = [*TINY_NETS, "--t-steps", "1", "--eval-every", "1", "--eval-images", "8", "--test-fraction", "0.2"]


def _last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def _subparser(name: str):
    parser = build_parser()
    return next(a for a in parser._actions if hasattr(a, "choices") and a.choices and name in a.choices).choices[name]


def test_every_cli_field_has_a_flag_with_its_choices_and_default_in_the_help():
    train = _subparser("train")
    by_dest = {a.dest: a for a in train._actions}
    help_text = train.format_help()
    for f in fields(TrainConfig):
        if not f.metadata["cli"]:
            assert f.name not in by_dest or f.name == "out"
            continue
        action = by_dest[f.name]
        assert action.default is None  # unset flags leave a --config file's values
        if f.metadata["choices"]:
            assert tuple(action.choices) == f.metadata["choices"]
    assert "cpu preset: 32" in help_text and "paper preset: 64" in help_text  # effective defaults


def test_flags_and_config_file_give_the_config(tmp_path):
    parser = build_parser()
    (tmp_path / "c.json").write_text(json.dumps({"source": "a", "target": "b", "preset": "paper", "lr": 0.5}))
    args = parser.parse_args(["train", "--config", str(tmp_path / "c.json"), "--lr", "0.25", "--no-residual",
                              "--out", str(tmp_path / "run")])  # fmt: skip
    cfg = config_from_args(args)
    assert cfg == TrainConfig(
        source="a", target="b", preset="paper", lr=0.25, residual=False, out=str(tmp_path / "run")
    )
    assert cfg.size == PRESETS["paper"]["size"]  # the file's preset applies to fields no one set


def test_user_errors_print_one_line_naming_the_flag_and_bugs_keep_their_traceback(capsys, monkeypatch, tmp_path):
    assert main(["train", "--source", "emoji:twitter", "--target", "emoji:google", "--size", "30"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--size: 30 is not a positive multiple of 16" in err
    assert main(["train", "--source", "emoji:twitter", "--target", str(tmp_path / "nope"), "--out",
                 str(tmp_path / "r")]) == 2  # fmt: skip
    assert "nope: no such file or folder" in capsys.readouterr().err

    def bug(args):
        raise KeyError("internal")

    monkeypatch.setattr("monge.cli.data.cmd_data_emoji", bug)
    with pytest.raises(KeyError):  # not a user error: the traceback shows
        main(["data", "emoji", "--style", "google", "--out", str(tmp_path / "e")])


def test_version_and_python_dash_m(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"monge {__version__}"
    out = subprocess.run([sys.executable, "-m", "monge", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"monge {__version__}"


def test_data_metrics_and_bench_commands(tmp_path, capsys, tiny_domains):
    assert main(["data", "emoji", "--style", "google", "--size", "16", "--out", str(tmp_path / "g"), "--json"]) == 0
    assert _last_json(capsys)["written"] == 3786
    assert main(["metrics", "paired", *tiny_domains, "--size", "16", "--json"]) == 0
    paired = _last_json(capsys)
    assert paired["pairs"] == 40 and paired["mse"] > 1
    assert main(["metrics", "fd", *tiny_domains, "--size", "16", "--json"]) == 0
    fd = _last_json(capsys)["FD-EffNetLite0"]
    assert fd > 10
    import monge.metrics

    encodings = []
    real_stats = monge.metrics.image_stats
    monge.metrics.image_stats = lambda *a, **k: encodings.append(1) or real_stats(*a, **k)
    try:  # FD and KID from one encoding of each set: the same FD as `fd`, and a KID
        assert main(["metrics", "all", *tiny_domains, "--size", "16", "--subset-size", "20", "--json"]) == 0
    finally:
        monge.metrics.image_stats = real_stats
    both = _last_json(capsys)
    assert len(encodings) == 2 and both["FD-EffNetLite0"] == pytest.approx(fd, rel=1e-6) and both["KID"] > 0
    assert main(["metrics", "kid", tiny_domains[0], tiny_domains[0], "--size", "16", "--subset-size", "20",
                 "--json"]) == 0  # fmt: skip
    assert abs(_last_json(capsys)["KID"]) < 0.05
    assert (
        main(["bench", "w2", "--pair", "gaussian", "--dim", "2", "--steps", "20", "--curve-every", "10", "--json"]) == 0
    )
    w2 = _last_json(capsys)["results"]
    assert w2["monge-not"]["L2-UVP"] < w2["identity"]["L2-UVP"]
    assert [step for step, _ in w2["monge-not"]["curve"]] == [10, 20]


def test_train_stack_ae_encode_decode_commands(tmp_path, capsys, tiny_domains):
    a, b = tiny_domains
    assert main(["stack", "--source", a, "--target", b, *TINY, "--steps", "2", "--levels", "2",
                 "--out", str(tmp_path / "s"), "--json"]) == 0  # fmt: skip
    assert [r["level"] for r in _last_json(capsys)["levels"]] == [0, 1]
    page = (tmp_path / "s" / "report.html").read_text()  # the stack's page links each level's own
    assert 'href="level_1/report.html"' in page and (tmp_path / "s" / "level_1" / "report.html").exists()
    assert main(["translate", str(tmp_path / "s"), a, "--out", str(tmp_path / "t"), "--html", "--json"]) == 0
    assert _last_json(capsys)["written"] == 40
    page = (tmp_path / "t" / "index.html").read_text()  # input | output per image, linking files that exist
    links = re.findall(r'src="([^"]+)"', page)
    assert len(links) == 80 and all((tmp_path / "t" / link).is_file() for link in links)
    assert (
        main(["ae", "--data", a, *TINY, "--steps", "2", "--latent", "8", "--out", str(tmp_path / "ae"), "--json"]) == 0
    )
    assert "identity (baseline)" in (tmp_path / "ae" / "report.html").read_text()  # an auto-encoder run has its page
    capsys.readouterr()
    assert main(["encode", str(tmp_path / "ae"), a, "--out", str(tmp_path / "z.npz"), "--json"]) == 0
    assert _last_json(capsys)["encoded"] == 40
    assert main(["decode", str(tmp_path / "ae"), str(tmp_path / "z.npz"), "--out", str(tmp_path / "d"), "--json"]) == 0
    assert _last_json(capsys)["decoded"] == 40
    assert Image.open(tmp_path / "d" / "000.png").size == (16, 16)


def test_resume_continues_the_run_where_it_now_is(tmp_path, capsys, tiny_domains):
    a, b = tiny_domains
    first = tmp_path / "first"
    assert main(["train", "--source", a, "--target", b, *TINY, "--steps", "2", "--out", str(first), "--json"]) == 0
    moved = tmp_path / "moved"
    first.rename(moved)
    assert main(["train", "--resume", "--steps", "3", "--out", str(moved), "--json"]) == 0
    assert _last_json(capsys)["steps"] == 3
    assert not first.exists()  # nothing written at the run's old place


def test_style_and_demo_commands(tmp_path, capsys, monkeypatch):
    from test_style import synthetic_content, synthetic_style

    for name, img in (("c.png", synthetic_content(32)), ("s.png", synthetic_style(32))):
        arr = ((img.permute(1, 2, 0) + 1) * 127.5).round().byte().numpy()
        Image.fromarray(arr).save(tmp_path / name)
    assert main(["style", str(tmp_path / "c.png"), str(tmp_path / "s.png"), "--out", str(tmp_path / "o.png"),
                 "--size", "32", "--scales", "1", "--steps", "3", "--json"]) == 0  # fmt: skip
    assert _last_json(capsys)["size"] == [32, 32]
    assert np.asarray(Image.open(tmp_path / "o.png")).shape == (32, 32, 3)
    record = json.loads((tmp_path / "o.json").read_text())  # the run's style file: options, inputs, losses
    assert record["content"] == "c.png" and record["steps"] == 3 and len(record["history"]) == 3
    assert main(["style", "--config", str(tmp_path / "o.json"), "--out", str(tmp_path / "again.png")]) == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "again.png")), np.asarray(Image.open(tmp_path / "o.png")))
    torch.manual_seed(0)
    monkeypatch.setattr("monge.train.loop.MAX_PAIRS", 64)  # the demo's discrete OT pairs: 64 of each, not 3,407
    assert main(["demo", "--steps", "1", "--eval-images", "8", "--out", str(tmp_path / "demo"), "--json"]) == 0
    result = _last_json(capsys)
    assert result["steps"] == 1 and "warm start 13, anchor 0.01" in (tmp_path / "demo" / "report.md").read_text()
    page = (tmp_path / "demo" / "report.html").read_text()  # self-contained: images inlined, baselines beside T
    assert "identity (baseline)" in page and "T at step 1" in page and page.count("data:image/png;base64,") == 1
    assert "the identity on" in page or "beats the identity on every metric" in page  # the verdict in words
    mask = os.umask(0)
    os.umask(mask)  # atomic writes honour the umask, as plain writes do (mkstemp alone would leave 0600)
    assert (tmp_path / "demo" / "report.html").stat().st_mode & 0o777 == 0o666 & ~mask


def test_public_api_names_resolve_to_documented_objects_and_work_together():
    import importlib

    import torch

    import monge

    for name, module in monge._EXPORTS.items():  # each name is its module's own object, documented
        value = getattr(monge, name)
        assert value is getattr(importlib.import_module(f"monge.{module}"), name), name
        assert callable(value) and (value.__doc__ or "").strip(), name
    assert issubclass(monge.ConfigError, monge.MongeError) and issubclass(monge.DataError, monge.MongeError)
    torch.manual_seed(0)
    x, y = torch.randn(256, 2), torch.randn(256, 2) + 3
    for solver in (
        monge.NOT(monge.MLP(2, 2), monge.MLP(2, 1), monge.make_cost("strong"), t_steps=2, lr=1e-2),
        monge.ENOT(monge.ResidualMLP(2, 2), monge.MLP(2, 1), monge.QuadraticCost(), lr=1e-2),
    ):
        before = monge.l2_uvp(solver.map(x), x + 3, float(y.var(0).sum()))
        solver.fit(x, y, steps=60, batch_size=64, progress=False)
        assert monge.l2_uvp(solver.map(x), x + 3, float(y.var(0).sum())) < before  # the map moved towards x + 3
    mean, _ = monge.kid(torch.randn(40, 8).numpy(), (torch.randn(40, 8) + 2).numpy(), subset_size=20)
    assert mean > 0
    assert monge.TrainConfig(source="emoji:twitter", target="emoji:google").steps > 0


def test_help_does_not_import_torch():
    code = (
        "import sys\nfrom monge.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\nprint('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "usage: monge" in out and out.strip().endswith("False")


def test_metrics_keep_each_sets_statistics_in_the_cache_and_reuse_them(tmp_path, capsys, tiny_domains, monkeypatch):
    monkeypatch.setenv("MONGE_CACHE", str(tmp_path / "cache"))
    a, b = tiny_domains
    argv = ["metrics", "fd", a, b, "--size", "16", "--batch-size", "7", "--workers", "0", "--json"]
    assert main([*argv, "--no-cache"]) == 0
    uncached = _last_json(capsys)
    assert not (tmp_path / "cache" / "stats").exists()
    assert main(argv) == 0
    first = _last_json(capsys)
    files = sorted((tmp_path / "cache" / "stats").glob("*.npz"))
    assert len(files) == 2 and all("efficientnet" in f.name and "-16-" in f.name for f in files)
    stamps = [f.stat().st_mtime_ns for f in files]
    assert main(argv) == 0  # the second time both sets come from the cache, unchanged
    assert _last_json(capsys)["FD-EffNetLite0"] == first["FD-EffNetLite0"]
    assert [f.stat().st_mtime_ns for f in files] == stamps
    assert abs(first["FD-EffNetLite0"] - uncached["FD-EffNetLite0"]) < 1e-6 * max(1.0, uncached["FD-EffNetLite0"])
    with pytest.raises(SystemExit) as refused:  # argparse's own one-line refusal
        main([*argv, "--workers", "-1"])
    assert refused.value.code == 2 and "--workers: -1 is negative" in capsys.readouterr().err


def _commands(parser, prefix=()):
    """Every (sub)command path of the parser: ("train",), ("bench", "w2"), ..."""
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*prefix, name))
            return
    yield prefix


def test_every_commands_help_prints_and_says_each_default_once(capsys):
    from monge.cli.main import build_parser

    commands = list(_commands(build_parser()))
    assert {("train",), ("bench", "w2"), ("bench", "suite"), ("push",), ("metrics", "fd"), ("ui",)} <= set(commands)
    for command in commands:
        with pytest.raises(SystemExit) as done:
            main([*command, "--help"])
        text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
        assert done.value.code == 0 and text.startswith(f"usage: monge {' '.join(command)}"), command
        assert "(default: )" not in text and "(default: None)" not in text, command
        assert not re.search(r"default:[^()]*\) \(default:", text), command  # no default said twice
