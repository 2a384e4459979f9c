"""The ``monge`` command line: one module per group of commands, each a thin wrapper over the library.

Every command that prints a result accepts ``--json`` and then prints one JSON object as the last
line of stdout. A user error (a :class:`~monge.errors.MongeError`) prints one line naming the file
or flag at fault and exits 2; anything else is a bug and shows its traceback (as does every error
with ``--traceback``).
"""

from __future__ import annotations

import argparse
import signal
import sys

from .. import __version__
from ..errors import ConfigError, MongeError
from ..threads import governing, plan_threads
from . import apply, bench, data, metrics, style, train, ui
from .common import flag


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the flag (``--help`` still shows the usage)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="monge", description="Optimal-transport image translation.")
    parser.add_argument("--version", action="version", version=f"monge {__version__}")
    parser.add_argument("--traceback", action="store_true", help="show the full traceback of any error")
    parser.add_argument(
        "--threads",
        type=int,
        help="CPU threads, fixed (default: $OMP_NUM_THREADS, else up to the CPUs available to this process, "
        "fewer while other processes keep them busy)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (data, train, apply, bench, style, metrics, ui):
        module.register(sub)
    return parser


def error_line(command: str, err: MongeError) -> str:
    """One line for a user error; a configuration parameter is named by its flag."""
    if isinstance(err, ConfigError):
        return f"monge {command}: error: {flag(err.param)}: {err.message}"
    return f"monge {command}: error: {err}"


def install_signal_handlers() -> None:
    """SIGTERM unwinds like Ctrl-C (exit status 143), so pending atomic writes remove their temporary files."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    if not (sys.argv[1:] if argv is None else argv):  # bare ``monge``: the help, as git and pip print it
        parser.print_help()
        return 0
    args = parser.parse_args(argv)  # before importing torch: --help and usage errors stay fast
    governed = plan_threads(args.threads)  # OpenMP reads its wait policy when torch loads, just below
    from ..engine import set_threads, tune_cpu_allocator

    tune_cpu_allocator()
    install_signal_handlers()
    try:
        set_threads(args.threads)
        with governing(governed):
            args.func(args)
    except MongeError as err:
        if args.traceback:
            raise
        print(error_line(args.command, err), file=sys.stderr)
        return 2
    except OSError as err:  # an unwritable or vanished path met mid-run: the environment, not a bug
        if args.traceback or err.filename is None:
            raise
        print(f"monge {args.command}: error: {err.filename}: {err.strerror}", file=sys.stderr)
        return 2
    return 0
