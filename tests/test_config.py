"""The training configuration: every field type-checked, a config file's keys honoured (out included)."""

import json
from dataclasses import fields

import pytest

from monge.cli.common import config_from_args
from monge.cli.main import build_parser, main
from monge.errors import ConfigError
from monge.train.config import TrainConfig


def _wrong_value(declared: str):
    """A value of another type than the field's declared one."""
    return 1.5 if declared.startswith(("int", "str", "bool")) else "abc"


@pytest.mark.parametrize("field", [f for f in fields(TrainConfig) if f.name not in ("source", "target")], ids=str)
def test_every_field_refuses_a_value_of_another_type_by_name(field):
    with pytest.raises(ConfigError) as caught:
        TrainConfig.from_dict({"source": "a", "target": "b", field.name: _wrong_value(str(field.type))})
    assert caught.value.param == field.name


def test_a_config_file_with_a_wrong_type_is_one_line_naming_the_flag(tmp_path, capsys):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"source": "emoji:twitter", "target": "emoji:google", "steps": "abc"}))
    assert main(["train", "--config", str(path), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["monge train: error: --steps: 'abc' is not an int"]


def test_every_key_of_a_config_file_is_honoured_unless_a_flag_overrides_it(tmp_path):
    given = {"source": "emoji:twitter", "target": "emoji:google", "out": str(tmp_path / "from-file")}
    changed = {
        "steps": 7,
        "lr": 5e-4,
        "ema": 0.5,
        "augment": "cutout",
        "solver": "enot",
        "expectile": 0.9,
        "ot_anchor": 0.2,
        "f_net": "resnet",
        "seed": 3,
        "logger": "csv",
    }
    path = tmp_path / "c.json"
    path.write_text(json.dumps({**given, **changed}))
    cfg = config_from_args(build_parser().parse_args(["train", "--config", str(path)]))
    assert cfg.out == given["out"] and all(getattr(cfg, k) == v for k, v in changed.items())
    cfg = config_from_args(build_parser().parse_args(["train", "--config", str(path), "--steps", "9", "--out", "x"]))
    assert cfg.steps == 9 and cfg.out == "x" and cfg.lr == 5e-4
    cfg = config_from_args(build_parser().parse_args(["train", "--source", "a", "--target", "b"]))
    assert cfg.out == "runs/not"  # neither flag nor file: the command's default


def test_monge_train_defaults_are_the_demos_recipe():
    from monge.train.config import demo_config

    demo, plain = demo_config(), TrainConfig(source="emoji:twitter", target="emoji:google", steps=300)
    recipe = ("f_net", "augment", "ema", "lr", "map_lr", "lr_schedule", "ot_warm_start", "ot_pairing", "ot_anchor")
    assert {k: getattr(demo, k) for k in recipe} == {k: getattr(plain, k) for k in recipe}
    assert (plain.f_net, plain.ot_warm_start, plain.ot_anchor, plain.lr_schedule) == ("effnet", 2000, 0.01, "cosine")
    short = TrainConfig(source="emoji:twitter", target="emoji:google", steps=3)
    assert short.ot_warm_start == 40  # a short run's warm start shrinks with it
