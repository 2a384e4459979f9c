"""Two monge jobs at once on one machine: how much slower is each than alone?

    python benchmarks/contention.py                 # both OpenMP wait policies, default threads
    python benchmarks/contention.py --threads 1     # each job one thread

The job is the cpu preset's map update (32 px, batch 32: ``NOT.t_update``), timed as the median
of ``--repeats`` after warm-up, in a fresh process per job. For each OpenMP wait policy it runs
one job alone, then two started together, and reports each job's median step time and the
slowdown (two at once / alone). ``unset`` is how monge ran before 0.3 (libgomp's default: spin a
while, then sleep); ``ACTIVE`` spins without end; ``PASSIVE`` sleeps at once, and is what the
``monge`` command now sets unless the user chose. Run it on an otherwise
idle machine: a third job makes every number meaningless.

Why 2.5x is the bound to meet on 2 cores: two jobs that each use both cores can at best share
them, so each runs 2x slower than alone (the same total throughput); the other 0.5x is room for
the cost of switching between them and for caches shared between the jobs.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from monge.engine import available_cpus, cpu_name

JOB = """
import statistics, sys, time, torch
from monge.train.config import TrainConfig
from monge.train.factory import build_solver
from monge.threads import adapt_threads, govern_threads
threads, repeats, start, governed = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == "1"
if threads:
    torch.set_num_threads(threads)
if governed:
    govern_threads(threads or None)
torch.manual_seed(0)
solver = build_solver(TrainConfig(source="x", target="y"))
x = torch.rand(32, 3, 32, 32) * 2 - 1
while time.time() < start:  # both jobs of a pair begin their timed work together
    time.sleep(0.01)
for _ in range(3):
    solver.t_update(x)
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    adapt_threads()  # what monge's loops call once per step (nothing without a governor)
    solver.t_update(x)
    times.append(time.perf_counter() - t0)
print(statistics.median(times), torch.get_num_threads())
"""


def run_jobs(count: int, policy: str, threads: int, repeats: int) -> list[tuple[float, int]]:
    """Start ``count`` jobs together; their median step times (s) and thread counts."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    governed = policy == "governed"  # libgomp's default wait, threads following the load
    if policy.startswith("SPIN"):  # SPIN<n>: libgomp spins n times before it sleeps
        env["GOMP_SPINCOUNT"] = policy[4:]
    elif policy not in ("unset", "governed"):
        env["OMP_WAIT_POLICY"] = policy
    start = time.time() + 8  # imports and net building finish before the timed part
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", JOB, str(threads), str(repeats), str(start), str(int(governed))],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    results = []
    for proc in procs:
        out, _ = proc.communicate()
        median, used = out.split()
        results.append((float(median), int(used)))
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--policies",
        nargs="+",
        default=["unset", "ACTIVE", "PASSIVE"],
        help="OMP_WAIT_POLICY values; 'unset' (OpenMP's default, monge before 0.3); SPIN<n> sets GOMP_SPINCOUNT",
    )
    p.add_argument("--threads", type=int, default=0, help="threads per job (0: torch's default)")
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    rows = []
    for policy in args.policies:
        alone = run_jobs(1, policy, args.threads, args.repeats)[0]
        pair = run_jobs(2, policy, args.threads, args.repeats)
        worst = max(t for t, _ in pair)
        rows.append(
            {
                "policy": policy,
                "threads per job": alone[1],
                "alone (s)": round(alone[0], 4),
                "two at once (s)": [round(t, 4) for t, _ in pair],
                "slowdown": round(worst / alone[0], 2),
                "mean of pair (s)": round(statistics.mean(t for t, _ in pair), 4),
            }
        )
    print(f"CPU: {cpu_name()}, {available_cpus()} CPUs available\n")
    print("| OMP_WAIT_POLICY | threads per job | T-step alone (s) | T-step, two jobs at once (s) | slowdown |")
    print("|---|---|---|---|---|")
    for r in rows:
        pair = " / ".join(f"{t:.3f}" for t in r["two at once (s)"])
        print(f"| {r['policy']} | {r['threads per job']} | {r['alone (s)']:.3f} | {pair} | {r['slowdown']:.2f}x |")
    if args.json:
        print(json.dumps({"cpu": cpu_name(), "rows": rows}))


if __name__ == "__main__":
    main()
