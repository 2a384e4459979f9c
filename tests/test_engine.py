"""Process-level settings of monge.engine: the CPU allocator tuning that the CLI applies, the precision."""

import platform
import resource

import pytest
import torch

from monge.engine import tune_cpu_allocator

MALLOC_VARIABLES = ("MONGE_TUNE_MALLOC", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "LD_PRELOAD")


@pytest.mark.parametrize(
    "name, value",
    [
        ("MONGE_TUNE_MALLOC", "0"),
        ("MALLOC_TRIM_THRESHOLD_", "0"),
        ("LD_PRELOAD", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"),
    ],
)
def test_allocator_tuning_leaves_a_users_choice_alone(monkeypatch, name, value):
    for var in MALLOC_VARIABLES:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(name, value)
    assert tune_cpu_allocator() is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_tuned_allocator_reuses_freed_tensor_memory(monkeypatch):
    for var in MALLOC_VARIABLES:
        monkeypatch.delenv(var, raising=False)
    assert tune_cpu_allocator() is True
    page_faults = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_minflt  # noqa: E731

    def step() -> int:  # two 64 MiB tensors: glibc's default mmaps each afresh and unmaps it on free
        before = page_faults()
        x = torch.ones(16 * 2**20)
        float((x * 2).sum())
        return page_faults() - before

    for _ in range(10):  # the heap grows and its free blocks coalesce for a few steps
        step()
    # Untuned, every step faults in all 32,768 pages again (655,400 over 20 steps, measured); tuned,
    # 0 in a fresh process and one stray 64 MiB block (16,384) inside the test session. Ask for 10x.
    assert sum(step() for _ in range(20)) < 20 * 32768 / 10


@pytest.mark.parametrize("fast", [True, False])
def test_auto_precision_computes_in_bf16_only_where_it_is_fast(monkeypatch, fast):
    from monge.engine import make_fabric

    monkeypatch.setattr("monge.engine.fast_bf16", lambda device: fast)
    fabric = make_fabric("cpu", precision="auto")
    with fabric.autocast():
        out = torch.nn.Linear(4, 4)(torch.randn(2, 4))
    assert out.dtype == (torch.bfloat16 if fast else torch.float32)
