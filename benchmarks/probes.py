"""Hostile-user probes of the CLI: each runs one `monge` command on tiny data and checks the outcome.

    python benchmarks/probes.py [--json] [--keep DIR]

Classes (what a probe must show to pass):
- data loss: a file monge did not write is neither deleted nor overwritten;
- silent garbage: no exit status 0 with a non-finite, diverged or nonsensical result;
- traceback: exit status 2 and one line on stderr that names the option or file at fault;
- misleading: that one line names the real cause;
- resources: a huge request is refused (or bounded) within seconds, before any work.

It prints one row per probe and a table of passed and failed probes per class. The web app's
probes live in tests/test_ui.py and tests/test_ui_browser.py (they need a browser).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

TINY = ["--size", "16", "--unet-base", "4", "--f-width", "4", "--f-max-width", "8", "--batch-size", "8"]
PROGRESS = re.compile(r"\d+%\|")
QUICK = [*TINY, "--steps", "2", "--t-steps", "1", "--eval-every", "2", "--eval-images", "8", "--test-fraction", "0.2"]


@dataclass
class Outcome:
    rc: int
    out: str
    err: str
    seconds: float

    def error_lines(self) -> list[str]:
        """stderr's lines less progress bars (tqdm's ``NN%|...|`` lines)."""
        return [line for line in self.err.strip().splitlines() if line.strip() and not PROGRESS.search(line)]


@dataclass
class Probe:
    klass: str
    name: str
    argv: list[str]
    check: Callable[[Outcome], str | None]  # None: passed; else what went wrong
    before: Callable[[], None] | None = None


def monge(argv: list[str], cwd: Path, env: dict) -> Outcome:
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "monge", "--threads", "1", *argv], cwd=cwd, env=env, capture_output=True, text=True
    )
    return Outcome(done.returncode, done.stdout, done.stderr, time.perf_counter() - t0)


def refused(*words: str, max_seconds: float = 60.0) -> Callable[[Outcome], str | None]:
    """Exit 2, one stderr line holding every word, no traceback, within ``max_seconds``."""

    def check(o: Outcome) -> str | None:
        lines = o.error_lines()
        if o.rc != 2:
            return f"exit {o.rc}: {lines[-1] if lines else o.out.strip()[-120:]}"
        if len(lines) != 1 or "Traceback" in o.err:
            return f"{len(lines)} stderr lines: {lines[-1] if lines else ''}"
        missing = [w for w in words if w not in lines[0]]
        if missing:
            return f"message lacks {missing}: {lines[0]}"
        if o.seconds > max_seconds:
            return f"took {o.seconds:.0f} s"
        return None

    return check


def tiny_world(root: Path) -> dict[str, Path]:
    """Two 16-px folders whose names pair (dark blobs and the same bright), a trained run, an export."""
    rng = np.random.default_rng(0)
    for i in range(40):
        img = rng.integers(0, 80, (16, 16, 3), dtype=np.uint8)
        for side, arr in (("a", img), ("b", 255 - img)):
            (root / side).mkdir(parents=True, exist_ok=True)
            Image.fromarray(arr).save(root / side / f"{i:03d}.png")
    return {"a": root / "a", "b": root / "b", "run": root / "run", "export": root / "export"}


def tamper(src: Path, dest: Path, change: Callable[[dict], object]) -> str:
    """A copy of the export ``src`` at ``dest`` whose config.json is ``change(config)``."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.is_file():
            (dest / f.name).write_bytes(f.read_bytes())
    config = json.loads((src / "config.json").read_text())
    (dest / "config.json").write_text(json.dumps(change(config)))
    return str(dest)


def with_key(config: dict, path: tuple[str, ...], value) -> dict:
    inner = config
    for key in path[:-1]:
        inner = inner[key]
    inner[path[-1]] = value
    return config


def probes(w: dict[str, Path], root: Path) -> list[Probe]:
    a, b, run, export = (str(w[k]) for k in ("a", "b", "run", "export"))
    train = ["train", "--source", a, "--target", b, *QUICK]
    user_dir = root / "proj"
    user_files = {user_dir / "notes" / "deep" / "tmp_draft.tmp": "draft", user_dir / "losses.csv": "mine"}

    def plant() -> None:
        for path, text in user_files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)

    def user_files_kept(o: Outcome) -> str | None:
        lost = [str(p.relative_to(root)) for p, t in user_files.items() if not p.exists() or p.read_text() != t]
        return f"lost or changed: {lost} (exit {o.rc})" if lost else None

    def config_kept(o: Outcome) -> str | None:
        saved = json.loads((w["run"] / "config.json").read_text())
        return None if o.rc == 2 and "source" in saved else f"exit {o.rc}; run config.json keys {sorted(saved)[:4]}"

    config_file = root / "cfg.json"
    config_file.write_text(json.dumps({"source": a, "target": b, "out": str(root / "from-file"), "steps": 2}))
    (root / "abc.json").write_text(json.dumps({"source": a, "target": b, "steps": "abc"}))

    def went_to_file_out(o: Outcome) -> str | None:
        return None if o.rc == 0 and (root / "from-file" / "config.json").exists() else f"exit {o.rc}, no run there"

    bad_stats = root / "nan.npz"
    np.savez(bad_stats, mu=np.full(2048, np.nan), sigma=np.eye(2048))
    ten_d = root / "ten.npz"
    np.savez(ten_d, mu=np.zeros(10), sigma=np.eye(10))
    shaped = root / "shaped.npz"
    np.savez(shaped, mu=np.zeros((3, 4)), sigma=np.eye(5))
    empty_weights = root / "empty.pth"
    empty_weights.write_bytes(b"")
    huge = root / "huge" / "big.png"
    huge.parent.mkdir()
    Image.new("L", (10_000, 10_000)).save(huge)  # 100 M pixels, a few hundred KB
    nan_export = root / "nan-export"
    tamper(w["export"], nan_export, lambda c: c)
    from safetensors.torch import load_file, save_file

    weights = load_file(str(nan_export / "model.safetensors"))
    save_file(
        {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v for k, v in weights.items()},
        str(nan_export / "model.safetensors"),
    )
    tampered = {
        "config.json without its config": lambda c: {k: v for k, v in c.items() if k != "config"},
        "a list as config": lambda c: with_key(c, ("config",), [1, 2]),
        "z_channels 'x'": lambda c: with_key(c, ("z_channels",), "x"),
        "unet_base 100000": lambda c: with_key(c, ("config", "unet_base"), 100000),
    }
    fresh = iter(range(1000))

    def out() -> str:  # a new folder for each probe
        return str(root / f"out{next(fresh)}")

    return [
        # data loss
        Probe(
            "data loss",
            "fresh run into a folder of the user's files",
            [*train, "--out", str(user_dir)],
            lambda o: user_files_kept(o) or (None if o.rc == 2 else f"exit {o.rc}"),
            plant,
        ),
        Probe(
            "data loss",
            "the same with --overwrite keeps files monge did not write",
            [*train, "--out", str(user_dir), "--overwrite"],
            lambda o: None if (user_dir / "notes/deep/tmp_draft.tmp").exists() else "tmp_draft.tmp deleted",
            plant,
        ),
        Probe("data loss", "export RUN --out RUN", ["export", run, "--out", run], config_kept),
        Probe(
            "data loss", "export over another run's export", ["export", run, "--out", str(root / "t3")], refused("t3")
        ),
        Probe(
            "data loss", "--config's out is honoured", ["train", "--config", str(config_file), *QUICK], went_to_file_out
        ),
        # silent garbage
        Probe(
            "silent garbage",
            "train --lr 1 --map-lr 1 (20 steps)",
            [
                "train",
                "--source",
                a,
                "--target",
                b,
                *TINY,
                "--steps",
                "20",
                "--eval-every",
                "5",
                "--eval-images",
                "8",
                "--lr",
                "1",
                "--map-lr",
                "1",
                "--out",
                str(root / "lr1"),
            ],
            refused("--lr"),
        ),
        Probe(
            "silent garbage",
            "NaN mu in an npz",
            ["metrics", "fd", str(bad_stats), str(bad_stats), "--json"],
            refused("nan.npz"),
        ),
        Probe(
            "silent garbage",
            "translate --samples -1",
            ["translate", run, a, "--out", out(), "--samples", "-1"],
            refused("--samples"),
        ),
        Probe(
            "silent garbage",
            "train --f-penalty nan",
            [*train, "--f-penalty", "nan", "--out", out()],
            refused("--f-penalty"),
        ),
        Probe(
            "silent garbage",
            "an export of NaN weights",
            ["translate", str(nan_export), a, "--out", out()],
            refused("nan-export"),
        ),
        # tracebacks
        Probe("traceback", "train --seed -1", [*train, "--seed", "-1", "--out", out()], refused("seed")),
        Probe(
            "traceback",
            "train --unet-base 100000",
            [*train, "--unet-base", "100000", "--out", out()],
            refused("--unet-base"),
        ),
        Probe(
            "traceback", '--config {"steps": "abc"}', ["train", "--config", str(root / "abc.json")], refused("steps")
        ),
        Probe(
            "traceback",
            "an empty --inception-weights file",
            [*train, "--backbone", "inception", "--inception-weights", str(empty_weights), "--out", out()],
            refused("empty.pth"),
        ),
        Probe(
            "traceback",
            "translate --samples 0",
            ["translate", run, a, "--out", out(), "--samples", "0"],
            refused("--samples"),
        ),
        Probe(
            "traceback",
            "translate --batch-size 0",
            ["translate", run, a, "--out", out(), "--batch-size", "0"],
            refused("--batch-size"),
        ),
        Probe(
            "traceback",
            "translate --device cuda (no CUDA here)",
            ["translate", run, a, "--out", out(), "--device", "cuda"],
            refused("cuda"),
        ),
        Probe("traceback", "data emoji --size 0", ["data", "emoji", "--size", "0", "--out", out()], refused("--size")),
        Probe("traceback", "metrics fd with a 10-d npz", ["metrics", "fd", str(ten_d), str(ten_d)], refused("ten.npz")),
        Probe(
            "traceback",
            "metrics fd with a mis-shaped npz",
            ["metrics", "fd", str(shaped), str(shaped)],
            refused("shaped.npz"),
        ),
        *(
            Probe(
                "traceback",
                f"tampered export: {what}",
                ["translate", tamper(w["export"], root / f"t{i}", change), a, "--out", out()],
                refused(f"t{i}"),
            )
            for i, (what, change) in enumerate(tampered.items())
        ),
        # misleading messages
        Probe("misleading", "train --devices -1", [*train, "--devices", "-1", "--out", out()], refused("devices")),
        Probe(
            "misleading",
            "train --gamma nan",
            [*train, "--cost", "weak", "--gamma", "nan", "--out", out()],
            refused("gamma", "not a number"),
        ),
        Probe(
            "misleading",
            "--resume with no run",
            ["train", "--resume", "--out", str(root / "none")],
            refused("--resume"),
        ),
        Probe(
            "misleading",
            "a refused run leaves no empty --out",
            ["train", "--source", str(root / "nothere"), "--target", b, "--out", str(root / "refused")],
            lambda o: refused("nothere")(o) or ("left an empty folder" if (root / "refused").exists() else None),
        ),
        # resources
        Probe(
            "resources",
            "a 10,000 x 10,000 PNG",
            ["translate", run, str(huge.parent), "--out", out()],
            refused("big.png", max_seconds=20),
        ),
        Probe(
            "resources",
            "train --batch-size 100000",
            [*train, "--batch-size", "100000", "--out", out()],
            refused("batch", max_seconds=30),
        ),
        Probe(
            "resources",
            "translate --samples 100000",
            ["translate", run, a, "--out", out(), "--samples", "100000"],
            refused("--samples", max_seconds=30),
        ),
    ]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true")
    p.add_argument("--keep", help="work in this folder and keep it (default: a temporary one)")
    args = p.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix="monge-probes-")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MONGE_CACHE": str(root / "cache"), "OMP_NUM_THREADS": "1"}
    w = tiny_world(root)
    for setup in (
        ["train", "--source", str(w["a"]), "--target", str(w["b"]), *QUICK, "--out", str(w["run"])],
        ["export", str(w["run"]), "--out", str(w["export"])],
    ):
        o = monge(setup, root, env)
        if o.rc != 0:
            sys.exit(f"setup failed: monge {' '.join(setup)}: {o.err.strip()[-300:]}")
    rows = []
    for probe in probes(w, root):
        if probe.before:
            probe.before()
        o = monge(probe.argv, root, env)
        problem = probe.check(o)
        rows.append(
            {
                "class": probe.klass,
                "probe": probe.name,
                "passed": problem is None,
                "problem": problem,
                "exit": o.rc,
                "seconds": round(o.seconds, 1),
            }
        )
        print(
            f"{'pass' if problem is None else 'FAIL'}  {probe.klass:<14} {probe.name}"
            + (f"  -- {problem}" if problem else ""),
            flush=True,
        )
    tried, passed = Counter(r["class"] for r in rows), Counter(r["class"] for r in rows if r["passed"])
    print("\n| class | tried | passed | failed |\n|---|---|---|---|")
    for klass in tried:
        print(f"| {klass} | {tried[klass]} | {passed[klass]} | {tried[klass] - passed[klass]} |")
    if args.json:
        print(json.dumps({"probes": rows, "tried": sum(tried.values()), "passed": sum(passed.values())}))


if __name__ == "__main__":
    main()
