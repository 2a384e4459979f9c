"""``monge ui``: the web app (Gradio). Two tabs: guided style transfer with painted masks, and translation
with a trained map. The work itself lives in :mod:`.style_job` and :mod:`.translate_job`; this module
lays out the page and wires it. One job runs at a time (a queue), so two users on a small machine
wait their turn instead of halving each other's speed.
"""

import socket
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..data.images import IMAGE_SUFFIXES
from ..errors import ConfigError, MongeError
from ..style.options import StyleOptions
from .style_job import BRUSH_COLOURS, StyleJob, check_masks, editor_image

_cancel_events: dict[str, threading.Event] = {}  # one per open page (Gradio's hash of it): set by its Cancel button


def _cancel_event(request: Any) -> threading.Event:
    """The cancel flag of the open page behind ``request`` (set by its Cancel button)."""
    return _cancel_events.setdefault(request.session_hash or "local", threading.Event())


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _eta(fraction: float, started: float) -> str:
    if fraction <= 0:
        return "estimating"
    left = (time.perf_counter() - started) * (1 - fraction) / fraction
    return f"{int(left // 60)}:{int(left % 60):02d} left"


def _enlarged(row: Any, height: int = 160) -> Any:
    """A row of small images as uint8, enlarged by whole pixels (nearest) so 32 px images stay crisp."""
    import numpy as np

    from ..data.images import tensor_to_uint8

    pixels = tensor_to_uint8(row)
    k = max(1, height // pixels.shape[0])
    return np.repeat(np.repeat(pixels, k, axis=0), k, axis=1)


def _examples(folder: Path | None) -> list[list[str]]:
    """(content, style) pairs from ``folder/content`` and ``folder/style``, paired in name order."""
    if folder is None:
        return []
    listing = [
        sorted(str(p) for p in (folder / sub).glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        for sub in ("content", "style")
    ]
    return [[c, s] for c, s in zip(*listing)]


def _style_layout(gr: Any, examples: Path | None, defaults: StyleOptions) -> dict[str, Any]:
    """The style tab's components by name: the two editors, the options, the buttons and the outputs."""
    brush = gr.Brush(
        colors=[_hex(c) for c in BRUSH_COLOURS.values()], default_color=_hex(BRUSH_COLOURS["red"]), color_mode="fixed"
    )
    gr.Markdown(
        "Upload a content and a style image. To guide the transfer, paint regions with the same brush "
        "colours on both: region *k* of the content takes its style from the region of the same colour "
        "in the style image (unpainted parts form one more region)."
    )
    ui: dict[str, Any] = {}
    with gr.Row():
        ui["content"] = gr.ImageEditor(
            label="content", brush=brush, eraser=gr.Eraser(), format="png", elem_id="content"
        )
        ui["style"] = gr.ImageEditor(label="style", brush=brush, eraser=gr.Eraser(), format="png", elem_id="style")
    pairs = _examples(examples)
    if pairs:
        gr.Examples(pairs, [ui["content"], ui["style"]], label="examples")
    with gr.Row():
        ui["alpha"] = gr.Slider(
            0.0, 4.0, value=defaults.alpha, step=0.125, label="alpha (content weight)", elem_id="alpha"
        )
        ui["size"] = gr.Slider(
            32, 1024, value=defaults.size, step=32, label="output size (long side, px)", elem_id="size"
        )
        ui["steps"] = gr.Slider(10, 400, value=defaults.steps, step=10, label="steps per scale", elem_id="steps")
        ui["scales"] = gr.Slider(1, 5, value=defaults.scales, step=1, label="scales", elem_id="scales")
        ui["backbone"] = gr.Dropdown(["effnet-lite0", "vgg16"], value=defaults.backbone, label="backbone")
        ui["seed"] = gr.Number(value=defaults.seed, precision=0, label="seed")
    with gr.Row():
        ui["run"] = gr.Button("Run", variant="primary", elem_id="run-style")
        ui["cancel"] = gr.Button("Cancel", elem_id="cancel-style")
    ui["status"] = gr.Markdown(elem_id="style-status")
    with gr.Row():
        ui["scales_out"] = gr.Gallery(label="each scale as it finishes", columns=5, height=260, format="png")
        ui["result"] = gr.Image(label="result", type="filepath", format="png", elem_id="style-result")
    ui["files"] = gr.File(label="downloads: result PNG, style.json, everything zipped", file_count="multiple")
    return ui


def _style_tab(gr: Any, root: Path, examples: Path | None) -> None:
    """The style-transfer tab: two image editors (paint regions to guide the transfer), the options
    (the ``interactive`` preset of :class:`StyleOptions`), a live gallery of scales, downloads."""
    defaults = StyleOptions.preset("interactive")

    def run_style(
        content_value: dict | None,
        style_value: dict | None,
        alpha: float,
        size: int,
        steps: int,
        scales: int,
        backbone: str,
        seed: int,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),
    ) -> Iterator[tuple]:
        try:
            content, content_mask, notice_c = editor_image(content_value, "content image")
            style, style_mask, notice_s = editor_image(style_value, "style image")
            check_masks(content_mask, style_mask)
            options = StyleOptions.preset(
                "interactive",
                alpha=float(alpha),
                size=int(size),
                steps=int(steps),
                scales=int(scales),
                backbone=backbone,
                seed=int(seed),
            )
        except (MongeError, ValueError) as err:
            raise gr.Error(str(err), duration=None) from None
        notices = " ".join(n for n in (notice_c, notice_s) if n)
        regions = "guided by the painted regions" if content_mask is not None else "no regions painted"
        header = f"Running at {options.size} px, {options.scales} scales, {regions}. {notices}".strip()
        cancel = _cancel_event(request)
        cancel.clear()
        job = StyleJob(content, style, options, root / f"style-{uuid.uuid4().hex[:8]}", content_mask, style_mask)
        scales_done: list[tuple[Any, str]] = []
        started = time.perf_counter()
        yield header, scales_done, None, None
        try:
            for kind, payload in job.run(cancel):
                if kind == "progress":
                    fraction = float(payload)
                    progress(fraction, desc=f"STROTSS {fraction:.0%}, {_eta(fraction, started)}")
                elif kind == "scale":
                    k, pixels = payload
                    scales_done.append((pixels, f"scale {k + 1}/{options.scales} ({max(pixels.shape[:2])} px)"))
                    yield header, list(scales_done), None, None
                elif kind == "done":
                    result, style_file = payload
                    bundle = job.folder / "monge-style.zip"
                    with zipfile.ZipFile(bundle, "w") as zf:
                        for path in sorted(job.folder.glob("*.png")) + [style_file]:
                            zf.write(path, path.name)
                    took = time.perf_counter() - started
                    done = (
                        f"Done in {took:.1f} s. `style.json` reproduces it: unzip the bundle and run "
                        f"`monge style --config style.json --out result.png`. {notices}"
                    )
                    yield done.strip(), list(scales_done), str(result), [str(result), str(style_file), str(bundle)]
        except MongeError as err:
            raise gr.Error(str(err), duration=None) from None

    def cancel_style(request: gr.Request) -> str:
        _cancel_event(request).set()
        return "Cancelled."

    ui = _style_layout(gr, examples, defaults)
    event = ui["run"].click(
        run_style,
        [ui[k] for k in ("content", "style", "alpha", "size", "steps", "scales", "backbone", "seed")],
        [ui[k] for k in ("status", "scales_out", "result", "files")],
    )
    ui["cancel"].click(cancel_style, None, ui["status"], cancels=[event], queue=False)


def _translation_tab(gr: Any, root: Path, runs_root: Path) -> None:
    """The translation tab: a run, stack or exported map folder, uploaded images or a zip, a gallery and a zip out."""
    from .translate_job import open_map, read_uploads, translate

    def run_translate(folder: str, level: str, draws: int, files: list[str] | None) -> tuple:
        try:
            level = (level or "best").strip()
            if level != "best" and not level.isdigit():
                raise ConfigError("level", f"stack level {level!r}: give a number or best")
            opened = open_map(folder, None if level == "best" else int(level), int(draws), runs_root)
            names, x = read_uploads(files or [], opened.size)
            rows, archive = translate(opened, names, x, root / f"translate-{uuid.uuid4().hex[:8]}")
        except (MongeError, ValueError, OSError) as err:
            raise gr.Error(str(err), duration=None) from None
        gallery = [(_enlarged(row), name) for row, name in zip(rows, names)]
        text = f"{opened.description}. Each row: source | {' | '.join(opened.titles)}. {len(names)} images."
        return text, gallery, str(archive)

    gr.Markdown(
        "Give a trained run folder (`monge train`), a stack (`monge stack`) or an exported map "
        "(`monge export`), then upload images or a zip of images."
    )
    with gr.Row():
        folder_in = gr.Textbox(label=f"run, stack or exported map folder (under {runs_root})", elem_id="run-folder")
        level_in = gr.Textbox(value="best", label="stack level (a number, or best)", elem_id="level")
        draws_in = gr.Slider(1, 8, value=3, step=1, label="draws of a stochastic map")
    uploads = gr.File(label="images or a zip", file_count="multiple", type="filepath", elem_id="translate-files")
    go = gr.Button("Translate", variant="primary", elem_id="run-translate")
    translate_status = gr.Markdown(elem_id="translate-status")
    rows_out = gr.Gallery(
        label="source | mapped", columns=4, height=560, object_fit="contain", format="png", elem_id="translate-gallery"
    )
    zip_out = gr.File(label="download all (zip)")
    go.click(run_translate, [folder_in, level_in, draws_in, uploads], [translate_status, rows_out, zip_out])


def build_app(
    workdir: str | Path | None = None, examples: str | Path | None = None, runs_root: str | Path = "."
) -> Any:
    """The Gradio Blocks of the app; ``workdir`` holds each job's files (a temporary folder by default);
    the translation tab opens only folders inside ``runs_root`` (default: the current folder)."""
    import gradio as gr

    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="monge-ui-"))
    root.mkdir(parents=True, exist_ok=True)
    with gr.Blocks(title="monge") as app:
        gr.Markdown("# monge\nOptimal-transport image translation and STROTSS style transfer.")
        with gr.Tab("Style transfer"):
            _style_tab(gr, root, Path(examples) if examples else None)
        with gr.Tab("Translation"):
            _translation_tab(gr, root, Path(runs_root).resolve())
    app.queue(default_concurrency_limit=1)  # one job at a time; the rest wait in line
    app.monge_workdir = root
    return app


def launch_local(
    workdir: str | Path | None = None, examples: str | Path | None = None, runs_root: str | Path = "."
) -> tuple[Any, str]:
    """Serve the app from this process, in the background, on a free localhost port (for scripts and
    browser tests); returns the app (``close()`` it when done) and its URL."""
    app = build_app(workdir, examples, runs_root)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, allowed_paths=[str(app.monge_workdir)]
    )
    return app, f"http://127.0.0.1:{port}"


def serve(
    host: str = "127.0.0.1",
    port: int = 7860,
    workdir: str | None = None,
    examples: str | None = None,
    runs_root: str = ".",
) -> None:
    """Build the app and serve it until interrupted."""
    app = build_app(workdir, examples, runs_root)
    app.launch(server_name=host, server_port=port, allowed_paths=[str(app.monge_workdir)], footer_links=["api"])
