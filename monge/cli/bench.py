"""``monge bench w2``: the continuous W2 benchmark, with a known optimal map."""

from __future__ import annotations

import argparse
import json

from ..errors import ConfigError
from ..ot.defaults import EXPECTILE, EXPECTILE_WEIGHT
from .common import add_json, positive_int, report


def cmd_bench_w2(args: argparse.Namespace) -> None:
    from ..bench.w2 import run_w2
    from ..engine import cpu_name

    result = run_w2(
        args.dim,
        args.pair,
        args.steps,
        args.batch_size,
        seed=args.seed,
        data_dir=args.data_dir,
        hidden=args.hidden,
        lr=args.lr,
        t_steps=args.t_steps,
        warm=not args.cold,
        curve_every=args.curve_every,
        solver=args.solver,
        expectile=args.expectile,
        expectile_weight=args.expectile_weight,
    )
    result["cpu"] = cpu_name()
    row, name = result["results"][f"monge-{args.solver}"], args.solver.upper()
    table = [("pair", result["pair"])] + [(f"{name} L2-UVP %", r["L2-UVP"]) for name, r in result["results"].items()]
    for key in ("published_MM:R", "published_best"):
        if result[key] is not None:
            table.append((f"{key.replace('_', ' ')} L2-UVP %", result[key]))
    table += [(f"{name} L2-UVP % at step {step}", uvp) for step, uvp in row["curve"]]
    table += [
        (f"{name} steps", args.steps),
        (f"{name} seconds", row["seconds"]),
        *([(f"{name} diverged", row["diverged"])] if "diverged" in row else []),
        ("CPU", result["cpu"]),
    ]
    report(args, result, table)


def cmd_bench_suite(args: argparse.Namespace) -> None:
    from pathlib import Path

    from ..bench.suite import run_suite
    from ..train.config import TrainConfig

    try:
        recipe = json.loads(args.recipe)
    except json.JSONDecodeError as err:
        raise ConfigError("recipe", f"not JSON ({err})") from None
    if not isinstance(recipe, dict):
        raise ConfigError("recipe", "not a JSON object of TrainConfig keys")
    TrainConfig.from_dict({"source": "-", "target": "-", **recipe})  # names a bad key before any training
    summary = run_suite(args.tasks, args.seeds, args.steps, args.out, recipe, not args.no_peers, not args.json)
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
    w2.add_argument("--dim", type=int, required=True, help="2, 4, 8, 16, 32, 64 or 128")
    w2.add_argument(
        "--pair",
        choices=["mix3tomix10", "gaussian"],
        default="mix3tomix10",
        help="the benchmark's mixture pair, or a closed-form Gaussian pair (sanity check)",
    )
    w2.add_argument(
        "--solver",
        choices=["not", "enot"],
        default="not",
        help="NOT (max-min: t-steps map updates per potential update) or ENOT (one joint update, expectile "
        "regularisation)",
    )
    w2.add_argument("--expectile", type=float, default=EXPECTILE, help="ENOT's expectile tau")
    w2.add_argument("--expectile-weight", type=float, default=EXPECTILE_WEIGHT, help="ENOT's regularisation weight")
    w2.add_argument("--steps", type=positive_int, default=3000, help="outer iterations (ENOT: joint updates)")
    w2.add_argument(
        "--batch-size",
        type=int,
        default=256,
        help="samples per update (256 gives 2-4x the steps of 1,024 in the same time, and scored better up to D = 64)",
    )
    w2.add_argument("--hidden", type=int, help="MLP width (default max(128, 4 dim))")
    w2.add_argument("--lr", type=float, default=1e-3)
    w2.add_argument("--t-steps", type=int, default=10, help="map updates per potential update")
    w2.add_argument("--curve-every", type=int, default=0, help="also score NOT every this many steps")
    w2.add_argument("--seed", type=int, default=0, help="0: the published instance; another seed draws another")
    w2.add_argument("--cold", action="store_true", help="start NOT at the identity, not at the best linear map")
    w2.add_argument(
        "--data-dir",
        help="a folder of the benchmark's mix3tomix10_{D}_v{1,2}.pt (default: $MONGE_W2_DATA, "
        "else the copy shipped with monge)",
    )
    add_json(w2)
    w2.set_defaults(func=cmd_bench_w2)

    from ..bench.tasks import TASKS

    suite = b_sub.add_parser(
        "suite", help="one recipe on every translation task with hidden pairs, beside the identity, CycleGAN, a ceiling"
    )
    suite.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS), help="default: all")
    suite.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="default: 0 1")
    suite.add_argument("--steps", type=positive_int, default=300, help="training steps of each map (default: 300)")
    suite.add_argument(
        "--recipe", default="{}", help='JSON of training options on top of the defaults, e.g. \'{"solver": "enot"}\''
    )
    suite.add_argument("--no-peers", action="store_true", help="skip CycleGAN and the supervised ceiling")
    suite.add_argument("--out", default="runs/suite", help="the suite's folder (default: runs/suite)")
    add_json(suite)
    suite.set_defaults(func=cmd_bench_suite)
