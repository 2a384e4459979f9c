"""Wall time of one STROTSS run on ../shared/data/style (content c1, the first style image).

python benchmarks/style_speed.py --size 256 --scales 3 --precision auto
python benchmarks/style_speed.py --size 512 --scales 4
"""

import argparse
import json
import time
from pathlib import Path

from monge.data.images import load_image
from monge.engine import tune_cpu_allocator
from monge.style.strotss import stylize

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "style"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--scales", type=int, default=3)
    p.add_argument("--steps", type=int, default=250)
    p.add_argument("--precision", default="auto")
    args = p.parse_args()
    tuned = tune_cpu_allocator()  # as `monge style` does; MONGE_TUNE_MALLOC=0 for glibc's default
    content = load_image(sorted((DATA / "content").glob("*"))[0])
    style = load_image(sorted((DATA / "style").glob("*"))[0])
    t0 = time.perf_counter()
    result = stylize(
        content, style, size=args.size, scales=args.scales, steps=args.steps, precision=args.precision, progress=False
    )
    print(
        json.dumps(
            {
                **vars(args),
                "malloc_tuned": tuned,
                "seconds": round(time.perf_counter() - t0, 1),
                "final_losses": {k: round(v, 4) for k, v in result.history[-1].items()},
            }
        )
    )


if __name__ == "__main__":
    main()
