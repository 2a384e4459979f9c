"""The web app in a real browser: headless Chromium (Debian's package) driven by Playwright.

Skips, saying why, where Gradio, Playwright or a Chromium is missing (``pip install -e ".[uitest]"``
and ``apt-get install chromium``). Screenshots of both tabs go to the test's temporary folder (the
README's pictures come from ``docs/screenshots.py``, on real images).
"""

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_NETS
from PIL import Image

from monge.cli.main import main
from monge.style.options import read_style_file

pytest.importorskip("gradio", reason="the web app needs Gradio: pip install -e '.[uitest]'")
playwright = pytest.importorskip(
    "playwright.sync_api", reason="browser tests need Playwright: pip install -e '.[uitest]'"
)
CHROMIUM = os.environ.get("MONGE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    pytest.skip("no Chromium to drive (apt-get install chromium, or set MONGE_CHROMIUM)", allow_module_level=True)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    y, x = np.mgrid[0:48, 0:64]
    Image.fromarray(np.stack([x * 4, y * 5, 128 + 0 * x], -1).astype(np.uint8)).save(root / "content.png")
    stripes = (np.sin(x / 3)[..., None] * 127 + 128) * np.array([1.0, 0.3, 0.6])
    Image.fromarray(stripes.astype(np.uint8)).save(root / "style.png")
    (root / "notes.png").write_bytes(b"plain text, not a PNG")
    return root


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    from monge.ui.app import launch_local

    workdir = tmp_path_factory.mktemp("ui-work")
    app, url = launch_local(workdir, runs_root=tmp_path_factory.getbasetemp())  # the runs the tests train live there
    yield url, workdir
    app.close()


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture()
def page(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(app_url[0], wait_until="networkidle")
    page.wait_for_selector("#content input[type=file]", state="attached")
    yield page
    page.close()


def _paint_strokes_on_the_left(page, elem: str) -> None:
    """Three brush strokes on the image's left side (each mouse event costs a headless Chromium ~0.3 s)."""
    page.locator(f"#{elem} button[aria-label=Brush]").click()
    box = page.locator(f"#{elem} canvas").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dy in (-40, 0, 40):
        page.mouse.move(cx - 120, cy + dy)
        page.mouse.down()
        page.mouse.move(cx - 10, cy + dy, steps=2)
        page.mouse.up()


def _set(page, elem: str, value: str) -> None:
    box = page.locator(f"#{elem} input[type=number]")
    box.fill(value)
    box.press("Enter")


@pytest.mark.parametrize("painted", [False, True], ids=["plain", "masks"])
def test_style_result_appears_and_matches_the_api(page, app_url, inputs, painted, tmp_path):
    from monge.data.images import load_image
    from monge.style.strotss import stylize

    workdir = app_url[1]
    before = set(workdir.glob("style-*"))
    for elem in ("content", "style"):
        page.locator(f"#{elem} input[type=file]").set_input_files(str(inputs / f"{elem}.png"))
        page.locator(f"#{elem}").get_by_text("Upload an image").wait_for(state="hidden")
        page.wait_for_timeout(500)
        if painted:
            _paint_strokes_on_the_left(page, elem)
    for elem, value in (("size", "64"), ("steps", "10"), ("scales", "2")):
        _set(page, elem, value)
    page.locator("#run-style").click()
    page.locator("#style-result img").or_(page.locator(".toast-body")).first.wait_for(timeout=180_000)
    assert page.locator(".toast-body").count() == 0, page.locator(".toast-body").first.inner_text()
    page.get_by_text("Done in").wait_for(timeout=30_000)
    if painted:
        page.screenshot(path=str(tmp_path / "ui_style.png"), full_page=True)
    (job,) = set(workdir.glob("style-*")) - before
    options, files = read_style_file(job / "style.json")
    assert options["size"] == 64 and options["scales"] == 2 and options["steps"] == 10
    assert ("content_mask" in files) == painted
    if painted:  # the strokes reached the server: two regions (red and unpainted) on each image
        for key in ("content_mask", "style_mask"):
            colours = np.unique(np.asarray(Image.open(files[key])).reshape(-1, 3), axis=0)
            assert {tuple(c) for c in colours} == {(0, 0, 0), (255, 0, 0)}
    # the API on the same inputs and seed: the same image, up to PNG rounding (1/255)
    api = stylize(**{k: load_image(p) for k, p in files.items()}, **options, progress=False).image
    shown = np.asarray(Image.open(job / "result.png")).astype(int)
    expected = np.round((api.permute(1, 2, 0).numpy() + 1) * 127.5).astype(int)
    assert np.abs(shown - expected).max() <= 1


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, tiny_domains):
    out = tmp_path_factory.mktemp("ui-run") / "run"
    tiny = [*TINY_NETS, "--t-steps", "1", "--eval-every", "1", "--eval-images", "8", "--test-fraction", "0.2"]
    assert (
        main(
            ["train", "--source", tiny_domains[0], "--target", tiny_domains[1], *tiny, "--steps", "2"]
            + ["--out", str(out)]
        )
        == 0
    )
    return out


def test_translation_shows_rows_survives_bad_files_and_serves_on(page, tiny_run, tiny_domains, inputs, tmp_path):
    page.get_by_role("tab", name="Translation").click()
    page.locator("#run-folder textarea, #run-folder input").first.fill(str(inputs))  # not a run
    page.locator("#translate-files input[type=file]").set_input_files(str(inputs / "content.png"))
    page.locator("#run-translate").click()
    page.get_by_text("not a run").first.wait_for(timeout=30_000)
    page.locator("#run-folder textarea, #run-folder input").first.fill("/etc")  # the server's own folders stay shut
    page.locator("#run-translate").click()
    page.get_by_text("outside the folder this app serves").first.wait_for(timeout=30_000)
    page.locator("#run-folder textarea, #run-folder input").first.fill(str(tiny_run))
    page.locator("#translate-files input[type=file]").set_input_files(str(inputs / "notes.png"))
    page.locator("#run-translate").click()
    page.get_by_text("notes.png").first.wait_for(timeout=30_000)  # the error names the file
    images = sorted(Path(tiny_domains[0]).glob("*.png"))[:3]
    page.locator("#translate-files button[aria-label=Clear]").click()
    page.locator("#translate-files input[type=file]").set_input_files([str(p) for p in images])
    page.locator("#run-translate").click()
    page.get_by_text("Each row: source | T(x). 3 images.").wait_for(timeout=60_000)
    deadline = time.time() + 30
    while page.locator("#translate-gallery img").count() < 3 and time.time() < deadline:
        page.wait_for_timeout(200)
    assert page.locator("#translate-gallery img").count() >= 3
    page.screenshot(path=str(tmp_path / "ui_translate.png"), full_page=True)


def test_cancel_frees_the_worker(page, inputs):
    import threading

    for elem in ("content", "style"):
        page.locator(f"#{elem} input[type=file]").set_input_files(str(inputs / f"{elem}.png"))
        page.locator(f"#{elem}").get_by_text("Upload an image").wait_for(state="hidden")
    _set(page, "steps", "400")
    page.locator("#run-style").click()
    deadline = time.time() + 60
    while not any(t.name == "monge-style" for t in threading.enumerate()) and time.time() < deadline:
        page.wait_for_timeout(100)
    assert any(t.name == "monge-style" for t in threading.enumerate()), "the run never started"
    page.locator("#cancel-style").click()
    page.get_by_text("Cancelled.").wait_for(timeout=30_000)
    deadline = time.time() + 30
    while any(t.name == "monge-style" for t in threading.enumerate()) and time.time() < deadline:
        page.wait_for_timeout(100)
    assert not any(t.name == "monge-style" for t in threading.enumerate())


def test_a_runs_report_html_renders_on_its_own(browser, tiny_run, tmp_path):
    page = browser.new_page()
    page.goto((tiny_run / "report.html").as_uri())
    assert page.get_by_role("cell", name="identity (baseline)").is_visible()
    assert page.locator("img[alt='sample grid']").evaluate("img => img.naturalWidth") > 0  # inlined, loaded
    curve = page.locator("svg[role=img]")  # drawn by the page itself: no plotting library needed
    assert curve.bounding_box()["width"] > 100 and curve.locator("polyline").count() == 1
    page.close()
