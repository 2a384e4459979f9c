"""Wall time of one STROTSS run on ../shared/data/style (content c1, the first style image), and
optionally the same run with the code of another checkout, side by side, with how far apart the
two results are.

python benchmarks/style_speed.py --size 256 --scales 3 --precision auto
python benchmarks/style_speed.py --size 512 --scales 4
git worktree add /tmp/ee87729 ee87729
python benchmarks/style_speed.py --size 256 --scales 3 --compare /tmp/ee87729 --repeats 2

Each run is a fresh process (the same interpreter, ``PYTHONPATH`` set to the checkout), and with
``--compare`` the two checkouts alternate, so that both meet the same machine. Each result is scored
by this checkout's ``style_distance`` (relaxed EMD to the style image) and ``content_distance``
(self-similarity loss to the content), the measures the method optimises.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from monge.data.images import load_image
from monge.engine import cpu_name
from monge.style.hypercolumns import make_extractor
from monge.style.objective import content_distance, style_distance

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "style"

# one run in a fresh process; older checkouts kept stylize in monge.style and lack some options
RUN = """
import json, sys, time, inspect, torch
try:
    from monge.style.strotss import stylize
    from monge.data.images import load_image
except ImportError:  # checkouts before the layout by concern
    from monge.style import stylize
    from monge.data import load_image
from monge.engine import tune_cpu_allocator
args = json.loads(sys.argv[1])
tune_cpu_allocator()
content, style = load_image(args.pop("content")), load_image(args.pop("style"))
out = args.pop("out")
args = {k: v for k, v in args.items() if k in inspect.signature(stylize).parameters}
t0, c0 = time.perf_counter(), time.process_time()
result = stylize(content, style, progress=False, **args)
seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
torch.save(result.image, out)
import monge
code = monge.__file__
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "final_losses": result.history[-1], "code": code}))
"""


def in_checkout(checkout: Path, code: str, job: dict) -> dict:
    """Run ``code`` with ``checkout``'s monge in a fresh process (from inside the checkout: ``-c`` puts the
    working directory first on the path); its last line of output, as JSON, which must name the
    monge module it imported (``code``)."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(job)],
        env=env,
        cwd=checkout,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"{checkout}: the run failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if not Path(result["code"]).resolve().is_relative_to(checkout.resolve()):
        raise SystemExit(f"{checkout}: the run imported monge from {result['code']}, not from the checkout")
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--scales", type=int, default=3)
    p.add_argument("--steps", type=int, default=250)
    p.add_argument("--precision", default="auto")
    p.add_argument("--search-every", type=int, default=None, help="this checkout's stylize option (default: its own)")
    p.add_argument("--content", default=None, help="default: the first image of ../shared/data/style/content")
    p.add_argument("--style", default=None, help="default: the first image of ../shared/data/style/style")
    p.add_argument("--compare", type=Path, default=None, help="another checkout (e.g. a worktree of ee87729)")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--json", action="store_true", help="print one JSON object only")
    args = p.parse_args()
    content = args.content or str(sorted((DATA / "content").glob("*"))[0])
    style = args.style or str(sorted((DATA / "style").glob("*"))[0])
    job = dict(content=content, style=style, size=args.size, scales=args.scales, steps=args.steps)
    job["precision"] = args.precision
    checkouts = {"this": ROOT, **({"compare": args.compare.resolve()} if args.compare else {})}
    times: dict[str, list[float]] = {name: [] for name in checkouts}
    cpu_times: dict[str, list[float]] = {name: [] for name in checkouts}
    losses: dict[str, dict] = {}
    extractor = make_extractor("effnet-lite0").eval()
    scores: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            for name, checkout in checkouts.items():
                extra = {"search_every": args.search_every} if name == "this" and args.search_every else {}
                out = Path(tmp) / f"{name}.pt"
                done = in_checkout(checkout, RUN, {**job, **extra, "out": str(out)})
                times[name].append(round(done["seconds"], 1))
                cpu_times[name].append(round(done["cpu_seconds"], 1))
                losses[name] = {k: round(v, 4) for k, v in done["final_losses"].items()}
                if r == 0:
                    image = torch.load(out)
                    scores[name] = {
                        "style_distance": round(style_distance(image, load_image(style), extractor), 4),
                        "content_distance": round(content_distance(image, load_image(content), extractor), 4),
                    }
        images = {name: torch.load(Path(tmp) / f"{name}.pt") for name in checkouts}
    report = {
        "cpu": cpu_name(),
        "threads": torch.get_num_threads(),
        **{k: v for k, v in vars(args).items() if k not in ("compare", "json")},
        "compare": str(args.compare) if args.compare else None,
        "seconds": times,
        "median_seconds": {name: statistics.median(t) for name, t in times.items()},
        "cpu_seconds": cpu_times,  # CPU time of the run's process: steadier than wall time on a busy machine
        "median_cpu_seconds": {name: statistics.median(t) for name, t in cpu_times.items()},
        "final_losses": losses,
        "scores": scores,
    }
    if args.compare:
        report["speedup"] = round(report["median_seconds"]["compare"] / report["median_seconds"]["this"], 2)
        medians = report["median_cpu_seconds"]
        report["cpu_time_speedup"] = round(medians["compare"] / medians["this"], 2)
        report["mean_abs_pixel_difference"] = round(float((images["this"] - images["compare"]).abs().mean()), 4)
    if not args.json:
        for name in checkouts:
            print(f"{name:8s} {checkouts[name]}: {times[name]} s ({cpu_times[name]} s CPU), scores {scores[name]}")
        if args.compare:
            print(
                f"speedup {report['speedup']}x wall, {report['cpu_time_speedup']}x CPU time; "
                f"mean |difference| {report['mean_abs_pixel_difference']} (of 2)"
            )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
