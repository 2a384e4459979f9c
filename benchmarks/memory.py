"""Resident memory of NOT training against dataset size (HDF5, streamed).

    python benchmarks/memory.py --sizes 1000 100000

Writes uint8 HDF5 files of N random 32 px images per domain, then in a fresh process per N opens
both domains, splits them, builds the training samplers exactly as ``monge train`` does and runs
``--steps`` NOT steps (cpu preset, no evaluation), and reports the peak resident memory of the
process and of its largest DataLoader worker. A split larger than ``--cache-mb`` is streamed batch
by batch from the file, so the peak should not grow with N beyond the file lists.
"""

import argparse
import gc
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np


def make_h5(path: Path, n: int, size: int = 32, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as f:
        d = f.create_dataset("imgs", (n, size, size, 3), dtype="uint8", chunks=(64, size, size, 3))
        for start in range(0, n, 10000):
            stop = min(n, start + 10000)
            d[start:stop] = rng.integers(0, 256, (stop - start, size, size, 3), dtype=np.uint8)


def measure(source: str, target: str, steps: int) -> dict:
    import torch

    from monge.data.sampling import image_sampler
    from monge.engine import tune_cpu_allocator
    from monge.train.config import TrainConfig
    from monge.train.factory import build_solver
    from monge.train.loop import open_splits

    tuned = tune_cpu_allocator()  # as `monge train` does; MONGE_TUNE_MALLOC=0 for glibc's default
    torch.manual_seed(0)
    cfg = TrainConfig(source=source, target=target, out=tempfile.mkdtemp(), steps=steps, test_fraction=0.01)
    t0 = time.perf_counter()
    src_train, _, tgt_train, _ = open_splits(cfg, Path(cfg.out))
    rng = torch.Generator().manual_seed(0)
    sample_x, sample_y = image_sampler(src_train, cfg, 0, rng), image_sampler(tgt_train, cfg, 1, rng)
    solver = build_solver(cfg)
    for _ in range(steps):
        solver.step(sample_x, sample_y, cfg.batch_size)
    for sampler in (sample_x, sample_y):  # stop the workers, so that their peak is counted
        getattr(sampler, "close", lambda: None)()
    gc.collect()
    return {
        "images": len(src_train),
        "malloc_tuned": tuned,
        "peak_rss_MiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "worker_peak_rss_MiB": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "streamed": len(src_train) * 3 * cfg.size**2 * 4 > cfg.cache_mb * 2**20,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 100000])
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--dir", default="runs/memory")
    p.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure, args.steps)))
        return
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.sizes:
        files = [folder / f"{dom}_{n}.h5" for dom in ("A", "B")]
        for seed, path in enumerate(files):
            if not path.exists():
                make_h5(path, n, seed=seed)
        done = subprocess.run(
            [sys.executable, __file__, "--measure", *map(str, files), "--steps", str(args.steps)],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append({"N": n, **json.loads(done.stdout.strip().splitlines()[-1])})
        print(json.dumps(rows[-1]), flush=True)
    print(
        "\n| images per domain | train images | streamed | peak RSS (MiB) | largest worker's peak RSS (MiB) |\n"
        "|---|---|---|---|---|"
    )
    for r in rows:
        print(f"| {r['N']} | {r['images']} | {r['streamed']} | {r['peak_rss_MiB']} | {r['worker_peak_rss_MiB']} |")
    print(f"\npeak RSS difference, largest - smallest: {rows[-1]['peak_rss_MiB'] - rows[0]['peak_rss_MiB']} MiB")


if __name__ == "__main__":
    main()
