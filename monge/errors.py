"""monge's errors: every error a user can cause is a :class:`MongeError`.

The command line prints a ``MongeError`` as one line and exits with status 2; any other exception
is a bug and keeps its traceback. Library messages name the parameter or file at fault (``lr``,
``data/a.png``), never a command-line flag; the CLI translates parameter names into flags.
"""

from __future__ import annotations


class MongeError(Exception):
    """A user error: bad input, a missing file, an invalid option. The message says what and where."""


class ConfigError(MongeError, ValueError):
    """An invalid configuration value: ``ConfigError("lr", "-1 is not positive")``.

    ``param`` is the parameter's name (or the file at fault); the CLI shows it as its flag."""

    def __init__(self, param: str, message: str):
        super().__init__(f"{param}: {message}")
        self.param, self.message = param, message


class DataError(MongeError, ValueError):
    """Unreadable or unusable input data; the message names the file."""


class WeightsNotFound(MongeError, FileNotFoundError):
    """A weights file is not on this machine; the message says where to put it."""


class DivergenceError(MongeError, RuntimeError):
    """A loss became NaN or infinite; the weights were not updated with it."""


class MissingExtra(MongeError, ImportError):
    """An optional dependency is not installed; the message names the ``pip install`` that adds it."""


def import_extra(module: str, extra: str, purpose: str):
    """Import ``module`` of the optional ``extra``, or raise :class:`MissingExtra` saying what to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"{purpose} needs the '{extra}' extra: pip install 'monge[{extra}]'") from None
