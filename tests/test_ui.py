"""The web app's work without a browser: painted masks, input checks, cancelling, the style file, translation."""

import json
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY_NETS
from PIL import Image

from monge.cli.main import main
from monge.errors import ConfigError, DataError
from monge.style.options import StyleOptions
from monge.ui.style_job import Cancelled, StyleJob, check_masks, editor_image, fit_upload, painted_mask
from monge.ui.translate_job import open_map, read_uploads, translate


def _gradient(h: int = 24, w: int = 32) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // w, y * 255 // h, np.full_like(x, 90)], -1).astype(np.uint8)


def _layer(h: int, w: int, colour: tuple[int, int, int], cols: slice) -> np.ndarray:
    layer = np.zeros((h, w, 4), np.uint8)
    layer[:, cols, :3] = colour
    layer[:, cols, 3] = 255
    return layer


def test_painted_layers_become_a_brush_colour_mask():
    h, w = 24, 32
    off_red = _layer(h, w, (230, 20, 10), slice(0, 10))  # antialiased strokes snap to the nearest brush
    blue = _layer(h, w, (0, 0, 250), slice(20, 32))
    mask = painted_mask([off_red, blue], (h, w))
    assert (mask[:, :10] == (255, 0, 0)).all() and (mask[:, 20:] == (0, 0, 255)).all()
    assert (mask[:, 10:20] == 0).all()  # unpainted: black
    assert painted_mask([np.zeros((h, w, 4), np.uint8)], (h, w)) is None


def test_editor_value_gives_image_mask_and_downscales_huge_uploads():
    big = np.zeros((1200, 2400, 3), np.uint8)
    value = {"background": big, "layers": [_layer(1200, 2400, (255, 0, 0), slice(0, 1200))], "composite": big}
    image, mask, notice = editor_image(value, "content image")
    assert image.shape == (512, 1024, 3) and mask.shape == (512, 1024, 3)
    assert "downscaled" in notice and "2400 x 1200" in notice
    assert (mask[:, :500] == (255, 0, 0)).all() and (mask[:, 520:] == 0).all()
    small, notice = fit_upload(_gradient(), "style image")
    assert small.shape == (24, 32, 3) and notice == ""


@pytest.mark.parametrize(
    "value, message",
    [(None, "content image: no image uploaded"), ({"background": np.zeros((8, 8, 3), np.uint8)}, "at least 16")],
)
def test_missing_or_tiny_uploads_are_refused_by_name(value, message):
    with pytest.raises(DataError, match=message):
        editor_image(value, "content image")


def test_masks_must_come_in_pairs_with_the_same_region_count():
    h, w = 24, 32
    two = painted_mask([_layer(h, w, (255, 0, 0), slice(0, 16))], (h, w))
    three = painted_mask([_layer(h, w, (255, 0, 0), slice(0, 10)), _layer(h, w, (0, 255, 0), slice(20, 32))], (h, w))
    check_masks(two, two)
    check_masks(None, None)
    with pytest.raises(DataError, match="content mask has 2 regions and the style mask 3"):
        check_masks(two, three)
    with pytest.raises(DataError, match="painted on the content image only"):
        check_masks(two, None)


def test_a_job_streams_each_scale_and_its_style_file_reproduces_the_image(tmp_path, capsys):
    content, style = _gradient(48, 64), _gradient(48, 64)[:, ::-1].copy()
    job = StyleJob(content, style, StyleOptions(size=64, steps=3, scales=2), tmp_path / "job")
    events = list(job.run(threading.Event()))
    kinds = [k for k, _ in events]
    assert kinds.count("scale") == 2 and kinds[-1] == "done"
    fractions = [p for k, p in events if k == "progress"]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    result, style_file = events[-1][1]
    record = json.loads(style_file.read_text())
    assert record["scales"] == 2 and len(record["history"]) == 2 * 3 and record["seconds"] > 0  # as the CLI's
    again = tmp_path / "again.png"
    threads = str(torch.get_num_threads())  # bit for bit at the same thread count (a governed run may change it)
    assert main(["--threads", threads, "style", "--config", str(style_file), "--out", str(again)]) == 0
    assert np.array_equal(np.asarray(Image.open(again)), np.asarray(Image.open(result)))


def test_errors_in_the_worker_reach_the_page_by_name(tmp_path):
    job = StyleJob(_gradient(), _gradient(), StyleOptions(size=32, steps=3, scales=2), tmp_path / "job")
    with pytest.raises(ConfigError, match="first scale would be 12 px"):
        list(job.run(threading.Event()))


def test_cancelling_stops_the_worker(tmp_path):
    cancel = threading.Event()
    job = StyleJob(_gradient(), _gradient(), StyleOptions(size=32, steps=50, scales=1), tmp_path / "job")
    events = job.run(cancel)
    assert next(events)[0] == "progress"
    cancel.set()
    with pytest.raises(Cancelled):
        list(events)
    assert not any(t.name == "monge-style" for t in threading.enumerate())
    assert not (tmp_path / "job" / "result.png").exists()


def test_style_file_flags_override_and_bad_files_name_themselves(tmp_path, capsys):
    (tmp_path / "bad.json").write_text('{"content": "c.png", "style": "s.png", "colour": 3}')
    assert main(["style", "--config", str(tmp_path / "bad.json"), "--out", str(tmp_path / "o.png")]) == 2
    assert "unknown key 'colour'" in capsys.readouterr().err
    assert main(["style", "--out", str(tmp_path / "o.png")]) == 2
    assert "no content image" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, tiny_domains):
    out = tmp_path_factory.mktemp("ui") / "run"
    a, b = tiny_domains
    tiny = [*TINY_NETS, "--t-steps", "1", "--eval-every", "2", "--eval-images", "8", "--test-fraction", "0.2"]
    assert main(["train", "--source", a, "--target", b, *tiny, "--steps", "2", "--out", str(out)]) == 0
    return out


def test_translation_rows_and_zip(tiny_run, tiny_domains, tmp_path):
    opened = open_map(tiny_run, root=tiny_run.parent)
    assert opened.titles == ["T(x)"] and opened.size == 16
    files = [str(p) for p in sorted(Path(tiny_domains[0]).glob("*.png"))[:3]]
    with zipfile.ZipFile(tmp_path / "more.zip", "w") as zf:
        zf.write(files[0], "inner/one.png")
    names, x = read_uploads([*files, str(tmp_path / "more.zip")], opened.size)
    assert len(names) == 4 and x.shape == (4, 3, 16, 16)
    rows, archive = translate(opened, names, x, tmp_path / "out")
    assert len(rows) == 4 and rows[0].shape[-1] > 2 * 16  # source | T(x)
    with zipfile.ZipFile(archive) as zf:
        members = zf.namelist()
    assert "index.json" in members and sum(m.endswith(".png") for m in members) == 4
    expected = opened.stages(x[:1])[0][0]
    assert torch.allclose(rows[0][:, 2:18, 20:36], expected.clamp(-1, 1), atol=1e-6)


def test_translation_refuses_non_runs_and_non_images(tmp_path, tiny_run):
    with pytest.raises(DataError, match="not a run"):
        open_map(tmp_path, root=tmp_path)
    with pytest.raises(DataError, match="outside the folder this app serves"):
        open_map(tiny_run, root=tmp_path)  # a folder the page's server does not serve
    with pytest.raises(DataError, match="outside the folder this app serves"):
        open_map("../..", root=tmp_path)
    (tmp_path / "notes.png").write_bytes(b"plain text")
    with pytest.raises(DataError, match="notes.png"):
        read_uploads([tmp_path / "notes.png"], 16)


def test_a_stack_shows_every_level_and_a_weak_map_several_draws(tmp_path, tiny_domains):
    a, b = tiny_domains
    tiny = [*TINY_NETS, "--t-steps", "1", "--eval-every", "2", "--eval-images", "8", "--test-fraction", "0.2"]
    stack, weak = tmp_path / "stack", tmp_path / "weak"
    assert (
        main(["stack", "--source", a, "--target", b, *tiny, "--steps", "2", "--levels", "2", "--out", str(stack)]) == 0
    )
    assert (
        main(
            ["train", "--source", a, "--target", b, *tiny, "--steps", "2", "--cost", "weak", "--z-count", "2"]
            + ["--out", str(weak)]
        )
        == 0
    )
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    opened = open_map(stack, level=1, root=tmp_path)
    assert opened.titles == ["level 0", "level 1"]
    level0, level1 = opened.stages(x)
    assert not torch.allclose(level0, level1)  # the second level maps the first one's output on
    assert open_map(stack, level=0, root=tmp_path).titles == ["level 0"]
    draws = open_map(weak, draws=3, root=tmp_path)
    assert draws.titles == ["T(x) draw 1", "T(x) draw 2", "T(x) draw 3"]
    first, second, _ = draws.stages(x)
    assert not torch.allclose(first, second)  # a stochastic map: each draw its own noise
