"""How many hidden emoji pairs the exact discrete OT plan between the unpaired sets recovers.

    python benchmarks/ot_pairing.py [--every 1] [--json]

Twitter and Google draw the same emoji; the plan never sees which is which. For each pairing cost
of ``--ot-warm-start`` (monge.ot.discrete) it reports the share of Twitter emoji paired with their
own Google drawing and the MSE of the partners to the hidden targets, beside the identity's MSE.
"""

import argparse
import json

import torch

from monge.data.emoji import load_emoji
from monge.ot.discrete import PAIRINGS, discrete_ot_pairs, pairing_encoder


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--every", type=int, default=1, help="use every k-th emoji (1: all 3,786)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    twitter, google = (load_emoji(style, 32).images[:: args.every] for style in ("twitter", "google"))
    result = {"emoji": len(twitter), "identity MSE": round(((twitter - google) ** 2).mean().item(), 4)}
    for pairing in PAIRINGS:
        xs, ys = discrete_ot_pairs(
            twitter, google, generator=torch.Generator().manual_seed(0), encode=pairing_encoder(pairing)
        )
        order = {x.numpy().tobytes(): i for i, x in enumerate(xs)}  # back to the data's order
        partners = ys[torch.tensor([order[x.numpy().tobytes()] for x in twitter])]
        exact = sum(bool((a == b).all()) for a, b in zip(partners, google)) / len(google)
        result[pairing] = {
            "exact pairs": round(exact, 3),
            "partner MSE": round(((partners - google) ** 2).mean().item(), 4),
        }
        print(
            f"{pairing:>14}: {100 * exact:.1f} % exact pairs, partner MSE {result[pairing]['partner MSE']}"
            f" (identity {result['identity MSE']})",
            flush=True,
        )
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
