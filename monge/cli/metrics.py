"""``monge metrics fd|kid|all|paired``: distances between two image sets (``all``: FD and KID from one encoding)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..errors import ConfigError, DataError
from .common import add_json, nonnegative_int, positive_int, report

MIN_RELIABLE = 50  # below this many images, FD and KID are dominated by sampling noise


def _check_saved(spec: str, stats, args, extractor) -> None:
    """Refuse saved statistics that would be compared with images of another size or backbone."""
    from ..metrics import EXTERNAL_INCEPTION

    if stats.backbone_id == EXTERNAL_INCEPTION:
        if not extractor.backbone_id.startswith("inception"):
            raise DataError(
                f"{spec}: pytorch-fid / clean-fid statistics are Inception features; use --backbone inception"
            )
        if args.metric in ("kid", "all"):
            raise DataError(f"{spec}: holds only mu and sigma; KID needs the features (monge metrics --save-stats)")
        return
    if stats.backbone_id != extractor.backbone_id:
        raise DataError(f"{spec}: statistics in {stats.backbone_id}, not {extractor.backbone_id}")
    if stats.size != args.size:
        raise DataError(f"{spec}: statistics of {stats.size} px images, but --size is {args.size}")


def _check_count(spec: str, count: int) -> None:
    if count < 2:
        raise DataError(f"{spec}: {count} image(s); a distance between distributions needs at least 2")
    if count < MIN_RELIABLE:
        print(f"warning: {spec}: only {count} images; FD and KID from so few are mostly noise", file=sys.stderr)


def _stats_for(spec: str, args, extractor):
    from ..data.domains import open_domain
    from ..metrics import EXTERNAL_INCEPTION, FeatureStats, image_stats

    if spec.endswith(".npz"):
        stats = FeatureStats.load(spec)
        _check_saved(spec, stats, args, extractor)
        if stats.backbone_id != EXTERNAL_INCEPTION:  # pytorch-fid / clean-fid files do not record a count
            _check_count(spec, stats.count)
        return stats
    source = open_domain(spec, args.size, h5_key=args.h5_key).source
    _check_count(spec, len(source))  # before the encoding, not after it
    from ..runs import cache_root

    # one file per images (names and sample pixels), backbone and size
    folder = cache_root() / "stats" if args.cache else None
    return image_stats(source, extractor, args.size, args.batch_size, True, workers=args.workers, cache_dir=folder)


def cmd_metrics(args: argparse.Namespace) -> None:
    from ..backbones.perceptual import PerceptualDistance
    from ..backbones.registry import load_backbone
    from ..metrics import fd_from_stats, kid, paired_metrics

    if args.size < 1:
        raise ConfigError("size", f"{args.size} is not positive")
    if getattr(args, "subset_size", 2) < 2:
        raise ConfigError("subset_size", f"{args.subset_size} is below 2 (KID compares pairs within a subset)")

    if args.metric == "paired":
        from ..data.domains import open_domain

        a = open_domain(args.a, args.size, h5_key=args.h5_key).source
        b = open_domain(args.b, args.size, h5_key=args.h5_key).source
        common = sorted(set(a.names) & set(b.names))
        if not common:
            raise DataError(f"{args.b}: no file names in common with {args.a}, so no pairs")
        pairs = {
            "pairs": len(common),
            **paired_metrics(a.subset(common).tensor(), b.subset(common).tensor(), PerceptualDistance()),
        }
        report(args, pairs, list(pairs.items()))
        return
    if args.save_stats:  # before the encoding: a bad name must not cost the whole run
        target = Path(args.save_stats)
        if target.is_dir():
            raise ConfigError("save_stats", f"{target}: a folder; give a file name, e.g. {target / 'stats.npz'}")
        if not target.parent.is_dir():
            raise ConfigError("save_stats", f"{target.parent}: no such folder")
    from ..engine import resolve_device

    extractor = load_backbone(args.backbone, args.weights).to(resolve_device(args.device))
    t0 = time.perf_counter()
    sa, sb = _stats_for(args.a, args, extractor), _stats_for(args.b, args, extractor)
    if args.save_stats:
        sa.save(args.save_stats)
    seconds = time.perf_counter() - t0
    result: dict[str, object] = {}
    if args.metric in ("fd", "all"):
        result[extractor.name] = fd_from_stats(sa, sb)
    if args.metric in ("kid", "all"):  # the same features: KID costs no second encoding
        mean, std = kid(sa.features, sb.features, subset_size=args.subset_size)
        result.update({"KID": mean, "KID_std": std})
    result.update(
        {
            "backbone": extractor.backbone_id,
            "n_a": sa.count,
            "n_b": sb.count,
            "size": args.size,
            "seconds": round(seconds, 2),
        }
    )
    report(args, result, list(result.items()))


def register(sub: argparse._SubParsersAction) -> None:
    metrics = sub.add_parser("metrics", help="FD / FID, KID and paired distances between image sets")
    m_sub = metrics.add_subparsers(dest="metric", required=True, metavar="METRIC")
    for name, text in (
        ("fd", "Frechet distance (FD-EffNetLite0 offline, FID with Inception weights)"),
        ("kid", "Kernel Inception-style distance in the same features"),
        ("all", "FD and KID from one encoding of each set"),
        ("paired", "MSE, PSNR and PD-EffNetLite0 between images paired by file name"),
    ):
        p = m_sub.add_parser(name, help=text, description=text)
        p.add_argument("a", help="image set (folder, .h5, .zip, emoji:STYLE) or, for fd/kid, a stats .npz")
        p.add_argument("b", help="the other image set")
        p.add_argument("--size", type=int, default=64, help="images are resized to SIZE x SIZE first")
        p.add_argument("--h5-key", help="dataset key inside HDF5 files (default: the first)")
        if name != "paired":
            p.add_argument("--backbone", default="effnet-lite0", choices=["effnet-lite0", "inception"])
            p.add_argument("--weights", help="Inception weights file (else $MONGE_INCEPTION_WEIGHTS or the hub cache)")
            p.add_argument("--save-stats", help="also write A's statistics to this .npz")
            p.add_argument("--batch-size", type=positive_int, default=64, help="images per forward pass (default: 64)")
            p.add_argument("--device", default="auto", help="auto (CUDA when present, else cpu), cpu, cuda, mps")
            p.add_argument(
                "--workers", type=nonnegative_int, default=0, help="DataLoader processes decoding images (default: 0)"
            )
            p.add_argument(
                "--cache",
                action=argparse.BooleanOptionalAction,
                default=True,
                help="keep each image set's statistics under $MONGE_CACHE/stats and reuse them while the images, "
                "backbone and size are the same (default: on)",
            )
        if name in ("kid", "all"):
            p.add_argument("--subset-size", type=int, default=1000)
        add_json(p)
        p.set_defaults(func=cmd_metrics)
