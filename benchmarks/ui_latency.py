"""Time from upload to result in the web app, in a real browser, at the page's defaults (256 px, 3 scales).

    python benchmarks/ui_latency.py --content ../shared/data/style/content/c1.png \
        --style ../shared/data/style/style/s4.jpg --examples ../shared/data/style --screenshot /tmp/ui_style.png

Serves ``monge ui`` in this process, drives Debian's Chromium with Playwright (``pip install -e ".[uitest]"``),
uploads both images, presses Run and waits for the result. Prints one JSON line with the times and the CPU.
"""

import argparse
import json
import shutil
import tempfile
import time

from playwright.sync_api import sync_playwright

from monge.engine import cpu_name
from monge.ui.app import launch_local


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--content", required=True)
    p.add_argument("--style", required=True)
    p.add_argument("--examples", help="a folder with content/ and style/ to show as examples")
    p.add_argument("--screenshot", help="save a full-page screenshot of the finished page here")
    p.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = p.parse_args()
    workdir = tempfile.mkdtemp(prefix="monge-ui-bench-")
    app, url = launch_local(workdir, args.examples)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.goto(url, wait_until="networkidle")
            t0 = time.perf_counter()
            for elem, path in (("content", args.content), ("style", args.style)):
                page.locator(f"#{elem} input[type=file]").set_input_files(path)
                page.locator(f"#{elem}").get_by_text("Upload an image").wait_for(state="hidden")
            t1 = time.perf_counter()
            page.locator("#run-style").click()
            page.get_by_text("Done in").wait_for(timeout=1_800_000)
            t2 = time.perf_counter()
            if args.screenshot:
                page.screenshot(path=args.screenshot, full_page=True)
            browser.close()
    finally:
        app.close()
    result = {"upload_s": round(t1 - t0, 1), "run_to_result_s": round(t2 - t1, 1), "total_s": round(t2 - t0, 1)}
    print(json.dumps({**result, "size": 256, "scales": 3, "steps": 250, "cpu": cpu_name()}))


if __name__ == "__main__":
    main()
