"""Property-based: a draw of valid options runs a one-step tiny job (exit 0); a draw with one invalid
value exits 2 with one line naming that option.

Hypothesis draws valid and invalid values together (negative sizes, NaN rates, unknown policies);
a traceback, a refused valid draw or an accepted invalid one fails the test with the smallest example.
"""

import math
import shutil

import numpy as np
import pytest
from conftest import TINY_NETS
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from monge.cli.main import main

SETTINGS = settings(
    max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def options(valid: dict[str, list], invalid: dict[str, list]):
    """(options, fault): values drawn from ``valid``, then (in about two draws of three) the option
    ``fault`` replaced by an ``invalid`` value (``fault`` None otherwise): every example is either a
    real run or a single fault to be named."""

    @st.composite
    def draw(draw_from) -> tuple[dict, str | None]:
        chosen = {key: draw_from(st.sampled_from(values)) for key, values in valid.items()}
        broken = draw_from(st.sampled_from([None, *invalid]))
        if broken is not None:
            chosen[broken] = draw_from(st.sampled_from(invalid[broken]))
        event("fault: " + (broken or "none"))
        return chosen, broken

    return draw()


def _run(argv: list[str], capsys, fault: str | None, named: bool = True) -> int:
    """Run the CLI; check it exits 0 for a valid draw, and 2 with one error line last (naming the
    ``--fault`` option when ``named``) for a draw with a fault; return the exit status."""
    try:
        code = main(argv)
    except SystemExit as done:  # argparse's own refusals
        code = int(done.code or 0)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code == (2 if fault else 0), f"fault {fault!r}: exit {code}; {err[-500:]}"
    event(f"exit {code}")
    if code == 2:
        last = err.strip().splitlines()[-1]
        assert last.startswith("monge ") and ": error: " in last, last
        assert not named or f"--{fault}" in last, last
    return code


@pytest.fixture
def images(tmp_path_factory):
    root = tmp_path_factory.mktemp("img")
    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(root / f"{i:02d}.png")
    return root


@SETTINGS
@given(
    o=options(
        valid={
            "size": [16],
            "batch-size": [4, 6],
            "t-steps": [1, 2],
            "lr": [3e-4, 1e-2],
            "eval-images": [3],
            "test-fraction": [0.25],
            "ema": [0.0, 0.9],
            "augment": ["none", "translation", "cutout,translation"],
            "cost": ["strong", "weak", "l1"],
        },
        invalid={
            "size": [0, 7, 24],
            "batch-size": [-1, 0],
            "t-steps": [-1, 0],
            "lr": [0.0, -1e-3, 5.0, math.nan, math.inf],
            "eval-images": [-1, 0],
            "test-fraction": [0.0, 1.0],
            "ema": [-0.1, 1.0],
            "augment": ["rotate"],
            "cost": ["w2"],
        },
    ),
    command=st.sampled_from(["train", "stack"]),
)
def test_train_and_stack_options(tmp_path_factory, capsys, images, o, command):
    o, fault = o
    out = tmp_path_factory.mktemp("run") / "r"
    nets = TINY_NETS[2:-2]  # the tiny widths; size and batch come from the draw
    argv = [command, "--source", str(images), "--target", str(images), *nets]
    argv += [arg for key, value in o.items() for arg in (f"--{key}", str(value))]
    argv += ["--steps", "1", "--eval-every", "1", "--z-count", "2", "--out", str(out)]
    argv += ["--levels", "2"] if command == "stack" else []
    _run(argv, capsys, fault)
    shutil.rmtree(out.parent, ignore_errors=True)


@SETTINGS
@given(
    o=options(
        valid={"size": [32, 48], "scales": [1, 2], "steps": [1, 2], "alpha": [0.0, 1.0], "lr": [2e-3]},
        invalid={
            "size": [7, 16],  # 16 px over 2 scales starts at 8
            "scales": [0],
            "steps": [0],
            "alpha": [-0.125, math.nan, math.inf],
            "lr": [0.0, 1e30, math.nan],
        },
    )
)
def test_style_options(tmp_path_factory, capsys, images, o):
    o, fault = o
    out = tmp_path_factory.mktemp("style") / "o.png"
    argv = ["style", str(images / "00.png"), str(images / "01.png"), "--out", str(out)]
    argv += [arg for key, value in o.items() for arg in (f"--{key}", str(value))]
    code = _run(argv, capsys, fault, named=fault != "size")  # a size too small for the scales names --scales
    assert out.exists() == (code == 0)


@SETTINGS
@given(
    metric=st.sampled_from(["fd", "kid"]),
    o=options(
        valid={"size": [8, 15, 32], "subset-size": [5, 1000], "count": [2, 12]},
        invalid={"size": [-1, 0], "subset-size": [-1, 0, 1], "count": [1]},
    ),
)
def test_metrics_options(tmp_path_factory, capsys, images, metric, o):
    o, fault = o
    if metric == "fd" and fault == "subset-size":  # FD takes no --subset-size: that draw is a valid run
        fault = None
    b = tmp_path_factory.mktemp("b")
    for path in sorted(images.iterdir())[: o["count"]]:
        shutil.copy(path, b / path.name)
    argv = ["metrics", metric, str(images), str(b), "--size", str(o["size"])]
    argv += ["--subset-size", str(o["subset-size"])] if metric == "kid" else []
    _run(argv, capsys, fault, named=fault != "count")  # too few images: the line names the folder
