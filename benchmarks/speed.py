"""Training and inference speed of NOT on one device.

    python benchmarks/speed.py                         # this machine's CPU, both presets, 32/64/128 px
    python benchmarks/speed.py --device cuda --precision bf16-mixed --channels-last

Each configuration runs in its own process (so peak memory is its own): T-step and f-step times
(the median of ``--repeats`` after warm-up), T-steps/s, translation images/s (``solver.map`` at
batch 64) and peak memory (CUDA: max allocated; CPU: the process's peak resident set). Feature
encoding images/s (EfficientNet-Lite0 at 128 px, batch 64) is measured once. Prints a markdown
table and, with ``--json``, one JSON object per row.
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import torch

from monge.engine import cpu_name


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn, device: torch.device, warmup: int, repeats: int) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        _sync(device)
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def one(args) -> dict:
    """Time one (preset, size, batch) configuration in this process."""
    from monge.engine import make_fabric
    from monge.train.config import TrainConfig
    from monge.train.factory import build_solver

    cfg = TrainConfig(
        source="-",
        target="-",
        preset=args.preset,
        size=args.size,
        batch_size=args.batch,
        device=args.device,
        precision=args.precision,
        channels_last=args.channels_last,
        compile=args.compile,
    )
    fabric = make_fabric(cfg.device, precision=cfg.precision)
    if fabric.device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    solver = build_solver(cfg, fabric)
    device = fabric.device
    x = torch.rand(args.batch, 3, args.size, args.size, device=device) * 2 - 1
    y = torch.rand(args.batch, 3, args.size, args.size, device=device) * 2 - 1
    warmup = 3 if args.compile else 1

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    t = _timed(lambda: solver.t_update(x), device, warmup, args.repeats)
    f = _timed(lambda: solver.f_update(x, y), device, warmup, args.repeats)
    images = torch.rand(256 if args.size <= 64 else 64, 3, args.size, args.size) * 2 - 1
    translate = _timed(lambda: solver.map(images, batch_size=64), device, 1, max(1, args.repeats // 2))
    peak = (
        torch.cuda.max_memory_allocated(device)
        if device.type == "cuda"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    ) / 2**20
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{cpu_name()} x{torch.get_num_threads()}"
    return {
        "device": name,
        "malloc_tuned": args.malloc_tuned,
        "preset": args.preset,
        "size": args.size,
        "batch": args.batch,
        "precision": args.precision,
        "channels_last": args.channels_last,
        "compile": args.compile,
        "T_step_s": round(t, 4),
        "f_step_s": round(f, 4),
        "T_steps_per_s": round(1 / t, 2),
        "f_steps_per_s": round(1 / f, 2),
        "outer_step_s": round(cfg.t_steps * t + f, 3),
        "translate_img_per_s": round(len(images) / translate, 1),
        "peak_MiB": round(peak),
    }


def encoding_speed(device: str, repeats: int) -> float:
    from monge.backbones.effnet import EffNetLite0

    net = EffNetLite0().to(device)
    images = torch.rand(256, 3, 32, 32) * 2 - 1
    seconds = _timed(lambda: net.encode(images, batch_size=64), torch.device(device), 1, repeats)
    return len(images) / seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--presets", nargs="+", default=["cpu", "paper"])
    p.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128])
    p.add_argument("--batches", type=int, nargs="+", default=[32, 64])
    p.add_argument("--precision", default="32")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--compile", action="store_true")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", action="store_true")
    p.add_argument("--one", nargs=3, metavar=("PRESET", "SIZE", "BATCH"), help=argparse.SUPPRESS)
    args = p.parse_args()
    from monge.engine import tune_cpu_allocator

    args.malloc_tuned = tune_cpu_allocator()  # as the monge CLI does; MONGE_TUNE_MALLOC=0 for the default
    if args.one:
        args.preset, args.size, args.batch = args.one[0], int(args.one[1]), int(args.one[2])
        print(json.dumps(one(args)))
        return
    flags = (
        ["--device", args.device, "--precision", args.precision, "--repeats", str(args.repeats)]
        + (["--channels-last"] if args.channels_last else [])
        + (["--compile"] if args.compile else [])
    )
    rows = []
    print(
        "| device | preset | px | batch | precision | T-step (s) | f-step (s) | T-steps/s | outer step (s) | "
        "translate img/s | peak MiB |\n|---|---|---|---|---|---|---|---|---|---|---|",
        flush=True,
    )
    for preset in args.presets:
        for size in args.sizes:
            for batch in args.batches:
                done = subprocess.run(
                    [sys.executable, __file__, "--one", preset, str(size), str(batch), *flags],
                    capture_output=True,
                    text=True,
                )
                if done.returncode != 0:
                    print(
                        f"| {args.device} | {preset} | {size} | {batch} | failed: "
                        f"{done.stderr.strip().splitlines()[-1][:120]} |",
                        flush=True,
                    )
                    continue
                r = json.loads(done.stdout.strip().splitlines()[-1])
                rows.append(r)
                print(
                    f"| {r['device']} | {preset} | {size} | {batch} | {r['precision']}"
                    f"{' CL' if r['channels_last'] else ''}{' compiled' if r['compile'] else ''}"
                    f"{' default malloc' if not r['malloc_tuned'] else ''} | {r['T_step_s']} | "
                    f"{r['f_step_s']} | {r['T_steps_per_s']} | {r['outer_step_s']} | {r['translate_img_per_s']} | "
                    f"{r['peak_MiB']} |",
                    flush=True,
                )
    enc = encoding_speed(args.device, args.repeats)
    print(f"\nfeature encoding (EfficientNet-Lite0 at 128 px, batch 64): {enc:.0f} images/s on {args.device}")
    if args.json:
        for r in rows:
            print(json.dumps(r))
        print(json.dumps({"encoding_img_per_s": round(enc, 1), "rows": len(rows)}))


if __name__ == "__main__":
    main()
