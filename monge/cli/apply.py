"""``monge translate``, ``encode`` and ``decode``: apply a trained run to images."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError, DataError
from .common import add_json, report


def cmd_translate(args: argparse.Namespace) -> None:
    import torch

    from ..data.domains import open_domain
    from ..data.images import save_png
    from ..train.factory import load_solver

    run = Path(args.run)
    if (run / "stack.json").exists():
        from ..train.stack import load_stack

        mapping, cfg, level = load_stack(run, args.level, args.device)
        draw = lambda x, k: torch.stack([mapping(x) for _ in range(k)], dim=1)  # noqa: E731
    else:
        if args.level != "best":
            raise ConfigError("level", f"{run} is a single run, not a stack")
        solver, cfg = load_solver(run, args.checkpoint, args.device)
        level = None
        draw = lambda x, k: solver.sample(x, k) if k > 1 else solver.map(x)[:, None]  # noqa: E731
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for spec in args.inputs:
        source = open_domain(spec, cfg.size, cfg.crop, args.h5_key).source
        for start in range(0, len(source), args.batch_size):
            names = source.names[start : start + args.batch_size]
            x = torch.stack([source[i] for i in range(start, start + len(names))])
            for name, draws in zip(names, draw(x, args.samples)):
                stem = Path(name).with_suffix("")
                for k, y in enumerate(draws):
                    path = out / (f"{stem}.png" if args.samples == 1 else f"{stem}_{k}.png")
                    path.parent.mkdir(parents=True, exist_ok=True)
                    save_png(y, path)
                    written += 1
    result = {"written": written, "out": str(out), "checkpoint": args.checkpoint, "size": cfg.size, "level": level}
    report(args, result, list(result.items()))


def _autoencoder(run: str, device: str | None):
    from ..train.factory import load_solver

    solver, cfg = load_solver(run, "best", device)
    if cfg.map_net != "autoencoder":
        raise DataError(f"{run}: not an auto-encoder run (map_net={cfg.map_net})")
    return solver.map_net.eval(), cfg


def cmd_encode(args: argparse.Namespace) -> None:
    import numpy as np
    import torch

    from ..data.domains import open_domain

    ae, cfg = _autoencoder(args.run, args.device)
    names, codes = [], []
    for spec in args.inputs:
        source = open_domain(spec, cfg.size, cfg.crop).source
        with torch.no_grad():
            for start in range(0, len(source), 256):
                idx = range(start, min(start + 256, len(source)))
                codes.append(ae.encode(torch.stack([source[i] for i in idx])).numpy())
        names += list(source.names)
    np.savez(args.out, latents=np.concatenate(codes), names=np.array(names))
    result = {"encoded": len(names), "latent": cfg.latent, "out": str(args.out)}
    report(args, result, list(result.items()))


def cmd_decode(args: argparse.Namespace) -> None:
    import numpy as np
    import torch

    from ..data.images import save_png

    ae, cfg = _autoencoder(args.run, args.device)
    try:
        with np.load(args.latents) as d:
            latents, names = torch.from_numpy(d["latents"]).float(), [str(n) for n in d["names"]]
    except (OSError, KeyError, ValueError) as err:
        raise DataError(f"{args.latents}: not a latents file from 'monge encode' ({err})") from None
    if latents.ndim != 2 or latents.shape[1] != cfg.latent:
        raise DataError(f"{args.latents}: latents of shape {tuple(latents.shape)}, the run expects (N, {cfg.latent})")
    out = Path(args.out)
    with torch.no_grad():
        images = torch.cat([ae.decode(z) for z in latents.split(256)])
    for name, img in zip(names, images):
        path = out / Path(name).with_suffix(".png")
        path.parent.mkdir(parents=True, exist_ok=True)
        save_png(img, path)
    result = {"decoded": len(names), "out": str(out)}
    report(args, result, list(result.items()))


def register(sub: argparse._SubParsersAction) -> None:
    enc = sub.add_parser("encode", help="latent codes of images through an auto-encoder run")
    enc.add_argument("run")
    enc.add_argument("inputs", nargs="+")
    enc.add_argument("--out", required=True, help="output .npz (latents, names)")
    enc.add_argument("--device")
    add_json(enc)
    enc.set_defaults(func=cmd_encode)

    dec = sub.add_parser("decode", help="images from latent codes (reconstruct: 'monge translate RUN IMAGES')")
    dec.add_argument("run")
    dec.add_argument("latents", help=".npz written by monge encode")
    dec.add_argument("--out", required=True, help="output folder")
    dec.add_argument("--device")
    add_json(dec)
    dec.set_defaults(func=cmd_decode)

    tl = sub.add_parser("translate", help="map images through a trained run")
    tl.add_argument("run", help="run folder")
    tl.add_argument("inputs", nargs="+", help="image files, folders, .h5, .zip or emoji:STYLE")
    tl.add_argument("--out", required=True)
    tl.add_argument("--samples", type=int, default=1, help="draws per input (weak cost)")
    tl.add_argument("--checkpoint", default="best", choices=["best", "last"])
    tl.add_argument("--level", default="best", help="for a stack: apply levels 0..K (default: the best level)")
    tl.add_argument("--batch-size", type=int, default=64)
    tl.add_argument("--h5-key")
    tl.add_argument("--device")
    add_json(tl)
    tl.set_defaults(func=cmd_translate)
