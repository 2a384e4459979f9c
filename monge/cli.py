"""The ``monge`` command line. Every command that prints a result accepts ``--json`` and then
prints one JSON object as the last line of stdout; errors exit 2 with one line naming the culprit."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .data import DataError


class CLIError(Exception):
    """A user error to report as one line."""


def _report(args: argparse.Namespace, result: dict, table: list[tuple[str, object]]) -> None:
    width = max(len(k) for k, _ in table) if table else 0
    for key, value in table:
        print(f"{key:<{width}}  {value:.6g}" if isinstance(value, float) else f"{key:<{width}}  {value}")
    if args.json:
        print(json.dumps(result))


def _add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line of stdout")


# ---------------------------------------------------------------- metrics ------------------------

def _stats_for(spec: str, args, extractor):
    from .data import open_domain
    from .metrics import FeatureStats, image_stats

    if spec.endswith(".npz"):
        return FeatureStats.load(spec)
    source = open_domain(spec, args.size, h5_key=args.h5_key).source
    return image_stats(source, extractor, args.size, progress=not args.json)


def cmd_metrics(args: argparse.Namespace) -> None:
    from .features import load_backbone
    from .metrics import fd_from_stats, kid, paired_metrics, PerceptualDistance

    if args.metric == "paired":
        from .data import open_domain

        a = open_domain(args.a, args.size, h5_key=args.h5_key).source
        b = open_domain(args.b, args.size, h5_key=args.h5_key).source
        common = sorted(set(a.names) & set(b.names))
        if not common:
            raise CLIError(f"{args.b}: no file names in common with {args.a}, so no pairs")
        result = {"pairs": len(common), **paired_metrics(a.subset(common).tensor(), b.subset(common).tensor(),
                                                         PerceptualDistance())}
        _report(args, result, list(result.items()))
        return
    extractor = load_backbone(args.backbone, args.weights)
    t0 = time.perf_counter()
    sa, sb = _stats_for(args.a, args, extractor), _stats_for(args.b, args, extractor)
    if args.save_stats:
        sa.save(args.save_stats)
    seconds = time.perf_counter() - t0
    if args.metric == "fd":
        result = {extractor.name: fd_from_stats(sa, sb)}
    else:
        mean, std = kid(sa.features, sb.features, subset_size=args.subset_size)
        result = {"KID": mean, "KID_std": std}
    result.update({"backbone": extractor.backbone_id, "n_a": sa.count, "n_b": sb.count, "size": args.size,
                   "seconds": round(seconds, 2)})
    _report(args, result, list(result.items()))


# ---------------------------------------------------------------- data ---------------------------

def cmd_data_emoji(args: argparse.Namespace) -> None:
    from .datasets import write_emoji_folder

    n = write_emoji_folder(args.style, args.size, args.out, args.source)
    result = {"written": n, "style": args.style, "size": args.size, "out": str(args.out)}
    _report(args, result, list(result.items()))


# ---------------------------------------------------------------- NOT ----------------------------

TRAIN_OPTIONS = ("size", "unet_base", "f_width", "f_max_width", "batch_size", "t_steps", "lr", "gamma", "z_count",
                 "z_std", "seed", "test_fraction", "eval_every", "eval_images", "backbone", "inception_weights",
                 "device", "h5_key", "crop", "cost", "preset", "residual", "norm", "devices", "num_nodes", "precision",
                 "sync_batchnorm", "channels_last", "compile", "cache_mb", "workers", "ema", "augment", "f_norm")


def _train_config(args: argparse.Namespace):
    """The configuration: a resumed run's saved one (updated by --steps), else config file + flags."""
    from .train import TrainConfig

    out = Path(args.out)
    if args.resume and ((out / "config.json").exists() or (out / "stack.json").exists()):
        cfg = TrainConfig.from_file(out / "config.json") if (out / "config.json").exists() else \
            TrainConfig.from_dict(json.loads((out / "stack.json").read_text())["config"])
        if args.steps is not None:
            cfg.steps = args.steps
        return cfg
    base = json.loads(Path(args.config).read_text()) if args.config else {}
    for key in ("source", "target"):
        if getattr(args, key) is None and key not in base:
            raise CLIError(f"--{key} is required (a folder, .h5, .zip, ROOT:A/ROOT:B or emoji:STYLE)")
    flags = {k: getattr(args, k) for k in ("source", "target", "steps", *TRAIN_OPTIONS)
             if getattr(args, k, None) is not None}
    return TrainConfig.from_dict({**base, **flags, "out": args.out})


def cmd_train(args: argparse.Namespace) -> None:
    cmd_train_with(args, _train_config(args))


def cmd_train_with(args: argparse.Namespace, cfg) -> None:
    from .train import train

    summary = train(cfg, resume=args.resume, progress=not args.json)
    if summary["rank"] != 0:  # a non-zero rank of a distributed run: rank 0 reports
        return
    table = [("run", summary["run"]), ("steps", summary["steps"]), ("best step", summary["best_step"]),
             (f"best {summary['metric']}", summary[f"best_{summary['metric']}"]),
             *[(f"final {k}", v) for k, v in summary["final"].items()], ("seconds", summary["seconds"])]
    _report(args, summary, table)


def cmd_translate(args: argparse.Namespace) -> None:
    import torch

    from .data import open_domain, save_png
    from .train import load_solver

    run = Path(args.run)
    if (run / "stack.json").exists():
        from .stack import load_stack

        mapping, cfg, level = load_stack(run, args.level, args.device)
        draw = lambda x, k: torch.stack([mapping(x) for _ in range(k)], dim=1)  # noqa: E731
    else:
        if args.level != "best":
            raise CLIError(f"--level: {run} is a single run, not a stack")
        solver, cfg = load_solver(run, args.checkpoint, args.device)
        level = None
        draw = lambda x, k: solver.sample(x, k) if k > 1 else solver.map(x)[:, None]  # noqa: E731
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for spec in args.inputs:
        source = open_domain(spec, cfg.size, cfg.crop, args.h5_key).source
        for start in range(0, len(source), args.batch_size):
            names = source.names[start: start + args.batch_size]
            x = torch.stack([source[i] for i in range(start, start + len(names))])
            for name, draws in zip(names, draw(x, args.samples)):
                stem = Path(name).with_suffix("")
                for k, y in enumerate(draws):
                    path = out / (f"{stem}.png" if args.samples == 1 else f"{stem}_{k}.png")
                    path.parent.mkdir(parents=True, exist_ok=True)
                    save_png(y, path)
                    written += 1
    result = {"written": written, "out": str(out), "checkpoint": args.checkpoint, "size": cfg.size, "level": level}
    _report(args, result, list(result.items()))


def cmd_ae(args: argparse.Namespace) -> None:
    args.source = args.target = args.data
    args.cost = {"l2": "strong"}.get(args.cost, args.cost)
    cfg = _train_config(args)
    if not args.resume:
        cfg.map_net, cfg.latent = "autoencoder", args.latent
        cfg.objective = "reconstruction" if args.baseline else "not"
    cmd_train_with(args, cfg)


def _autoencoder(run: str, device: str | None):
    from .train import load_solver

    solver, cfg = load_solver(run, "best", device)
    if cfg.map_net != "autoencoder":
        raise CLIError(f"{run}: not an auto-encoder run (map_net={cfg.map_net})")
    return solver.map_net.eval(), cfg


def cmd_encode(args: argparse.Namespace) -> None:
    import numpy as np
    import torch

    from .data import open_domain

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
    _report(args, result, list(result.items()))


def cmd_decode(args: argparse.Namespace) -> None:
    import numpy as np
    import torch

    from .data import save_png

    ae, cfg = _autoencoder(args.run, args.device)
    try:
        with np.load(args.latents) as d:
            latents, names = torch.from_numpy(d["latents"]).float(), [str(n) for n in d["names"]]
    except (OSError, KeyError, ValueError) as err:
        raise CLIError(f"{args.latents}: not a latents file from 'monge encode' ({err})") from None
    if latents.ndim != 2 or latents.shape[1] != cfg.latent:
        raise CLIError(f"{args.latents}: latents of shape {tuple(latents.shape)}, the run expects (N, {cfg.latent})")
    out = Path(args.out)
    with torch.no_grad():
        images = torch.cat([ae.decode(z) for z in latents.split(256)])
    for name, img in zip(names, images):
        path = out / Path(name).with_suffix(".png")
        path.parent.mkdir(parents=True, exist_ok=True)
        save_png(img, path)
    result = {"decoded": len(names), "out": str(out)}
    _report(args, result, list(result.items()))


def cmd_stack(args: argparse.Namespace) -> None:
    from .stack import train_stack

    cfg = _train_config(args)
    result = train_stack(cfg, args.levels, args.warm_start, args.mapped, progress=not args.json)
    if result["rank"] != 0:  # a non-zero rank of a distributed run: rank 0 reports
        return
    table = [(f"level {r['level']} {r['metric']} min/mean/std", f"{r['min']:.2f} / {r['mean']:.2f} / {r['std']:.2f}")
             for r in result["levels"]] + [("best level", result["best_level"]), ("stack", result["stack"])]
    _report(args, result, table)


def cmd_demo(args: argparse.Namespace) -> None:
    from .train import TrainConfig, train
    from .report import write_report

    cfg = TrainConfig(source="emoji:twitter", target="emoji:google", out=args.out, preset="cpu", steps=args.steps,
                      eval_every=max(1, args.steps // 8), eval_images=args.eval_images, seed=args.seed)
    summary = train(cfg, resume=args.resume, progress=not args.json)
    report = write_report(Path(args.out), summary)
    summary["report"] = str(report)
    _report(args, summary, [("report", report), (f"best {summary['metric']}", summary[f"best_{summary['metric']}"]),
                            *[(f"final {k}", v) for k, v in summary["final"].items()],
                            ("seconds", summary["seconds"])])


def _add_train_options(p: argparse.ArgumentParser, costs: tuple[str, ...] = ("strong", "weak", "l1", "perceptual")) -> None:
    g = p.add_argument_group("model and optimisation (default: the preset's)")
    g.add_argument("--preset", choices=["cpu", "paper"], help="cpu: 32 px, thin nets (default); paper: official sizes")
    g.add_argument("--cost", choices=costs)
    g.add_argument("--steps", type=int, help="outer iterations (each: T-steps map updates + 1 potential update)")
    g.add_argument("--size", type=int, help="image side (a multiple of 16)")
    g.add_argument("--unet-base", type=int)
    g.add_argument("--f-width", type=int)
    g.add_argument("--f-max-width", type=int)
    g.add_argument("--batch-size", type=int)
    g.add_argument("--t-steps", type=int, help="map updates per potential update (10)")
    g.add_argument("--lr", type=float)
    g.add_argument("--residual", action=argparse.BooleanOptionalAction,
                   help="T(x) = x + UNet(x), starting at the identity (cpu preset: on; paper: off)")
    g.add_argument("--ema", type=float, help="map with an exponential moving average of T's weights, this decay "
                                             "per map update (e.g. 0.999; default 0: off)")
    g.add_argument("--augment", help="differentiable augmentations of the potential's inputs, T(x) and y alike: "
                                     "none (default) or a comma-separated subset of translation,cutout")
    g.add_argument("--f-norm", choices=["none", "spectral"], help="the potential's weight normalisation (none)")
    g.add_argument("--gamma", type=float, help="weak cost's gamma (0.66)")
    g.add_argument("--z-count", type=int, help="noise draws per input for the weak cost (8)")
    g.add_argument("--z-std", type=float)
    e = p.add_argument_group("data and evaluation")
    e.add_argument("--seed", type=int)
    e.add_argument("--test-fraction", type=float)
    e.add_argument("--eval-every", type=int)
    e.add_argument("--eval-images", type=int)
    e.add_argument("--backbone", choices=["effnet-lite0", "inception", "auto"],
                   help="metric backbone: FD-EffNetLite0 (default), FID (needs Inception weights), auto")
    e.add_argument("--inception-weights")
    e.add_argument("--h5-key")
    e.add_argument("--crop", action=argparse.BooleanOptionalAction, help="centre-crop non-square images")
    e.add_argument("--device", help="cpu, cuda, cuda:1, mps")
    e.add_argument("--cache-mb", type=int, help="hold a training split in memory below this size (256), else stream it")
    e.add_argument("--workers", type=int, help="DataLoader workers decoding a streamed split (2)")
    d = p.add_argument_group("scale (Lightning Fabric)")
    d.add_argument("--devices", type=int, help="data-parallel processes on this node (DDP; --batch-size is global)")
    d.add_argument("--num-nodes", type=int, help="nodes (launch the same command on each, as with torchrun)")
    d.add_argument("--precision", choices=["32", "bf16-mixed", "16-mixed"], help="16-mixed needs CUDA")
    d.add_argument("--norm", choices=["batch", "group"], help="the map's normalisation (group: split-independent)")
    d.add_argument("--sync-batchnorm", action=argparse.BooleanOptionalAction, help="BatchNorm over the global batch (CUDA)")
    d.add_argument("--channels-last", action=argparse.BooleanOptionalAction, help="NHWC convolutions")
    d.add_argument("--compile", action=argparse.BooleanOptionalAction, help="torch.compile the nets")


def cmd_bench_w2(args: argparse.Namespace) -> None:
    from .w2bench import run_w2

    result = run_w2(args.dim, args.pair, args.steps, args.batch_size, seed=args.seed, data_dir=args.data_dir,
                    progress=not args.json, hidden=args.hidden, lr=args.lr)
    table = [("pair", result["pair"])] + [(f"{name} L2-UVP %", r["L2-UVP"]) for name, r in result["results"].items()]
    if result["published_MM:R"] is not None:
        table.append(("published MM:R L2-UVP %", result["published_MM:R"]))
    table.append(("NOT seconds", result["results"]["monge-not"]["seconds"]))
    _report(args, result, table)


def cmd_style(args: argparse.Namespace) -> None:
    import time

    from .data import load_image, save_png
    from .style import stylize

    content, style = load_image(args.content), load_image(args.style)
    masks = {}
    for key in ("content_mask", "style_mask"):
        if getattr(args, key):
            masks[key] = load_image(getattr(args, key))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        result = stylize(content, style, alpha=args.alpha, size=args.size, steps=args.steps, lr=args.lr,
                         scales=args.scales, backbone=args.backbone, seed=args.seed, device=args.device,
                         precision=args.precision, progress=not args.json, **masks)
    except ValueError as err:
        raise CLIError(f"{args.content_mask or args.content}: {err}") from None
    seconds = time.perf_counter() - t0
    save_png(result.image, out)
    if args.save_scales:
        for i, img in enumerate(result.scales):
            save_png(img, out.with_name(f"{out.stem}_scale{i + 1}{out.suffix}"))
    last = result.history[-1]
    summary = {"out": str(out), "size": list(result.image.shape[1:]), "seconds": round(seconds, 1),
               **{k: last[k] for k in ("loss", "remd", "moment", "palette", "content")}}
    _report(args, summary, list(summary.items()))


# ---------------------------------------------------------------- parser -------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="monge", description="Optimal-transport image translation.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = sub.add_parser("data", help="write datasets as image folders")
    data_sub = data.add_subparsers(dest="dataset", required=True, metavar="DATASET")
    emoji = data_sub.add_parser("emoji", help="write the emoji of one style as PNG files")
    emoji.add_argument("--style", choices=["google", "twitter"], required=True)
    emoji.add_argument("--size", type=int, default=32)
    emoji.add_argument("--source", help="local copy: the emoji folder, or an npm-pack tarball (needed above 32 px)")
    emoji.add_argument("--out", required=True)
    _add_json(emoji)
    emoji.set_defaults(func=cmd_data_emoji)

    demo = sub.add_parser("demo", help="train twitter -> google emoji with the cpu preset and write a report")
    demo.add_argument("--out", default="runs/demo")
    demo.add_argument("--steps", type=int, default=300)
    demo.add_argument("--eval-images", type=int, default=379)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--resume", action="store_true")
    _add_json(demo)
    demo.set_defaults(func=cmd_demo)

    tr = sub.add_parser("train", help="train a Neural Optimal Transport map from SOURCE to TARGET")
    tr.add_argument("--source", help="source images: folder, .h5, .zip, ROOT:A (CycleGAN) or emoji:twitter")
    tr.add_argument("--target", help="target images, same forms")
    tr.add_argument("--out", default="runs/not", help="run folder")
    tr.add_argument("--config", help="JSON file of configuration keys (flags override it)")
    tr.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    _add_train_options(tr)
    _add_json(tr)
    tr.set_defaults(func=cmd_train)

    sk = sub.add_parser("stack", help="train a stack of NOT maps, each from the previous level's output to TARGET")
    sk.add_argument("--source")
    sk.add_argument("--target")
    sk.add_argument("--out", default="runs/stack")
    sk.add_argument("--config", help="JSON file of configuration keys (flags override it)")
    sk.add_argument("--levels", type=int, default=3)
    sk.add_argument("--warm-start", action="store_true", help="start level k+1 from level k's best weights")
    sk.add_argument("--mapped", choices=["disk", "fly"], default="disk",
                    help="mapped sources: float32 shards on disk (default) or computed batch by batch")
    sk.add_argument("--resume", action="store_true", help="continue an interrupted stack")
    _add_train_options(sk)
    _add_json(sk)
    sk.set_defaults(func=cmd_stack)

    ae = sub.add_parser("ae", help="train a NOT auto-encoder (P to P through a bottleneck) or its plain baseline")
    ae.add_argument("--data", help="the images (same forms as --source)")
    ae.add_argument("--latent", type=int, default=64, help="bottleneck size")
    ae.add_argument("--baseline", action="store_true", help="the plain auto-encoder: the cost alone, no potential")
    ae.add_argument("--out", default="runs/ae")
    ae.add_argument("--config", help="JSON file of configuration keys (flags override it)")
    ae.add_argument("--resume", action="store_true")
    _add_train_options(ae, costs=("l2", "l1", "perceptual"))
    _add_json(ae)
    ae.set_defaults(func=cmd_ae)

    enc = sub.add_parser("encode", help="latent codes of images through an auto-encoder run")
    enc.add_argument("run")
    enc.add_argument("inputs", nargs="+")
    enc.add_argument("--out", required=True, help="output .npz (latents, names)")
    enc.add_argument("--device")
    _add_json(enc)
    enc.set_defaults(func=cmd_encode)

    dec = sub.add_parser("decode", help="images from latent codes (reconstruct: 'monge translate RUN IMAGES')")
    dec.add_argument("run")
    dec.add_argument("latents", help=".npz written by monge encode")
    dec.add_argument("--out", required=True, help="output folder")
    dec.add_argument("--device")
    _add_json(dec)
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
    _add_json(tl)
    tl.set_defaults(func=cmd_translate)

    bench = sub.add_parser("bench", help="benchmarks with a known answer")
    b_sub = bench.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    w2 = b_sub.add_parser("w2", help="L2-UVP on the continuous W2 benchmark (NOT, identity, linear, POT EMD)")
    w2.add_argument("--dim", type=int, required=True, help="2, 4, 8, 16, 32, 64 or 128")
    w2.add_argument("--pair", choices=["mix3tomix10", "gaussian"], default="mix3tomix10",
                    help="the benchmark's mixture pair, or a closed-form Gaussian pair (sanity check)")
    w2.add_argument("--steps", type=int, default=3000, help="NOT outer iterations")
    w2.add_argument("--batch-size", type=int, default=1024)
    w2.add_argument("--hidden", type=int, help="MLP width (default max(128, 4 dim))")
    w2.add_argument("--lr", type=float, default=1e-3)
    w2.add_argument("--seed", type=int, default=0)
    w2.add_argument("--data-dir", help="folder of mix3tomix10_{D}_v{1,2}.pt (default ../shared/data/w2bench)")
    _add_json(w2)
    w2.set_defaults(func=cmd_bench_w2)

    st = sub.add_parser("style", help="STROTSS style transfer of one content image to one style image")
    st.add_argument("content")
    st.add_argument("style")
    st.add_argument("--out", required=True, help="output PNG")
    st.add_argument("--alpha", type=float, default=1.0, help="content weight (higher keeps more content)")
    st.add_argument("--size", type=int, default=512, help="long side of the result")
    st.add_argument("--steps", type=int, default=250, help="steps per scale")
    st.add_argument("--scales", type=int, default=4, help="scales, each doubling the long side up to --size")
    st.add_argument("--lr", type=float, default=2e-3)
    st.add_argument("--content-mask", help="colour mask of the content's regions")
    st.add_argument("--style-mask", help="colour mask of the style's regions (same colours)")
    st.add_argument("--backbone", default="effnet-lite0", choices=["effnet-lite0", "vgg16"],
                    help="vgg16 needs vgg16-397923af.pth in the hub cache or $MONGE_VGG16_WEIGHTS")
    st.add_argument("--seed", type=int, default=0)
    st.add_argument("--device", default="cpu")
    st.add_argument("--precision", default="auto", choices=["auto", "32", "bf16-mixed"],
                    help="auto: bfloat16 autocast where the device has fast bf16 (AMX CPUs, CUDA)")
    st.add_argument("--save-scales", action="store_true", help="also write each scale's result")
    _add_json(st)
    st.set_defaults(func=cmd_style)

    metrics = sub.add_parser("metrics", help="FD / FID, KID and paired distances between image sets")
    m_sub = metrics.add_subparsers(dest="metric", required=True, metavar="METRIC")
    for name, text in (("fd", "Frechet distance (FD-EffNetLite0 offline, FID with Inception weights)"),
                       ("kid", "Kernel Inception-style distance in the same features"),
                       ("paired", "MSE, PSNR and PD-EffNetLite0 between images paired by file name")):
        p = m_sub.add_parser(name, help=text, description=text)
        p.add_argument("a", help="image set (folder, .h5, .zip, emoji:STYLE) or, for fd/kid, a stats .npz")
        p.add_argument("b", help="the other image set")
        p.add_argument("--size", type=int, default=64, help="images are resized to SIZE x SIZE first")
        p.add_argument("--h5-key", help="dataset key inside HDF5 files (default: the first)")
        if name != "paired":
            p.add_argument("--backbone", default="effnet-lite0", choices=["effnet-lite0", "inception"])
            p.add_argument("--weights", help="Inception weights file (else $MONGE_INCEPTION_WEIGHTS or the hub cache)")
            p.add_argument("--save-stats", help="also write A's statistics to this .npz")
        if name == "kid":
            p.add_argument("--subset-size", type=int, default=1000)
        _add_json(p)
        p.set_defaults(func=cmd_metrics)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .engine import tune_cpu_allocator
    from .features import WeightsNotFound
    from .solvers import DivergenceError

    args = build_parser().parse_args(argv)
    tune_cpu_allocator()
    try:
        args.func(args)
    except (CLIError, DataError, WeightsNotFound, ValueError, FileNotFoundError, DivergenceError) as err:
        print(f"monge {args.command}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
