"""``monge train`` with every evaluation's training seconds and the run's peak memory recorded the
same way in any checkout of monge, for benchmarks that compare commits side by side.

    PYTHONPATH=CHECKOUT python benchmarks/timed_train.py TIMES_JSON -- --threads 1 train --config C.json

A point's training seconds run from the evaluation callback's construction (before the discrete
pairing and the warm start, which count as training) to the evaluation, less the time spent in
earlier evaluations, as ``eval.csv``'s ``train_seconds`` column does where a commit has it.
``TIMES_JSON`` gets ``{"evaluations": [{"step", "train_seconds"}], "peak_mb", "wall_seconds", "commit"}``.
"""

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import monge
from monge.cli.main import main
from monge.train import callbacks


def record_evaluation_times(times: list[dict]) -> None:
    """Wrap ``callbacks.Evaluation`` so that each evaluation appends its step and training seconds."""
    evaluation = callbacks.Evaluation
    construct, on_step = evaluation.__init__, evaluation.on_step

    def timed_init(self, *args, **kwargs):
        construct(self, *args, **kwargs)
        self.timer_start, self.timer_evaluating = time.perf_counter(), 0.0

    def timed_on_step(self, solver, step, losses):
        t0 = time.perf_counter()
        answer = on_step(self, solver, step, losses)
        if answer is not None:  # every commit's Evaluation answers (the progress bar's score) only when it evaluated
            times.append({"step": step, "train_seconds": round(t0 - self.timer_start - self.timer_evaluating, 2)})
            self.timer_evaluating += time.perf_counter() - t0
        return answer

    evaluation.__init__, evaluation.on_step = timed_init, timed_on_step


if __name__ == "__main__":
    out, argv = Path(sys.argv[1]), sys.argv[3:]
    times: list[dict] = []
    record_evaluation_times(times)
    t0 = time.perf_counter()
    code = main(argv)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    wall = round(time.perf_counter() - t0, 1)
    git = ["git", "-C", str(Path(monge.__file__).parent), "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(git, capture_output=True, text=True).stdout.strip() or "unknown"
    result = {"evaluations": times, "peak_mb": round(peak_mb), "wall_seconds": wall, "commit": commit}
    out.write_text(json.dumps(result, indent=2))
    sys.exit(code)
