"""``monge translate``, ``encode`` and ``decode``: apply a trained run to images."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm.auto import tqdm

from ..data.outputs import OutputNames
from ..errors import ConfigError, DataError
from ..runs import prepare_folder
from .common import MAX_DRAWS, add_json, draws_per_input, positive_int, report


def cmd_translate(args: argparse.Namespace) -> None:
    import torch

    from ..data.domains import open_domain
    from ..data.images import save_png
    from ..train.export import load_map

    run = Path(args.run)
    if (run / "stack.json").exists():
        from ..train.stack import load_stack

        mapping, cfg, level = load_stack(run, args.level, args.device)
        checkpoint = "best of each level"
        draw = lambda x, k: torch.stack([mapping(x) for _ in range(k)], dim=1)  # noqa: E731
    else:
        if args.level != "best":
            raise ConfigError("level", f"{run} is a single run, not a stack")
        tmap = load_map(run, args.device, args.checkpoint)
        cfg, level, checkpoint, draw = tmap.config, None, tmap.origin, tmap.sample
    torch.manual_seed(args.seed)  # a stochastic map's noise: the same draws for the same seed, however it loaded
    out = Path(args.out)
    prepare_folder(out, "out")
    names_out = OutputNames(out)
    inputs_out = OutputNames(out / "inputs") if args.html else names_out
    page_rows: list = []
    written = 0
    for spec in args.inputs:
        source = open_domain(spec, cfg.size, cfg.crop, args.h5_key).source
        # stderr; closed before an error propagates, so the error line starts a line of its own
        with tqdm(total=len(source), desc=f"translate {spec}", unit="img", dynamic_ncols=True) as bar:
            step = max(1, args.batch_size // args.samples)  # inputs per pass: a pass holds about batch_size outputs
            for start in range(0, len(source), step):
                names = source.names[start : start + step]
                x = torch.stack([source[i] for i in range(start, start + len(names))])
                for name, source_img, draws in zip(names, x, draw(x, args.samples)):
                    outputs = []
                    for k, y in enumerate(draws):
                        outputs.append(names_out.path(name, "" if args.samples == 1 else f"_{k}"))
                        save_png(y, outputs[-1])
                        written += 1
                    if args.html:  # the input as the map saw it (resized), beside its outputs
                        shown = inputs_out.path(name)
                        save_png(source_img, shown)
                        page_rows.append((name, shown, outputs))
                bar.update(len(names))
    if args.html:
        from ..report.page import write_translation_html

        title = f"{run} ({checkpoint}{f', level {level}' if level is not None else ''}), {cfg.size} px"
        page_rows_rel = [(n, i.relative_to(out), [o.relative_to(out) for o in outs]) for n, i, outs in page_rows]
        write_translation_html(out / "index.html", title, page_rows_rel)
    result = {
        "written": written,
        "renamed to avoid a clash": names_out.renamed,
        "out": str(out),
        "checkpoint": checkpoint,
        "size": cfg.size,
        "level": level,
    }
    report(args, result, list(result.items()))


def cmd_export(args: argparse.Namespace) -> None:
    from ..train.export import export_map

    out = export_map(args.run, args.out, args.checkpoint)
    files = sorted(p.name for p in out.iterdir())
    size = sum((out / f).stat().st_size for f in files)
    result = {"out": str(out), "files": files, "bytes": size, "checkpoint": args.checkpoint}
    report(args, result, list(result.items()))


def cmd_push(args: argparse.Namespace) -> None:
    from ..train.hub import push_to_hub

    url = push_to_hub(args.run, args.repo, args.checkpoint, private=args.private, commit_message=args.message)
    result = {"repo": args.repo, "url": str(url), "checkpoint": args.checkpoint}
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
            for start in tqdm(range(0, len(source), 256), desc=f"encode {spec}", unit="batch", dynamic_ncols=True):
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
    prepare_folder(out, "out")
    names_out = OutputNames(out)
    with torch.no_grad():
        images = torch.cat([ae.decode(z) for z in latents.split(256)])
    for name, img in zip(names, tqdm(images, desc="decode", unit="img", dynamic_ncols=True)):
        save_png(img, names_out.path(name))
    result = {"decoded": len(names), "renamed to avoid a clash": names_out.renamed, "out": str(out)}
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

    ex = sub.add_parser(
        "export", help="write a run's map as config.json + model.safetensors + a model card, to share or load"
    )
    ex.add_argument("run", help="run folder")
    ex.add_argument("--out", required=True, help="output folder")
    ex.add_argument("--checkpoint", default="best", choices=["best", "last"])
    add_json(ex)
    ex.set_defaults(func=cmd_export)

    push = sub.add_parser("push", help="upload a run's map (exported first) or an exported map to the Hugging Face Hub")
    push.add_argument("run", help="run folder, or a folder written by monge export")
    push.add_argument("repo", help="Hub repository id, e.g. you/twitter2google (created if missing)")
    push.add_argument("--checkpoint", default="best", choices=["best", "last"], help="a run's checkpoint to export")
    push.add_argument("--private", action="store_true", help="create the repository private")
    push.add_argument("--message", default="Upload a monge map", help="the commit message")
    add_json(push)
    push.set_defaults(func=cmd_push)

    tl = sub.add_parser("translate", help="map images through a trained run or an exported map")
    tl.add_argument("run", help="run folder, stack folder, or a folder written by monge export")
    tl.add_argument("inputs", nargs="+", help="image files, folders, .h5, .zip or emoji:STYLE")
    tl.add_argument("--out", required=True)
    tl.add_argument(
        "--samples", type=draws_per_input, default=1, help=f"draws per input (weak cost; 1 to {MAX_DRAWS}; default: 1)"
    )
    tl.add_argument("--checkpoint", default="best", choices=["best", "last"])
    tl.add_argument("--level", default="best", help="for a stack: apply levels 0..K (default: the best level)")
    tl.add_argument("--batch-size", type=positive_int, default=64, help="images per forward pass (default: 64)")
    tl.add_argument("--html", action="store_true", help="also write index.html: each input beside its outputs")
    tl.add_argument("--seed", type=int, default=0, help="seed of a stochastic map's noise draws (default: 0)")
    tl.add_argument("--h5-key")
    tl.add_argument("--device")
    add_json(tl)
    tl.set_defaults(func=cmd_translate)
