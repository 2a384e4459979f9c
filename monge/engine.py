"""Devices, mixed precision and data parallelism, through Lightning Fabric; the CPU allocator.

Why Fabric (and not Accelerate or a home-made DDP loop): NOT is a hand-written max-min loop with
two models and two optimisers, k map updates per potential update and each net frozen in turn.
Fabric wraps models and optimisers (DDP, precision plugins, launchers for several processes or
nodes) and leaves that loop to us; it is a small pure-Python package with no trainer to fight.

Conventions used across monge:

- ``batch_size`` is the *global* batch. Every rank draws the same global indices from the same
  seeded generator and keeps its slice ``[rank::world]``, so a run on N devices sees exactly the
  data of a single-device run, and the data RNG state resumes identically on every rank.
- Evaluation, grids, logs and checkpoints happen on rank 0 only.
"""

from __future__ import annotations

import ctypes
import os
import platform

import torch

from .errors import ConfigError

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
ALLOCATOR_KEEP_BYTES = 1 << 30


def tune_cpu_allocator(keep_bytes: int = ALLOCATOR_KEEP_BYTES) -> bool:
    """Let glibc's malloc reuse freed tensor memory instead of returning it to the OS at once.

    By default glibc serves large blocks (most activations) with fresh ``mmap`` pages and unmaps
    them on free, so every step pays page faults for memory it just released. On a 2-core CPU
    that made ``monge demo`` 10 % slower and feature encoding 2.6x slower (``benchmarks/README.md``).
    This raises the mmap and trim thresholds to ``keep_bytes`` for the whole process, as
    ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` would; peak resident memory may grow by
    up to that much. The ``monge`` CLI calls it; the Python API leaves the process alone unless you
    call it. Does nothing, and returns False, off glibc, when ``MONGE_TUNE_MALLOC=0``, or when the
    user already chose (those variables, or a malloc in ``LD_PRELOAD`` such as jemalloc or tcmalloc).
    """
    env = os.environ
    if (
        env.get("MONGE_TUNE_MALLOC") == "0"
        or "MALLOC_MMAP_THRESHOLD_" in env
        or "MALLOC_TRIM_THRESHOLD_" in env
        or "malloc" in env.get("LD_PRELOAD", "")
        or platform.libc_ver()[0] != "glibc"
    ):
        return False
    libc = ctypes.CDLL("libc.so.6")
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, keep_bytes) and libc.mallopt(_M_TRIM_THRESHOLD, keep_bytes))


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` where a CUDA GPU is visible, else ``mps`` on Apple silicon, else ``cpu``;
    any other name is returned as given, but a device this machine lacks (CUDA on a CPU build, or no
    GPU visible) is refused by name."""
    if device != "auto":
        kind = device.split(":")[0]
        if kind == "cuda" and not torch.cuda.is_available():
            raise ConfigError("device", f"{device}: this PyTorch has no CUDA, or sees no GPU; use cpu or auto")
        if kind == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise ConfigError("device", f"{device}: Apple's MPS is not available here; use cpu or auto")
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def available_cpus() -> int:
    """The CPUs this process may use: its affinity mask, capped by a cgroup CPU quota (containers)."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()
        if quota != "max":
            count = min(count, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, count)


def set_threads(threads: int | None = None) -> int:
    """Use ``threads`` intra-op threads (default: :func:`available_cpus`, unless ``OMP_NUM_THREADS``
    is set); returns the number in use."""
    if threads is not None and threads < 1:
        raise ConfigError("threads", f"{threads} is not positive")
    if threads is None and "OMP_NUM_THREADS" in os.environ:
        return torch.get_num_threads()
    torch.set_num_threads(threads or available_cpus())
    return torch.get_num_threads()


PRECISIONS = {"32": "32-true", "32-true": "32-true", "bf16-mixed": "bf16-mixed", "16-mixed": "16-mixed"}


def fast_bf16(device: torch.device | str) -> bool:
    """Whether ``device`` computes in bfloat16 faster than in float32: CUDA with bf16, or a CPU
    whose oneDNN has bf16 kernels (AMX or AVX512-BF16)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return (
        device.type == "cpu"
        and torch.backends.mkldnn.is_available()
        and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    )


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """``auto``: bf16-mixed where :func:`fast_bf16`, else 32; any other value unchanged."""
    if precision != "auto":
        return precision
    return "bf16-mixed" if fast_bf16(device) else "32"


def make_fabric(
    device: str = "cpu", devices: int = 1, num_nodes: int = 1, precision: str = "32", strategy: str = "auto"
):
    """A launched :class:`lightning_fabric.Fabric` for ``device`` (cpu, cuda, cuda:1, mps).

    ``devices`` > 1 or ``num_nodes`` > 1 selects DDP (gloo on CPU, NCCL on CUDA); the other ranks
    are started by re-running the current command, as with ``torchrun``.
    """
    from lightning_fabric import Fabric

    accelerator, _, index = device.partition(":")
    if accelerator not in ("cpu", "cuda", "mps"):
        raise ConfigError("device", f"{device!r} is not cpu, cuda, cuda:N or mps")
    precision = resolve_precision(precision, accelerator)  # judged on the device that computes
    if precision not in PRECISIONS:
        raise ConfigError("precision", f"{precision!r} is not one of auto, 32, bf16-mixed, 16-mixed")
    if accelerator == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", f"{device}: CUDA is not available on this machine")
    if index and devices > 1:
        raise ConfigError("device", f"{device} names one GPU; use cuda with {devices} devices")
    if precision == "16-mixed" and accelerator != "cuda":
        raise ConfigError("precision", f"16-mixed needs a CUDA device (got {device}); use bf16-mixed")
    if strategy == "auto" and (devices > 1 or num_nodes > 1):
        strategy = "ddp"
    fabric = Fabric(
        accelerator=accelerator,
        devices=[int(index)] if index else devices,
        num_nodes=num_nodes,
        precision=PRECISIONS[precision],  # type: ignore[arg-type]  # a checked key of PRECISIONS
        strategy=strategy,
    )
    fabric.launch()
    return fabric


def cpu_name() -> str:
    """This CPU's model and its bf16 matrix support, which decides the bf16-mixed rows (Linux only)."""
    try:
        info = open("/proc/cpuinfo").read()
    except OSError:
        return "CPU"
    fields: dict[str, str] = {}
    for line in info.splitlines():  # the first core's entry of each field
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    isa = "AMX" if "amx_bf16" in flags else "AVX512-BF16" if "avx512_bf16" in flags else "no bf16 ISA"
    return f"{fields.get('model name', 'CPU')} ({isa})"
