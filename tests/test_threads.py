"""The thread governor: fewer threads while other processes keep the CPUs busy, all of them back after."""

import json
import os
import subprocess
import sys
import time

import pytest
import torch

import monge.threads as threads
from monge.engine import available_cpus


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)
    threads._governor = None


class FakeProc:
    """Readings a test controls: the clock, this process's run delay and the CPUs' idle time."""

    def __init__(self, monkeypatch):
        self.now, self.delay_ns, self.idle_s = 0.0, 0, 0.0
        monkeypatch.setattr(threads.time, "monotonic", lambda: self.now)
        monkeypatch.setattr(threads, "_run_delay_ns", lambda: self.delay_ns)
        monkeypatch.setattr(threads, "_idle_seconds", lambda cpus: self.idle_s)

    def advance(self, seconds: float, waited_per_thread: float, idle_cpus: float) -> None:
        self.now += seconds
        self.delay_ns += int(waited_per_thread * seconds * torch.get_num_threads() * 1e9)
        self.idle_s += idle_cpus * seconds


def test_governor_gives_up_threads_under_contention_and_takes_them_back(monkeypatch, restore_threads):
    proc = FakeProc(monkeypatch)
    governor = threads.ThreadGovernor(max_threads=4, interval=1.0)
    assert torch.get_num_threads() == 4
    proc.advance(0.5, waited_per_thread=0.9, idle_cpus=0)
    assert governor.step() == 4  # less than an interval: no decision yet
    for expected in (3, 2, 1, 1):  # threads that wait half the time for a CPU: one fewer per interval, down to 1
        proc.advance(1.0, waited_per_thread=0.5, idle_cpus=0)
        assert governor.step() == expected == torch.get_num_threads()
    proc.advance(1.0, waited_per_thread=0.1, idle_cpus=0.2)  # a little waiting, no whole CPU idle: stay
    assert governor.step() == 1
    for expected in (2, 3, 4, 4):  # a whole CPU idle each interval: one more, up to the maximum
        proc.advance(1.0, waited_per_thread=0.0, idle_cpus=1.0)
        assert governor.step() == expected
    assert [n for _, n in governor.changes] == [3, 2, 1, 2, 3, 4]


def test_plan_threads_sleeps_idle_openmp_threads_only_where_nothing_governs(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "can_govern", lambda: True)
    assert threads.plan_threads(None) is True
    assert "OMP_WAIT_POLICY" not in os.environ  # governed: threads may spin, they are never oversubscribed
    assert threads.plan_threads(2) is False  # a fixed count: nothing adapts, so idle threads sleep
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert threads.plan_threads(None) is False
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"  # the user's own choice wins


def test_adapt_threads_without_a_governor_leaves_the_count_alone(restore_threads):
    threads._governor = None
    torch.set_num_threads(1)
    assert threads.adapt_threads() == 1 == torch.get_num_threads()


BUSY = "import time\nend = time.time() + float(__import__('sys').argv[1])\nwhile time.time() < end: pass\n"


@pytest.mark.skipif(not threads.can_govern() or available_cpus() < 2, reason="needs Linux schedstat and 2 CPUs")
def test_real_busy_processes_make_the_governor_back_off(restore_threads):
    """Against the kernel's own counters: as many busy processes as CPUs push it to one thread; once
    they end, it takes the CPUs back. Deadlines are generous: this checks direction, not speed."""
    cpus = available_cpus()
    affinity = os.sched_getaffinity(0)
    idle_before = threads._idle_seconds(affinity)
    time.sleep(0.5)
    if (threads._idle_seconds(affinity) - idle_before) / 0.5 < cpus - 0.5:
        pytest.skip("the machine is busy already: the governor would rightly keep fewer threads")
    governor = threads.ThreadGovernor(interval=0.3)
    x = torch.randn(256, 256)

    def work_until(condition, deadline: float) -> bool:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            for _ in range(20):
                x @ x  # threaded work, as a training step would do
            if condition(governor.step()):
                return True
        return False

    hogs = [subprocess.Popen([sys.executable, "-c", BUSY, "30"]) for _ in range(cpus)]
    try:
        assert work_until(lambda n: n == 1, 20), f"still {torch.get_num_threads()} threads beside {cpus} busy ones"
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert work_until(lambda n: n == cpus, 20), f"only {torch.get_num_threads()} of {cpus} threads back"


WIRING = """
import json, os, sys
import monge.cli.data as data_command
import monge.threads as threads
from monge.cli.main import main
seen = {}
write_emoji = data_command.cmd_data_emoji
def spy(args):  # the command's own view, while it runs
    seen["governed"] = threads._governor is not None
    write_emoji(args)
data_command.cmd_data_emoji = spy
code = main(sys.argv[1:])
after = threads._governor is not None
print(json.dumps({"code": code, **seen, "after": after, "policy": os.environ.get("OMP_WAIT_POLICY")}))
"""


@pytest.mark.parametrize("fixed", [False, True])
def test_the_monge_command_governs_unless_the_thread_count_is_fixed(tmp_path, fixed):
    """In a fresh process, as OpenMP reads its wait policy once, when torch loads."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    args = [*(["--threads", "1"] if fixed else []), "data", "emoji", "--style", "google", "--size", "16"]
    done = subprocess.run(
        [sys.executable, "-c", WIRING, *args, "--out", str(tmp_path / "e")], env=env, capture_output=True, text=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] == 0
    governs = threads.can_govern() and not fixed
    assert result["governed"] is governs
    assert result["after"] is False  # an in-process command leaves no governor behind
    assert result["policy"] == (None if governs else "PASSIVE")
