"""Threads that follow the machine's load: as many as the CPUs that other processes leave free.

Why: torch starts one OpenMP thread per CPU. Alone, threads that spin between parallel regions
are fastest (threads that sleep at once made a 2-core EPYC's map update 25-35 % slower); but two
jobs whose threads spin on the same cores steal each other's time, and each ran 3.5-4x slower than
alone (``benchmarks/contention.py``). A :class:`ThreadGovernor` watches, every ``interval`` seconds,
how long this process's threads waited for a CPU (the kernel's run delay, ``/proc/self/task/*/
schedstat``) and how much of the CPUs it may use stood idle (``/proc/stat``): it gives up a thread
when its threads waited more than ``wait_share`` of the time, and takes one back when a whole CPU
stood idle. Two governed jobs on 2 cores settle at one thread each; one alone keeps both.

The ``monge`` command installs one (:func:`govern_threads`) unless the user fixed the thread count;
the long loops (NOT's steps, the warm start, STROTSS) call :func:`adapt_threads` once per step,
which does nothing when no governor is installed (the Python API leaves threads alone). Where no
governor runs, the command makes OpenMP's threads sleep as soon as they run out of work
(:func:`plan_threads`): slower alone, but two jobs then run about 1.8x slower each, not 3.5x.
This module imports torch only when a governor is made, so the plan comes before torch loads.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

PROC = Path("/proc")


def _run_delay_ns() -> int:
    """Nanoseconds this process's threads have spent runnable but waiting for a CPU, summed."""
    total = 0
    for task in (PROC / "self" / "task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):  # a thread that ended meanwhile
            continue
    return total


def _idle_seconds(cpus: set[int]) -> float:
    """Seconds that ``cpus`` have been idle since boot, summed (idle + iowait of /proc/stat)."""
    ticks = 0
    for line in (PROC / "stat").read_text().splitlines():
        name, *fields = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
            ticks += int(fields[3]) + int(fields[4])
    return ticks / os.sysconf("SC_CLK_TCK")


class ThreadGovernor:
    """Keeps torch's intra-op thread count between 1 and ``max_threads`` (default: the CPUs this
    process may use), following the load of the machine; see the module's docstring."""

    def __init__(self, max_threads: int | None = None, interval: float = 1.0, wait_share: float = 0.25):
        import torch

        from .engine import available_cpus

        self.max_threads = max_threads or available_cpus()
        self.interval, self.wait_share = interval, wait_share
        self.cpus = os.sched_getaffinity(0)
        self.changes: list[tuple[float, int]] = []  # (monotonic time, new thread count)
        torch.set_num_threads(self.max_threads)
        self._mark()

    def _mark(self) -> None:
        self.since, self.delay, self.idle = time.monotonic(), _run_delay_ns(), _idle_seconds(self.cpus)

    def step(self) -> int:
        """Look at the last interval (if one has passed) and adjust; the thread count now in use."""
        import torch

        current = torch.get_num_threads()
        elapsed = time.monotonic() - self.since
        if elapsed < self.interval:
            return current
        waited = (_run_delay_ns() - self.delay) / 1e9 / elapsed / current  # per thread, a share of the time
        idle = (_idle_seconds(self.cpus) - self.idle) / elapsed  # CPUs' worth standing idle
        wanted = current
        if waited > self.wait_share and current > 1:
            wanted = current - 1
        elif idle > 0.75 and current < self.max_threads:
            wanted = current + 1
        if wanted != current:
            torch.set_num_threads(wanted)
            self.changes.append((time.monotonic(), wanted))
        self._mark()  # each decision reads a fresh interval, none straddles a change
        return wanted


_governor: ThreadGovernor | None = None


def can_govern() -> bool:
    """Whether this system reports per-thread run delays and per-CPU idle time (Linux with schedstat)."""
    return (PROC / "self" / "schedstat").is_file() and (PROC / "stat").is_file() and hasattr(os, "sched_getaffinity")


def plan_threads(threads: int | None) -> bool:
    """Call before torch loads: whether this process will govern its threads (no count fixed by
    ``threads`` or ``OMP_NUM_THREADS``, and :func:`can_govern`). Where it will not, OpenMP's threads
    are told to sleep when idle (``OMP_WAIT_POLICY=PASSIVE``), unless the user chose a policy."""
    governed = threads is None and "OMP_NUM_THREADS" not in os.environ and can_govern()
    if not governed:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return governed


def govern_threads(max_threads: int | None = None, interval: float = 1.0) -> ThreadGovernor | None:
    """Install the process's governor (None where :func:`can_govern` is false); returns it."""
    global _governor
    _governor = ThreadGovernor(max_threads, interval) if can_govern() else None
    return _governor


@contextlib.contextmanager
def governing(enabled: bool = True) -> Iterator[ThreadGovernor | None]:
    """A governor for the block (none when not ``enabled``); after it, none, and the thread count
    found before it: a command run in-process (a test, a notebook) leaves no governor behind."""
    global _governor
    if not enabled:
        yield None
        return
    import torch

    before = torch.get_num_threads()
    try:
        yield govern_threads()
    finally:
        _governor = None
        torch.set_num_threads(before)


def adapt_threads() -> int:
    """One governor step where one is installed; the thread count in use."""
    if _governor is not None:
        return _governor.step()
    import torch

    return torch.get_num_threads()
