"""How FD-EffNetLite0 reacts to simple edits of the emoji, next to NOT maps: is the identity beatable?

    python benchmarks/emoji_fd_probe.py --run runs/demo --maps runs/demo:best runs/demo:last

On the run's held-out twitter -> google test pairs it scores the identity, a few global edits
(a Gaussian colour OT map fitted on the training splits with POT, blur, sharpening, brightness
and contrast) and the given NOT maps (RUN:best or RUN:last). For each: FD split into its mean and
covariance terms, MSE to the hidden google version, and FD minus the identity's FD over
``--resamples`` paired bootstrap resamples of the test pairs (mean +- std), which says whether a
difference is more than sampling noise.
"""

import argparse
import json
from pathlib import Path

import numpy as np
import torch.nn.functional as F

from monge.backbones.effnet import EffNetLite0
from monge.bench.pairs import held_out_pairs
from monge.metrics import FeatureStats, fd_from_stats, fd_terms_from_stats
from monge.ot.baselines import gaussian_colour_map
from monge.train.factory import load_solver


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="a run whose split files define the test pairs")
    p.add_argument("--maps", nargs="*", default=[], help="NOT maps to score, as RUN:best or RUN:last")
    p.add_argument("--resamples", type=int, default=20)
    args = p.parse_args()
    run = Path(args.run)
    pairs = held_out_pairs(run, "emoji:twitter", "emoji:google", 32, train_limit=1000)
    names, x, y = pairs.names, pairs.x, pairs.y
    colour_map = gaussian_colour_map(pairs.x_train, pairs.y_train)
    blur = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
    edits = {
        "identity": x,
        "Gaussian colour OT (POT)": colour_map(x),
        "blur 30 %": 0.7 * x + 0.3 * blur,
        "sharpen 30 %": x + 0.3 * (x - blur),
        "brightness +0.03": x + 0.03,
        "contrast x1.05": x * 1.05,
    }
    for spec in args.maps:
        path, _, which = spec.rpartition(":")
        solver, _ = load_solver(path, which)
        edits[f"NOT {spec}"] = solver.map(x)
    edits = {name: im.clamp(-1, 1) for name, im in edits.items()}  # images, as written to PNG

    effnet = EffNetLite0()

    def stats(features: np.ndarray) -> FeatureStats:
        return FeatureStats.from_features(features, effnet.backbone_id, 32)

    y_features = effnet.encode(y).double().numpy()
    features = {name: effnet.encode(im).double().numpy() for name, im in edits.items()}
    rng = np.random.default_rng(1)
    draws = [rng.choice(len(x), len(x)) for _ in range(args.resamples)]
    target_draws = [stats(y_features[i]) for i in draws]  # shared by every map
    resampled = {
        name: np.array([fd_from_stats(stats(f[i]), t) for i, t in zip(draws, target_draws)])
        for name, f in features.items()
    }
    target_stats = stats(y_features)
    rows = {}
    print(f"{len(names)} held-out test pairs; FD-EffNetLite0 against the google test images\n")
    print("| map | FD | mean + covariance term | MSE | FD - identity's FD (bootstrap) |\n|---|---|---|---|---|")
    for name, f in features.items():
        terms = fd_terms_from_stats(stats(f), target_stats)
        delta = resampled[name] - resampled["identity"]
        rows[name] = {
            **terms,
            "mse": float(((edits[name] - y) ** 2).mean()),
            "delta_mean": float(delta.mean()),
            "delta_std": float(delta.std()),
        }
        r = rows[name]
        print(
            f"| {name} | {r['distance']:.1f} | {r['mean']:.1f} + {r['covariance']:.1f} | {r['mse']:.4f} | "
            f"{r['delta_mean']:+.1f} +- {r['delta_std']:.1f} |"
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
