"""``monge data emoji``: write the built-in data as image folders."""

from __future__ import annotations

import argparse

from .common import add_json, positive_int, report


def cmd_data_emoji(args: argparse.Namespace) -> None:
    from ..data.emoji import write_emoji_folder

    n = write_emoji_folder(args.style, args.size, args.out, args.source)
    result = {"written": n, "style": args.style, "size": args.size, "out": str(args.out)}
    report(args, result, list(result.items()))


def register(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="write datasets as image folders")
    data_sub = data.add_subparsers(dest="dataset", required=True, metavar="DATASET")
    emoji = data_sub.add_parser("emoji", help="write the emoji of one style as PNG files")
    emoji.add_argument("--style", choices=["google", "twitter"], required=True)
    emoji.add_argument("--size", type=positive_int, default=32, help="image side in pixels (default: 32)")
    emoji.add_argument("--source", help="local copy: the emoji folder, or an npm-pack tarball (needed above 32 px)")
    emoji.add_argument("--out", required=True)
    add_json(emoji)
    emoji.set_defaults(func=cmd_data_emoji)
