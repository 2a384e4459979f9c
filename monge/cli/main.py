"""The ``monge`` command line: one module per group of commands, each a thin wrapper over the library.

Every command that prints a result accepts ``--json`` and then prints one JSON object as the last
line of stdout. A user error (a :class:`~monge.errors.MongeError`) prints one line naming the file
or flag at fault and exits 2; anything else is a bug and shows its traceback (as does every error
with ``--traceback``).
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from ..errors import ConfigError, MongeError
from . import apply, bench, data, metrics, style, train
from .common import flag


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="monge", description="Optimal-transport image translation.")
    parser.add_argument("--version", action="version", version=f"monge {__version__}")
    parser.add_argument("--traceback", action="store_true", help="show the full traceback of any error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (data, train, apply, bench, style, metrics):
        module.register(sub)
    return parser


def error_line(command: str, err: MongeError) -> str:
    """One line for a user error; a configuration parameter is named by its flag."""
    if isinstance(err, ConfigError):
        return f"monge {command}: error: {flag(err.param)}: {err.message}"
    return f"monge {command}: error: {err}"


def main(argv: list[str] | None = None) -> int:
    from ..engine import tune_cpu_allocator

    args = build_parser().parse_args(argv)
    tune_cpu_allocator()
    try:
        args.func(args)
    except MongeError as err:
        if args.traceback:
            raise
        print(error_line(args.command, err), file=sys.stderr)
        return 2
    return 0
