"""The style tab's work, without the page: painted masks, input checks, one cancellable run, its files.

Masks follow ``monge style --content-mask/--style-mask``: a colour image per input, where region k
of the content takes its style from the region of the same colour in the style image. In the page
the user paints with the brush colours below; unpainted pixels form one more region, black.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..data.images import pil_to_tensor
from ..errors import DataError
from ..style.masks import mask_regions
from ..style.options import INPUTS, StyleOptions, write_style_file

BRUSH_COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255), "yellow": (255, 255, 0)}
UNPAINTED = (0, 0, 0)
MAX_SIDE = 1024  # larger uploads are downscaled (STROTSS never works above its output size anyway)


class Cancelled(Exception):
    """The user cancelled the run (raised inside ``stylize`` through its progress callback)."""


def fit_upload(pixels: np.ndarray | None, name: str) -> tuple[np.ndarray, str]:
    """An uploaded image as RGB uint8, downscaled when its long side passes :data:`MAX_SIDE`; and a notice
    saying so (empty when nothing changed)."""
    if pixels is None:
        raise DataError(f"{name}: no image uploaded")
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4) or min(pixels.shape[:2]) < 16:
        raise DataError(f"{name}: not an RGB image of at least 16 x 16 px (got shape {tuple(pixels.shape)})")
    rgb = np.ascontiguousarray(pixels[..., :3]).astype(np.uint8)
    h, w = rgb.shape[:2]
    if max(h, w) <= MAX_SIDE:
        return rgb, ""
    scale = MAX_SIDE / max(h, w)
    small = (max(16, round(w * scale)), max(16, round(h * scale)))
    resized = np.asarray(Image.fromarray(rgb).resize(small, Image.Resampling.LANCZOS))
    return resized, f"{name}: {w} x {h} px was downscaled to {small[0]} x {small[1]} px."


def painted_mask(layers: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray | None:
    """The colour mask of painted layers (RGBA, the image's size): each painted pixel takes the nearest
    brush colour, unpainted ones :data:`UNPAINTED`. None when nothing was painted."""
    mask = np.zeros((*shape, 3), np.uint8)
    brushes = np.array(list(BRUSH_COLOURS.values()), np.float32)
    painted_any = False
    for layer in layers:
        if layer is None or layer.ndim != 3 or layer.shape[2] < 4 or layer.shape[:2] != shape:
            continue
        painted = layer[..., 3] > 127
        if painted.any():
            painted_any = True
            colours = layer[painted][:, :3].astype(np.float32)
            nearest = ((colours[:, None] - brushes[None]) ** 2).sum(-1).argmin(1)
            mask[painted] = brushes[nearest].astype(np.uint8)
    return mask if painted_any else None


def editor_image(value: dict | None, name: str) -> tuple[np.ndarray, np.ndarray | None, str]:
    """An image editor's value ({background, layers, composite}) as the image, its painted mask (or None)
    and a downscaling notice."""
    if not value or value.get("background") is None:
        raise DataError(f"{name}: no image uploaded")
    background = value["background"]
    mask = painted_mask(list(value.get("layers") or []), tuple(background.shape[:2]))
    image, notice = fit_upload(background, name)
    if mask is not None and image.shape[:2] != mask.shape[:2]:
        mask = np.asarray(Image.fromarray(mask).resize(image.shape[1::-1], Image.Resampling.NEAREST))
    return image, mask, notice


def check_masks(content_mask: np.ndarray | None, style_mask: np.ndarray | None) -> None:
    """Both masks or neither, with the same number of regions (clear messages for the page)."""
    if content_mask is None and style_mask is None:
        return
    if content_mask is None or style_mask is None:
        painted, bare = ("content", "style") if style_mask is None else ("style", "content")
        raise DataError(f"regions are painted on the {painted} image only: paint the same colours on the {bare} image")
    counts = [
        len(mask_regions(pil_to_tensor(m), name)[1])
        for m, name in ((content_mask, "content mask"), (style_mask, "style mask"))
    ]
    if counts[0] != counts[1]:
        raise DataError(
            f"the content mask has {counts[0]} regions and the style mask {counts[1]} (unpainted counts as one): "
            "paint the same brush colours on both"
        )


@dataclass
class StyleJob:
    """One style transfer: inputs as uint8 arrays, options, and the folder its files go to."""

    content: np.ndarray
    style: np.ndarray
    options: StyleOptions
    folder: Path
    content_mask: np.ndarray | None = None
    style_mask: np.ndarray | None = None

    def save_inputs(self) -> dict[str, str]:
        """Write the inputs as PNGs in the folder; their names, for the style file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        names = {}
        for key in INPUTS:
            pixels = getattr(self, key)
            if pixels is not None:
                Image.fromarray(pixels).save(self.folder / f"{key}.png")
                names[key] = f"{key}.png"
        return names

    def run(self, cancel: threading.Event) -> Iterator[tuple[str, Any]]:
        """Run in a worker thread; yield ("progress", fraction), ("scale", (k, uint8 image)) as they come,
        then ("done", (result PNG path, style file path)). Setting ``cancel`` stops the worker at its next step."""
        from ..data.images import save_png, tensor_to_uint8
        from ..style.strotss import stylize

        inputs = self.save_inputs()
        events: queue.Queue = queue.Queue()

        def on_progress(fraction: float) -> None:
            if cancel.is_set():
                raise Cancelled
            events.put(("progress", fraction))

        def work() -> None:
            masks: dict[str, Any] = {}
            if self.content_mask is not None and self.style_mask is not None:
                masks = {"content_mask": pil_to_tensor(self.content_mask), "style_mask": pil_to_tensor(self.style_mask)}
            try:
                t0 = time.perf_counter()
                result = stylize(
                    pil_to_tensor(self.content),
                    pil_to_tensor(self.style),
                    **masks,
                    **self.options.kwargs(),
                    progress=False,
                    on_scale=lambda k, img: events.put(("scale", (k, tensor_to_uint8(img)))),
                    on_progress=on_progress,
                )
                out = self.folder / "result.png"
                save_png(result.image, out)
                record = {"seconds": round(time.perf_counter() - t0, 1), "history": result.history}
                write_style_file(self.folder / "style.json", self.options, inputs, **record)
                events.put(("done", (out, self.folder / "style.json")))
            except BaseException as err:  # noqa: BLE001 - handed to the page's thread, which raises it there
                events.put(("error", err))

        worker = threading.Thread(target=work, name="monge-style", daemon=True)
        worker.start()
        try:
            while True:
                kind, payload = events.get()
                if kind == "error":
                    raise payload
                yield kind, payload
                if kind == "done":
                    return
        finally:
            cancel.set()  # the page closed the generator (cancel, disconnect) or it finished: free the worker
            worker.join(timeout=60)
