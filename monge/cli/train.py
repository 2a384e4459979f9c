"""``monge train``, ``stack``, ``ae`` and ``demo``: thin wrappers over :mod:`monge.train`."""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path

from ..train.config import TrainConfig
from .common import add_config_options, add_json, config_from_args, report


def _summary_table(summary) -> list[tuple[str, object]]:
    return [
        ("run", summary.run),
        ("steps", summary.steps),
        ("best step", summary.best_step),
        (f"best {summary.metric} ({summary.chosen_on} split)", summary.best),
        *[(f"final {k}", v) for k, v in summary.final.items()],
        ("seconds", summary.seconds),
    ]


def run_training(args: argparse.Namespace, cfg) -> None:
    from ..train.loop import train

    summary = train(cfg, resume=args.resume, progress=True, overwrite=args.overwrite)
    if summary.rank != 0:  # a non-zero rank of a distributed run: rank 0 reports
        return
    report(args, summary.to_dict(), _summary_table(summary))


def cmd_train(args: argparse.Namespace) -> None:
    run_training(args, config_from_args(args))


# from P to P the discrete OT pairs are each image with itself: a warm start or anchor on them
# would teach the auto-encoder to reconstruct, which is the plain baseline's objective, not NOT's
AE_DEFAULTS = {"ot_warm_start": 0, "ot_anchor": 0.0}


def cmd_ae(args: argparse.Namespace) -> None:
    args.source = args.target = args.data
    args.cost = {"l2": "strong"}.get(args.cost, args.cost)
    cfg = config_from_args(args, defaults=AE_DEFAULTS)
    if not args.resume:
        cfg.map_net, cfg.latent = "autoencoder", args.latent
        cfg.objective = "reconstruction" if args.baseline else "not"
    run_training(args, cfg)


def cmd_stack(args: argparse.Namespace) -> None:
    from ..train.stack import train_stack

    result = train_stack(
        config_from_args(args), args.levels, args.warm_start, args.mapped, progress=True, checkpoint=args.checkpoint
    )
    if result["rank"] != 0:
        return
    table = [
        (f"level {r['level']} {r['metric']} min/mean/std", f"{r['min']:.2f} / {r['mean']:.2f} / {r['std']:.2f}")
        for r in result["levels"]
    ] + [("best level", result["best_level"]), ("stack", result["stack"])]
    report(args, result, table)


def cmd_demo(args: argparse.Namespace) -> None:
    from ..report.run import write_report
    from ..train.config import demo_config
    from ..train.loop import train

    summary = train(demo_config(args.out, args.steps, args.eval_images, args.seed), resume=args.resume)
    path = write_report(Path(args.out), summary)
    result = {**summary.to_dict(), "report": str(path)}
    report(args, result, [("report", path), *_summary_table(summary)[3:]])


def _add_run_options(p: argparse.ArgumentParser, out: str, func, **config_options) -> None:
    """What train, stack and ae share: the run folder, a config file, resume, the configuration flags, --json."""
    p.add_argument("--out", help=f"run folder (default: the config file's out, else {out})")
    p.add_argument("--config", help="JSON file of configuration keys (flags override it)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    if func is not cmd_stack:  # a stack's levels are folders of its own
        p.add_argument(
            "--overwrite", action="store_true", help="train into --out even when it holds files monge did not write"
        )
    add_config_options(p, **config_options)
    add_json(p)
    p.set_defaults(func=func, default_out=out)


def register(sub: argparse._SubParsersAction) -> None:
    from ..train.config import demo_config

    demo_defaults = {name: p.default for name, p in inspect.signature(demo_config).parameters.items()}
    demo = sub.add_parser("demo", help="train twitter -> google emoji with monge train's defaults and write a report")
    demo.add_argument("--out", default=demo_defaults["out"], help="default: %(default)s")
    demo.add_argument(
        "--steps",
        type=int,
        default=demo_defaults["steps"],
        help="game steps (default: %(default)s); the warm start takes 2,000 updates (40/3 as many when fewer)",
    )
    demo.add_argument("--eval-images", type=int, default=demo_defaults["eval_images"], help="default: %(default)s")
    demo.add_argument("--seed", type=int, default=demo_defaults["seed"], help="default: %(default)s")
    demo.add_argument("--resume", action="store_true")
    add_json(demo)
    demo.set_defaults(func=cmd_demo)

    tr = sub.add_parser("train", help="train a Neural Optimal Transport map from SOURCE to TARGET")
    _add_run_options(tr, "runs/not", cmd_train)

    sk = sub.add_parser("stack", help="train a stack of NOT maps, each from the previous level's output to TARGET")
    sk.add_argument("--levels", type=int, default=3)
    sk.add_argument("--warm-start", action="store_true", help="start level k+1 from level k's weights")
    sk.add_argument(
        "--checkpoint",
        choices=["best", "last"],
        default="best",
        help="each level's checkpoint that maps the next level's source and is composed: best (lowest "
        "metric on the validation split; on the test split with --val-fraction 0, the published protocol) or last",
    )
    sk.add_argument(
        "--mapped",
        choices=["disk", "fly"],
        default="disk",
        help="mapped sources: float32 shards on disk (default) or computed batch by batch",
    )
    _add_run_options(sk, "runs/stack", cmd_stack)

    ae = sub.add_parser("ae", help="train a NOT auto-encoder (P to P through a bottleneck) or its plain baseline")
    ae.add_argument("--data", help="the images (same forms as --source)")
    latent = TrainConfig.__dataclass_fields__["latent"].default
    ae.add_argument("--latent", type=int, default=latent, help=f"bottleneck size (default: {latent})")
    ae.add_argument("--baseline", action="store_true", help="the plain auto-encoder: the cost alone, no potential")
    _add_run_options(ae, "runs/ae", cmd_ae, exclude=("source", "target"), choices={"cost": ("l2", "l1", "perceptual")})
