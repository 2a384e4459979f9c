"""``monge bench w2``: the continuous W2 benchmark, with a known optimal map."""

from __future__ import annotations

import argparse
import json

from ..bench.w2_config import W2Config
from ..errors import ConfigError
from .common import add_dataclass_options, add_json, dataclass_from_args, positive_int, report


def cmd_bench_w2(args: argparse.Namespace) -> None:
    from dataclasses import asdict

    from ..bench.w2 import run_w2
    from ..engine import cpu_name

    cfg = dataclass_from_args(W2Config, args)
    options = {k: v for k, v in asdict(cfg).items() if k != "dim"}
    result = run_w2(cfg.dim, progress=not args.json, **options)
    result["cpu"] = cpu_name()
    row, name = result["results"][f"monge-{cfg.solver}"], cfg.solver.upper()
    table = [("pair", result["pair"])] + [(f"{name} L2-UVP %", r["L2-UVP"]) for name, r in result["results"].items()]
    for key in ("published_MM:R", "published_best"):
        if result[key] is not None:
            table.append((f"{key.replace('_', ' ')} L2-UVP %", result[key]))
    table += [(f"{name} L2-UVP % at step {step}", uvp) for step, uvp in row["curve"]]
    table += [
        (f"{name} steps", cfg.steps),
        (f"{name} seconds", row["seconds"]),
        *([(f"{name} diverged", row["diverged"])] if "diverged" in row else []),
        ("CPU", result["cpu"]),
    ]
    report(args, result, table)


def cmd_bench_suite(args: argparse.Namespace) -> None:
    from pathlib import Path

    from ..bench.suite import run_suite
    from ..train.config import DEFAULT_STEPS, TrainConfig

    try:
        recipe = json.loads(args.recipe)
    except json.JSONDecodeError as err:
        raise ConfigError("recipe", f"not JSON ({err})") from None
    if not isinstance(recipe, dict):
        raise ConfigError("recipe", "not a JSON object of TrainConfig keys")
    TrainConfig.from_dict({"source": "-", "target": "-", **recipe})  # names a bad key before any training
    steps = args.steps or DEFAULT_STEPS  # what monge train runs
    summary = run_suite(args.tasks, args.seeds, steps, args.out, recipe, not args.no_peers, not args.json)
    table: list[tuple[str, object]] = [
        (f"{r['task']} seed {r['seed']}", "meets every target" if all(r["targets"].values()) else "misses a target")
        for r in summary["results"]
    ]
    table += [("table", str(Path(args.out) / "suite.md")), ("report", str(Path(args.out) / "report.html"))]
    table += [("seconds", summary["seconds"]), ("CPU", summary["cpu"])]
    report(args, summary, table)


def register(sub: argparse._SubParsersAction) -> None:
    bench = sub.add_parser("bench", help="benchmarks with a known answer")
    b_sub = bench.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    w2 = b_sub.add_parser("w2", help="L2-UVP on the continuous W2 benchmark (NOT, identity, linear, POT EMD)")
    add_dataclass_options(w2, W2Config)
    add_json(w2)
    w2.set_defaults(func=cmd_bench_w2)

    from ..bench.tasks import TASKS

    suite = b_sub.add_parser(
        "suite", help="one recipe on every translation task with hidden pairs, beside the identity, CycleGAN, a ceiling"
    )
    suite.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS), help="default: all")
    suite.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="default: 0 1")
    suite.add_argument(
        "--steps",
        type=positive_int,
        help="training steps of each map (default: monge train's, 500: about 7 minutes on two CPU cores)",
    )
    suite.add_argument(
        "--recipe", default="{}", help='JSON of training options on top of the defaults, e.g. \'{"solver": "enot"}\''
    )
    suite.add_argument("--no-peers", action="store_true", help="skip CycleGAN and the supervised ceiling")
    suite.add_argument("--out", default="runs/suite", help="the suite's folder (default: runs/suite)")
    add_json(suite)
    suite.set_defaults(func=cmd_bench_suite)
