"""Regenerate the web app's pictures in the README: both tabs in real use, in headless Chromium.

    python docs/screenshots.py --run RUN [--content PHOTO --style PAINTING] [--out docs]

- ``ui_style.png``: the style tab with a photo and a painting, the sky painted as one region on
  both (the rest is the second region), after a run at the app's interactive preset;
- ``ui_translate.png``: the translation tab with RUN (a twitter -> google emoji run, as
  ``monge demo`` trains) on eight held-out Twitter emoji.

Needs ``pip install -e ".[ui,uitest]"`` and a Chromium (``apt-get install chromium``). The
default photo and painting are the shared style-transfer images beside the project
(``../shared/data/style``: a valley photograph and The Starry Night).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from monge.bench.pairs import held_out_pairs
from monge.data.images import save_png
from monge.train.config import TrainConfig

TIMEOUT_MS = int(float(os.environ.get("MONGE_SHOTS_TIMEOUT", 600)) * 1000)  # the style run's wait
STYLE_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "style"


def held_out_emoji(run: Path, folder: Path, count: int = 8) -> list[Path]:
    """``count`` of RUN's held-out source images as PNGs in ``folder``."""
    cfg = TrainConfig.from_file(run / "config.json")
    pairs = held_out_pairs(run, cfg.source, cfg.target, cfg.size)
    step = max(1, len(pairs.names) // count)
    paths = []
    for name, image in list(zip(pairs.names, pairs.x))[::step][:count]:
        paths.append(folder / name)
        save_png(image, paths[-1])
    return paths


def paint_top(page, elem: str, image: str, share: float = 0.35) -> None:
    """Brush strokes over the top ``share`` of ``image`` as editor ``elem`` shows it (one region)."""
    from PIL import Image

    page.locator(f"#{elem} button[aria-label=Brush]").click()
    box = page.locator(f"#{elem} canvas").first.bounding_box()
    w, h = Image.open(image).size
    shown_h = 0.8 * box["height"]  # the editor shows the image centred, a little inside the canvas's height
    shown_w = shown_h * w / h
    left = box["x"] + (box["width"] - shown_w) / 2
    top = box["y"] + (box["height"] - shown_h) / 2
    for k in range(12):
        y = top + (0.04 + k / 12 * (share - 0.04)) * shown_h
        page.mouse.move(left + 0.05 * shown_w, y)
        page.mouse.down()
        page.mouse.move(left + 0.95 * shown_w, y, steps=16)
        page.mouse.up()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="a trained twitter -> google run folder")
    p.add_argument("--content", default=str(STYLE_DATA / "content" / "c5.png"))
    p.add_argument("--style", default=str(STYLE_DATA / "style" / "s4.jpg"))
    p.add_argument("--out", default=str(Path(__file__).resolve().parent))
    p.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    args = p.parse_args()
    from playwright.sync_api import sync_playwright

    from monge.ui.app import launch_local

    run, out = Path(args.run).resolve(), Path(args.out)
    work = Path(tempfile.mkdtemp(prefix="monge-shots-"))
    emoji = held_out_emoji(run, work)
    app, url = launch_local(work, STYLE_DATA if STYLE_DATA.exists() else None, run.parent)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.goto(url, wait_until="networkidle")
            for elem, image in (("content", args.content), ("style", args.style)):
                page.locator(f"#{elem} input[type=file]").set_input_files(image)
                page.locator(f"#{elem}").get_by_text("Upload an image").wait_for(state="hidden")
                page.wait_for_timeout(800)
                paint_top(page, elem, image)
            page.locator("#run-style").click()
            try:
                page.get_by_text("Done in").or_(page.locator(".toast-body")).first.wait_for(timeout=TIMEOUT_MS)
            except Exception:
                page.screenshot(path=str(work.parent / "monge-shots-failed.png"), full_page=True)
                raise
            if page.locator(".toast-body").count():
                raise SystemExit(f"the style run failed: {page.locator('.toast-body').first.inner_text()}")
            page.wait_for_timeout(1000)
            page.screenshot(path=str(out / "ui_style.png"), full_page=True)

            page.get_by_role("tab", name="Translation").click()
            page.locator("#run-folder textarea, #run-folder input").first.fill(str(run))
            page.locator("#translate-files input[type=file]").set_input_files([str(e) for e in emoji])
            page.locator("#run-translate").click()
            page.get_by_text(f"{len(emoji)} images.").wait_for(timeout=120_000)
            page.wait_for_timeout(2000)
            page.screenshot(path=str(out / "ui_translate.png"), full_page=True)
            browser.close()
    finally:
        app.close()
        shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {out / 'ui_style.png'} and {out / 'ui_translate.png'}")


if __name__ == "__main__":
    main()
