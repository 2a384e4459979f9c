"""``monge ui``: serve the web app (style transfer with painted masks, translation with a trained map)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError, import_extra


def cmd_ui(args: argparse.Namespace) -> None:
    import_extra("gradio", "ui", "the web app")
    from ..ui.app import serve

    if not 0 < args.port < 65536:
        raise ConfigError("port", f"{args.port} is not a TCP port (1-65535)")
    print(f"monge ui: serving on http://{args.host}:{args.port} (Ctrl-C stops it)", flush=True)
    if not Path(args.runs_root).is_dir():
        raise ConfigError("runs_root", f"{args.runs_root}: no such folder")
    serve(args.host, args.port, args.workdir, args.examples, args.runs_root)


def register(sub: argparse._SubParsersAction) -> None:
    ui = sub.add_parser("ui", help="the web app: style transfer with painted masks, translation with a trained map")
    ui.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0 serves other machines too)")
    ui.add_argument("--port", type=int, default=7860)
    ui.add_argument("--workdir", help="folder for each job's files (default: a new temporary folder)")
    ui.add_argument("--examples", help="a folder with content/ and style/ images to offer as examples")
    ui.add_argument(
        "--runs-root",
        default=".",
        help="the translation tab opens only run, stack and map folders inside this one (default: the current folder)",
    )
    ui.set_defaults(func=cmd_ui)
