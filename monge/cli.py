"""The ``monge`` command line. Every command that prints a result accepts ``--json`` and then
prints one JSON object as the last line of stdout; errors exit 2 with one line naming the culprit."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .data import DataError


class CLIError(Exception):
    """A user error to report as one line."""


def _report(args: argparse.Namespace, result: dict, table: list[tuple[str, object]]) -> None:
    width = max(len(k) for k, _ in table) if table else 0
    for key, value in table:
        print(f"{key:<{width}}  {value:.6g}" if isinstance(value, float) else f"{key:<{width}}  {value}")
    if args.json:
        print(json.dumps(result))


def _add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line of stdout")


# ---------------------------------------------------------------- metrics ------------------------

def _stats_for(spec: str, args, extractor):
    from .data import open_domain
    from .metrics import FeatureStats, image_stats

    if spec.endswith(".npz"):
        return FeatureStats.load(spec)
    source = open_domain(spec, args.size, h5_key=args.h5_key).source
    return image_stats(source, extractor, args.size, progress=not args.json)


def cmd_metrics(args: argparse.Namespace) -> None:
    from .features import load_backbone
    from .metrics import fd_from_stats, kid, paired_metrics, PerceptualDistance

    if args.metric == "paired":
        from .data import open_domain

        a = open_domain(args.a, args.size, h5_key=args.h5_key).source
        b = open_domain(args.b, args.size, h5_key=args.h5_key).source
        common = sorted(set(a.names) & set(b.names))
        if not common:
            raise CLIError(f"{args.b}: no file names in common with {args.a}, so no pairs")
        result = {"pairs": len(common), **paired_metrics(a.subset(common).tensor(), b.subset(common).tensor(),
                                                         PerceptualDistance())}
        _report(args, result, list(result.items()))
        return
    extractor = load_backbone(args.backbone, args.weights)
    t0 = time.perf_counter()
    sa, sb = _stats_for(args.a, args, extractor), _stats_for(args.b, args, extractor)
    if args.save_stats:
        sa.save(args.save_stats)
    seconds = time.perf_counter() - t0
    if args.metric == "fd":
        result = {extractor.name: fd_from_stats(sa, sb)}
    else:
        mean, std = kid(sa.features, sb.features, subset_size=args.subset_size)
        result = {"KID": mean, "KID_std": std}
    result.update({"backbone": extractor.backbone_id, "n_a": sa.count, "n_b": sb.count, "size": args.size,
                   "seconds": round(seconds, 2)})
    _report(args, result, list(result.items()))


# ---------------------------------------------------------------- data ---------------------------

def cmd_data_emoji(args: argparse.Namespace) -> None:
    from .datasets import write_emoji_folder

    n = write_emoji_folder(args.style, args.size, args.out, args.source)
    result = {"written": n, "style": args.style, "size": args.size, "out": str(args.out)}
    _report(args, result, list(result.items()))


# ---------------------------------------------------------------- parser -------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="monge", description="Optimal-transport image translation.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = sub.add_parser("data", help="write datasets as image folders")
    data_sub = data.add_subparsers(dest="dataset", required=True, metavar="DATASET")
    emoji = data_sub.add_parser("emoji", help="write the emoji of one style as PNG files")
    emoji.add_argument("--style", choices=["google", "twitter"], required=True)
    emoji.add_argument("--size", type=int, default=32)
    emoji.add_argument("--source", help="local copy: the emoji folder, or an npm-pack tarball (needed above 32 px)")
    emoji.add_argument("--out", required=True)
    _add_json(emoji)
    emoji.set_defaults(func=cmd_data_emoji)

    metrics = sub.add_parser("metrics", help="FD / FID, KID and paired distances between image sets")
    m_sub = metrics.add_subparsers(dest="metric", required=True, metavar="METRIC")
    for name, text in (("fd", "Frechet distance (FD-EffNetLite0 offline, FID with Inception weights)"),
                       ("kid", "Kernel Inception-style distance in the same features"),
                       ("paired", "MSE, PSNR and PD-EffNetLite0 between images paired by file name")):
        p = m_sub.add_parser(name, help=text, description=text)
        p.add_argument("a", help="image set (folder, .h5, .zip, emoji:STYLE) or, for fd/kid, a stats .npz")
        p.add_argument("b", help="the other image set")
        p.add_argument("--size", type=int, default=64, help="images are resized to SIZE x SIZE first")
        p.add_argument("--h5-key", help="dataset key inside HDF5 files (default: the first)")
        if name != "paired":
            p.add_argument("--backbone", default="effnet-lite0", choices=["effnet-lite0", "inception"])
            p.add_argument("--weights", help="Inception weights file (else $MONGE_INCEPTION_WEIGHTS or the hub cache)")
            p.add_argument("--save-stats", help="also write A's statistics to this .npz")
        if name == "kid":
            p.add_argument("--subset-size", type=int, default=1000)
        _add_json(p)
        p.set_defaults(func=cmd_metrics)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .features import WeightsNotFound

    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (CLIError, DataError, WeightsNotFound, ValueError, FileNotFoundError) as err:
        print(f"monge {args.command}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
