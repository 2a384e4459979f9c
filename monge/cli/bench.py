"""``monge bench w2``: the continuous W2 benchmark, with a known optimal map."""

from __future__ import annotations

import argparse

from ..ot.defaults import EXPECTILE, EXPECTILE_WEIGHT
from .common import add_json, report


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
        ("CPU", result["cpu"]),
    ]
    report(args, result, table)


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
    w2.add_argument("--steps", type=int, default=3000, help="outer iterations (ENOT: joint updates)")
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
