"""Where the time goes: the top operators of a cpu-preset T-step and of a STROTSS step, by self CPU time.

    python benchmarks/where_time_goes.py                 # both, on this machine's CPU
    python benchmarks/where_time_goes.py --what style --size 256

Runs ``torch.profiler`` over a few steps after warm-up and prints, per workload, the operators that
take the most self CPU time with their share of the total. Shares stay meaningful on a busy machine,
where absolute times do not.
"""

import argparse
import json

import torch
from torch.profiler import ProfilerActivity, profile

from monge.engine import cpu_name


def _top(prof, n: int) -> list[dict]:
    events = [e for e in prof.key_averages() if e.self_cpu_time_total > 0]
    total = sum(e.self_cpu_time_total for e in events)
    events.sort(key=lambda e: e.self_cpu_time_total, reverse=True)
    return [{"op": e.key, "share": round(e.self_cpu_time_total / total, 3), "calls": e.count} for e in events[:n]]


def t_step(steps: int, n: int) -> list[dict]:
    from monge.engine import make_fabric
    from monge.train.config import TrainConfig
    from monge.train.factory import build_solver

    cfg = TrainConfig(source="-", target="-", preset="cpu", batch_size=64, device="cpu")
    torch.manual_seed(0)
    solver = build_solver(cfg, make_fabric("cpu"))
    x = torch.rand(64, 3, cfg.size, cfg.size) * 2 - 1
    solver.t_update(x)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            solver.t_update(x)
    return _top(prof, n)


def style_step(size: int, steps: int, n: int) -> list[dict]:
    from monge.style.strotss import stylize

    y, x = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    content = torch.stack([x, y, x * y])
    style = torch.stack([torch.sin(8 * x), torch.cos(8 * y), x])
    stylize(content, style, size=size, scales=1, steps=2, progress=False)  # warm-up
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        stylize(content, style, size=size, scales=1, steps=steps, progress=False)
    return _top(prof, n)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--what", choices=["t-step", "style", "both"], default="both")
    p.add_argument("--size", type=int, default=256, help="STROTSS long side")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--top", type=int, default=12)
    args = p.parse_args()
    result = {"cpu": cpu_name(), "threads": torch.get_num_threads()}
    if args.what in ("t-step", "both"):
        result["t-step (cpu preset, 32 px, batch 64)"] = t_step(args.steps, args.top)
    if args.what in ("style", "both"):
        result[f"STROTSS step ({args.size} px, one scale)"] = style_step(args.size, args.steps, args.top)
    for name, rows in result.items():
        if isinstance(rows, list):
            print(f"\n{name}, {result['cpu']} x{result['threads']}\n")
            print("| operator | self CPU share | calls |\n|---|---|---|")
            for r in rows:
                print(f"| `{r['op']}` | {r['share']:.1%} | {r['calls']} |")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
