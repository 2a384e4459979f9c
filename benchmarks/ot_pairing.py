"""How many hidden pairs the exact discrete OT plan between two unpaired sets recovers.

    python benchmarks/ot_pairing.py [--source emoji:twitter --target emoji:google] [--limit 1500] [--json]
    python benchmarks/ot_pairing.py --source fonts:DejaVuSans --target fonts:DejaVuSerif

The two domains draw the same items under the same file names (the emoji in two styles, one
character in two fonts); the plan never sees which is which. For each pairing cost of
``--ot-warm-start`` (monge.ot.discrete) it reports the share of source items paired with their own
target drawing and the MSE of the partners to the hidden targets, beside the identity's MSE.
"""

import argparse
import json

import torch

from monge.data.domains import open_domain
from monge.ot.discrete import PAIRINGS, discrete_ot_pairs, pairing_encoder


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", default="emoji:twitter")
    p.add_argument("--target", default="emoji:google")
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--limit", type=int, help="the first N shared names (default: all)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    a, b = (open_domain(spec, args.size).source for spec in (args.source, args.target))
    names = sorted(set(a.names) & set(b.names))[: args.limit]
    twitter, google = a.subset(names).tensor(), b.subset(names).tensor()  # source items and their hidden targets
    result = {"items": len(names), "identity MSE": round(((twitter - google) ** 2).mean().item(), 4)}
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
