"""Fault injection: hostile names, odd files, bad options, kills and concurrent runs on tiny data.

Each test reproduces a way monge once lost or misplaced results, or ended in a traceback, and
asserts the fixed behaviour: nothing written outside ``--out``, exit status 2 with one line that
names the file or option, the earlier results intact.
"""

import io
import json
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from conftest import ROOT, TINY_NETS
from PIL import Image

from monge.cli.main import main
from monge.data.images import load_image
from monge.data.outputs import OutputNames, safe_relative
from monge.data.sources import H5Source
from monge.errors import DataError, DivergenceError
from monge.runs import CSVLog, RunLock

TINY = [*TINY_NETS, "--t-steps", "1", "--eval-every", "1", "--eval-images", "8", "--test-fraction", "0.2"]


def _one_error_line(capsys, *needles: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    for needle in needles:
        assert needle in err[0], err[0]
    return err[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_domains):
    """A 2-step tiny run, trained once (a constant learning rate: a resume's new rate is then the
    rate its optimiser holds); tests copy it before changing it."""
    out = tmp_path_factory.mktemp("trained") / "run"
    a, b = tiny_domains
    args = ["train", "--source", a, "--target", b, *TINY, "--steps", "2", "--lr-schedule", "constant"]
    assert main([*args, "--out", str(out)]) == 0
    return out


def _copy(run: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "copy"
    shutil.copytree(run, dest)
    return dest


# ---------------------------------------------------------------- writes outside --out, lost outputs


def test_translate_keeps_hostile_zip_names_inside_out_and_never_merges_two_inputs(tmp_path, capsys, trained):
    archive = tmp_path / "in.zip"
    img = Image.fromarray(np.full((16, 16, 3), 90, np.uint8))
    with zipfile.ZipFile(archive, "w") as zf:
        for name in ("../evil.png", "../../x.png", "/abs.png", "x.jpg", "x.png", "sub/../../y.png"):
            buf = io.BytesIO()
            img.save(buf, format="PNG")
            zf.writestr(name, buf.getvalue())
    out = tmp_path / "deep" / "out"
    capsys.readouterr()
    assert main(["translate", str(trained), str(archive), "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    outside = [p for p in tmp_path.rglob("*.png") if out not in p.parents]
    assert outside == [] and len(written) == 6 == result["written"], written
    assert result["renamed to avoid a clash"] >= 1 and result["checkpoint"] == "best"


def test_output_names_are_relative_and_unique():
    assert safe_relative("../../a/b.png").as_posix() == "a/b.png"
    assert safe_relative("C:\\x\\y.png").as_posix() == "x/y.png"
    names = OutputNames(Path("/never/written"))
    names.root = Path("/tmp")  # path() creates parents: keep it harmless
    paths = [names.path(n).name for n in ("x.png", "x.jpg", "x.png", "x.webp")]
    assert len(set(paths)) == 4 and paths[0] == "x.png" and names.renamed == 3


def test_translate_names_the_checkpoint_it_really_used(tmp_path, capsys, trained, tiny_domains):
    run = _copy(trained, tmp_path)
    (run / "checkpoints" / "best.pt").unlink()
    capsys.readouterr()
    assert main(["translate", str(run), tiny_domains[0], "--out", str(tmp_path / "o"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["checkpoint"] == "last"


# ---------------------------------------------------------------- resume


def test_resume_of_a_copy_leaves_the_original_untouched_and_applies_a_new_lr(tmp_path, capsys, trained):
    before = (trained / "checkpoints" / "last.pt").read_bytes()
    run = _copy(trained, tmp_path)
    capsys.readouterr()
    args = ["train", "--resume", "--out", str(run), "--steps", "3", "--lr", "1e-4", "--map-lr", "1e-5", "--json"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "--lr 0.001 -> 0.0001" in captured.err and "--map-lr 0.0003 -> 1e-05" in captured.err
    assert json.loads(captured.out.strip().splitlines()[-1])["steps"] == 3
    assert json.loads((run / "config.json").read_text())["lr"] == 1e-4
    state = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert state["solver"]["opt_T"]["param_groups"][0]["lr"] == 1e-5  # the map's own rate
    assert state["solver"]["opt_f"]["param_groups"][0]["lr"] == 1e-4
    assert (trained / "checkpoints" / "last.pt").read_bytes() == before


def test_a_run_saved_before_a_new_default_resumes_with_what_it_was_trained_with(tmp_path, capsys, trained):
    run = _copy(trained, tmp_path)
    saved = json.loads((run / "config.json").read_text())
    assert saved.pop("ot_pair_loss") == "l1"  # today's default
    (run / "config.json").write_text(json.dumps(saved))  # as a run saved before the field existed
    assert main(["train", "--resume", "--out", str(run), "--steps", "3"]) == 0
    assert json.loads((run / "config.json").read_text())["ot_pair_loss"] == "l2"


def test_resume_refuses_a_changed_architecture_by_name(tmp_path, capsys, trained):
    run = _copy(trained, tmp_path)
    capsys.readouterr()
    assert main(["train", "--resume", "--out", str(run), "--unet-base", "8"]) == 2
    _one_error_line(capsys, "--unet-base", "cannot change on --resume")


def test_resume_with_an_unknown_config_key_names_it(tmp_path, capsys, trained):
    run = _copy(trained, tmp_path)
    (tmp_path / "cfg.json").write_text('{"bogus": 1}')
    capsys.readouterr()
    assert main(["train", "--resume", "--out", str(run), "--config", str(tmp_path / "cfg.json")]) == 2
    _one_error_line(capsys, "bogus", "unknown configuration key")


def test_resume_without_new_steps_keeps_the_final_metrics(tmp_path, capsys, trained):
    run = _copy(trained, tmp_path)
    final = json.loads((run / "summary.json").read_text())["final"]
    assert final
    assert main(["train", "--resume", "--out", str(run), "--steps", "2"]) == 0
    assert json.loads((run / "summary.json").read_text())["final"] == final


def test_a_fresh_run_into_a_failed_attempts_folder_drops_its_split(tmp_path, capsys, tiny_domains):
    a, b = tiny_domains
    out = tmp_path / "run"
    out.mkdir()
    stale = {"train": ["000.png"], "test": ["001.png"], "seed": 99, "test_fraction": 0.5}
    (out / "split_source.json").write_text(json.dumps(stale))
    assert main(["train", "--source", a, "--target", b, *TINY, "--steps", "1", "--out", str(out)]) == 0
    split = json.loads((out / "split_source.json").read_text())
    assert len(split["test"]) == 8  # 0.2 of 40, not the stale single file


def test_a_torn_last_row_of_a_log_does_not_block_resume(tmp_path):
    log = CSVLog(tmp_path / "losses.csv")
    log.write({"step": 1, "t_loss": 0.5, "f_loss": 0.1})
    with (tmp_path / "losses.csv").open("a") as fh:
        fh.write("2,0.4")  # killed mid-row
    assert [r["step"] for r in log.read()] == [1.0]
    log.truncate_after(5)
    assert [r["step"] for r in log.read()] == [1.0]


def test_a_second_process_on_the_same_out_is_refused(tmp_path, capsys, tiny_domains):
    a, b = tiny_domains
    out = tmp_path / "run"
    with RunLock(out):
        assert main(["train", "--source", a, "--target", b, *TINY, "--steps", "1", "--out", str(out)]) == 2
    _one_error_line(capsys, str(out), "in use by monge process")
    assert not (out / "checkpoints").exists()


def test_sigterm_during_a_checkpoint_write_leaves_no_temporary_file(tmp_path):
    script = f"""
import os, signal, sys, time
sys.path.insert(0, {str(ROOT)!r})
from monge.cli.main import install_signal_handlers
from monge.runs import atomic_write
install_signal_handlers()
def write(tmp):
    open(tmp, "wb").write(b"half a checkpoint")
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(30)
atomic_write({str(tmp_path / "last.pt")!r}, write)
"""
    done = subprocess.run([sys.executable, "-c", script], timeout=60)
    assert done.returncode == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- files that once decoded wrongly or crashed


def test_16_bit_grayscale_png_keeps_its_values(tmp_path):
    ramp = np.arange(16 * 16, dtype=np.uint16).reshape(16, 16) * 257
    path = tmp_path / "g16.png"
    Image.fromarray(ramp).save(path)
    assert Image.open(path).mode.startswith("I")
    x = load_image(path)
    expected = torch.from_numpy((ramp / 257).astype(np.float32)).div(127.5).sub(1)
    assert torch.allclose(x[0], expected, atol=1e-5) and x.min() == -1


def test_decompression_bomb_is_a_data_error(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 64 * 64 // 4)  # 4x over the limit: Pillow's bomb error
    with pytest.raises(DataError, match="big.png: refused"):
        load_image(path)


@pytest.mark.parametrize(
    "dtype,scale", [(np.float32, 1 / 255), (np.uint16, 257), (np.uint8, 1)], ids=["float", "uint16", "uint8"]
)
def test_hdf5_of_any_usual_pixel_type_reads_the_same_image(tmp_path, dtype, scale):
    pixels = np.random.default_rng(0).integers(0, 256, (3, 16, 16, 3)).astype(np.uint8)
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as f:
        f.create_group("meta")  # the first key is a group: skipped
        f["imgs"] = (pixels.astype(np.float64) * scale).astype(dtype)
    source = H5Source(path, 16)
    assert source.key == "imgs"
    assert torch.equal(source[1], torch.from_numpy(pixels[1]).permute(2, 0, 1).float().div(127.5).sub(1))


def test_hdf5_of_an_unusable_type_names_the_file(tmp_path):
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as f:
        f["imgs"] = np.zeros((2, 16, 16, 3), np.int64)
    with pytest.raises(DataError, match="x.h5.*int64"):
        H5Source(path, 16)


def test_a_checkpoint_of_another_architecture_is_named_as_such(tmp_path, capsys, trained, tiny_domains):
    run = _copy(trained, tmp_path)
    cfg = json.loads((run / "config.json").read_text())
    state = torch.load(run / "checkpoints" / "best.pt", weights_only=True)
    state["config"] = {**cfg, "unet_base": 8}
    torch.save(state, run / "checkpoints" / "best.pt")
    capsys.readouterr()
    assert main(["translate", str(run), tiny_domains[0], "--out", str(tmp_path / "o")]) == 2
    _one_error_line(capsys, "best.pt", "do not fit the architecture")


# ---------------------------------------------------------------- options: exit 2 and one line, never a traceback


@pytest.mark.parametrize(
    "flags,named",
    [
        (["--batch-size", "-1"], "--batch-size"),
        (["--batch-size", "0"], "--batch-size"),
        (["--t-steps", "0"], "--t-steps"),
        (["--eval-images", "0"], "--eval-images"),
        (["--size", "0"], "--size"),
        (["--lr", "100"], "--lr"),
        (["--lr", "nan"], "--lr"),
        (["--test-fraction", "1.5"], "--test-fraction"),
        (["--unet-base", "100000"], "--unet-base"),  # refused by its size, before 360 GB are asked for
        (["--f-width", "1000000", "--f-max-width", "1000000"], "--f-width"),
        (["--batch-size", "100000", *TINY[:8]], "--batch-size"),  # more than the 32 training images
    ],
)
def test_bad_training_options_exit_2_naming_the_flag(capsys, tiny_domains, tmp_path, flags, named):
    a, b = tiny_domains
    assert main(["train", "--source", a, "--target", b, *flags, "--out", str(tmp_path / "r")]) == 2
    _one_error_line(capsys, named)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "flags,named",
    [
        (["--scales", "0"], "--scales"),
        (["--steps", "0"], "--steps"),
        (["--size", "7"], "--size"),
        (["--alpha", "-0.125"], "--alpha"),
        (["--lr", "1e30"], "--lr"),
    ],
)
def test_bad_style_options_exit_2_naming_the_flag(capsys, tmp_path, flags, named):
    img = tmp_path / "c.png"
    Image.fromarray(np.full((32, 32, 3), 120, np.uint8)).save(img)
    assert main(["style", str(img), str(img), "--out", str(tmp_path / "o.png"), *flags]) == 2
    _one_error_line(capsys, named)


@pytest.mark.parametrize("command", ["train", "translate", "style"])
def test_an_out_under_a_file_fails_before_any_work(capsys, tmp_path, tiny_domains, trained, command):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    a, b = tiny_domains
    argv = {
        "train": ["train", "--source", a, "--target", b, *TINY, "--out", str(blocker / "run")],
        "translate": ["translate", str(trained), a, "--out", str(blocker / "o")],
        "style": ["style", f"{a}/000.png", f"{a}/001.png", "--out", str(blocker / "o.png"), "--size", "16"],
    }[command]
    assert main(argv) == 2
    _one_error_line(capsys, "--out", str(blocker))


def test_metrics_name_the_set_that_is_too_small(capsys, tmp_path, tiny_domains):
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(Path(tiny_domains[0]) / "000.png", one / "000.png")
    assert main(["metrics", "fd", tiny_domains[0], str(one), "--size", "16"]) == 2
    err = capsys.readouterr().err  # progress bars, the small-set warning, then the error
    assert "Traceback" not in err and "only 40 images" in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("monge metrics: error:") and str(one) in last and "1 image(s)" in last


# ---------------------------------------------------------------- divergence that stays finite


def test_a_loss_a_million_times_its_median_is_divergence():
    from monge.bench.w2 import not_solver

    solver = not_solver(2, hidden=8)
    for _ in range(30):
        assert not solver.explosion_guard.exploded(1.0, "T-loss")
    assert solver.explosion_guard.exploded(2e6, "T-loss")
    assert not solver.explosion_guard.exploded(2e6, "f-loss")  # each loss has its own history


def test_exploded_weights_are_never_checkpointed(tmp_path):
    from monge.bench.w2 import not_solver
    from monge.train.config import TrainConfig
    from monge.train.factory import save_checkpoint

    solver = not_solver(2, hidden=8)
    cfg = TrainConfig(source="a", target="b")
    save_checkpoint(tmp_path / "last.pt", solver, cfg, torch.Generator(), {})
    good = (tmp_path / "last.pt").read_bytes()
    with torch.no_grad():
        next(solver.T.parameters()).fill_(3.6e30)
    with pytest.raises(DivergenceError, match="exploded"):
        save_checkpoint(tmp_path / "last.pt", solver, cfg, torch.Generator(), {})
    assert (tmp_path / "last.pt").read_bytes() == good


def test_a_corrupt_image_in_a_streamed_split_gives_the_workers_one_line(tmp_path):
    from monge.data.domains import open_domain
    from monge.data.sampling import StreamSampler

    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(4):
        Image.fromarray(np.full((16, 16, 3), 40 * i, np.uint8)).save(folder / f"{i}.png")
    (folder / "2.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    source = open_domain(str(folder), 16).source
    sampler = StreamSampler(source, seed=0, workers=1)
    with pytest.raises(DataError) as caught:
        for _ in range(4):
            sampler(4)
    message = str(caught.value)
    assert "\n" not in message and "2.png" in message and "Traceback" not in message


def test_temporary_files_left_by_a_kill_are_removed_at_the_next_start(tmp_path, capsys, trained, tiny_domains):
    run = _copy(trained, tmp_path)
    litter = [run / "checkpoints" / ".last.pt.x1ab_9zq.monge-tmp", run / ".summary.json.a1b2c3d4.monge-tmp"]
    theirs = [run / "notes" / "deep" / "tmp_draft.tmp", run / "notes" / "x.monge-tmp", run / "checkpoints" / "tmp1.tmp"]
    for path in litter + theirs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half a checkpoint")
    assert main(["train", "--resume", "--out", str(run), "--steps", "3"]) == 0
    assert not any(path.exists() for path in litter)
    assert all(path.read_bytes() == b"half a checkpoint" for path in theirs)  # not monge's: left alone


@pytest.mark.parametrize("size,max_width", [(16, 128), (32, 1024), (64, 8)])
def test_the_potential_fits_every_size_and_width(size, max_width):
    from monge.ot.nets import ResNetPotential

    f = ResNetPotential(size, 3, nf=4, nf_max=max_width)
    assert f(torch.randn(2, 3, size, size)).shape == (2,)


def test_a_fresh_run_refuses_a_folder_of_the_users_files_and_keeps_them(tmp_path, capsys, tiny_domains):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "losses.csv").write_text("my own table\n")
    (out / "notes.txt").write_text("notes\n")
    a, b = tiny_domains
    args = ["train", "--source", a, "--target", b, "--steps", "1", "--eval-every", "1", "--eval-images", "8"]
    assert main([*args, *TINY_NETS, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds files monge did not write (losses.csv, notes.txt)" in err[0]
    assert (out / "losses.csv").read_text() == "my own table\n" and not (out / "checkpoints").exists()
    assert main([*args, *TINY_NETS, "--out", str(out), "--overwrite"]) == 0
    assert (out / "notes.txt").read_text() == "notes\n" and (out / "checkpoints" / "last.pt").exists()
    capsys.readouterr()
    assert main([*args, *TINY_NETS, "--out", str(tmp_path / "fresh")]) == 0  # a new folder needs nothing


def test_a_learning_rate_of_one_is_stopped_by_the_guard_with_one_line_naming_lr(tmp_path, capsys, tiny_domains):
    a, b = tiny_domains
    out = tmp_path / "run"
    args = ["train", "--source", a, "--target", b, "--steps", "20", "--eval-every", "5", "--eval-images", "8"]
    assert main([*args, *TINY_NETS, "--lr", "1", "--map-lr", "1", "--out", str(out), "--json"]) == 2
    captured = capsys.readouterr()
    err = [line for line in captured.err.strip().splitlines() if line.startswith("monge")]
    assert len(err) == 1 and "training diverged (try a lower --lr)" in err[0] and "step" in err[0]
    assert captured.out.strip() == ""  # no result printed, so no rc 0 with garbage
    assert (
        not (out / "checkpoints" / "last.pt").exists()
        or torch.load(out / "checkpoints" / "last.pt", weights_only=True)["solver"]["steps_done"] < 20
    )


def test_a_photo_loads_upright_and_a_huge_image_is_refused_before_decoding(tmp_path, monkeypatch):
    import monge.data.images as images

    tall = np.zeros((20, 10, 3), np.uint8)
    tall[:5] = 255  # a white band at the top, as the camera held it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to view": stored sideways, as phones do
    Image.fromarray(np.rot90(tall, 1).copy()).save(tmp_path / "phone.jpg", exif=exif, quality=95)
    upright = load_image(tmp_path / "phone.jpg")
    assert upright.shape == (3, 20, 10) and upright[:, :5].mean() > 0.8 and upright[:, 10:].mean() < -0.8
    monkeypatch.setattr(images, "MAX_PIXELS", 100)
    with pytest.raises(DataError, match=r"phone.jpg: 20 x 10 pixels, more than the limit of 100 .*MONGE_MAX_PIXELS"):
        load_image(tmp_path / "phone.jpg")


def test_a_refused_run_leaves_no_empty_folder_and_resume_without_a_run_says_so(capsys, tmp_path):
    assert main(["train", "--source", str(tmp_path / "nothere"), "--target", "x", "--out", str(tmp_path / "r")]) == 2
    _one_error_line(capsys, "nothere")
    assert not (tmp_path / "r").exists()
    assert main(["train", "--resume", "--out", str(tmp_path / "r")]) == 2
    _one_error_line(capsys, "--resume", "no run to resume")


@pytest.mark.parametrize(
    "arrays,words",
    [
        ({"mu": np.zeros((3, 4)), "sigma": np.eye(5)}, "expected (d,) and (d, d)"),
        ({"mu": np.zeros(10), "sigma": np.eye(10)}, "2048-d Inception features; this is 10-d"),
        ({"mu": np.full(2048, np.nan), "sigma": np.eye(2048)}, "NaN or infinite"),
    ],
)
def test_statistics_no_image_set_gives_are_refused_naming_the_file(capsys, tmp_path, arrays, words):
    np.savez(tmp_path / "s.npz", **arrays)
    assert main(["metrics", "fd", str(tmp_path / "s.npz"), str(tmp_path / "s.npz")]) == 2
    _one_error_line(capsys, "s.npz", words)


def test_save_stats_into_a_folder_is_refused_before_any_encoding(capsys, tmp_path, tiny_domains):
    (tmp_path / "stats").mkdir()
    a, b = tiny_domains
    assert main(["metrics", "fd", a, b, "--size", "16", "--save-stats", str(tmp_path / "stats")]) == 2
    line = _one_error_line(capsys, "--save-stats", "a folder; give a file name")
    assert "monge-tmp" not in line  # no internal temporary name


def test_an_unmatched_mask_colour_is_named_as_a_real_colour(capsys, tmp_path):
    green, red = np.full((32, 32, 3), 255, np.uint8), np.full((32, 32, 3), 255, np.uint8)
    green[:16], red[:16] = (0, 255, 0), (255, 0, 0)
    Image.fromarray(green).save(tmp_path / "cm.png")
    Image.fromarray(red).save(tmp_path / "sm.png")
    Image.fromarray(np.full((32, 32, 3), 90, np.uint8)).save(tmp_path / "c.png")
    argv = ["style", str(tmp_path / "c.png"), str(tmp_path / "c.png"), "--out", str(tmp_path / "o.png")]
    argv += ["--content-mask", str(tmp_path / "cm.png"), "--style-mask", str(tmp_path / "sm.png"), "--size", "32"]
    assert main([*argv, "--scales", "1", "--steps", "1"]) == 2
    _one_error_line(capsys, "#00ff00", "#ff0000")  # colours a person can read, each channel within 0-255


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: --device cuda is valid here")
@pytest.mark.parametrize("samples,words", [("0", "not positive"), ("100000", "more than 1000 draws")])
def test_translate_draws_are_bounded(capsys, tmp_path, tiny_domains, trained, samples, words):
    argv = ["translate", str(trained), tiny_domains[0], "--out", str(tmp_path / "o"), "--samples", samples]
    with pytest.raises(SystemExit) as exit_:  # argparse's usage error
        main(argv)
    assert exit_.value.code == 2
    _one_error_line(capsys, "--samples", words)


def test_a_device_this_machine_lacks_is_refused_by_its_flag(capsys, tmp_path, tiny_domains, trained):
    assert main(["translate", str(trained), tiny_domains[0], "--out", str(tmp_path / "o"), "--device", "cuda"]) == 2
    _one_error_line(capsys, "--device", "no CUDA")
    assert not (tmp_path / "o").exists()


def test_an_empty_weights_file_is_named_not_a_traceback(capsys, tmp_path, tiny_domains):
    (tmp_path / "empty.pth").write_bytes(b"")
    a, b = tiny_domains
    argv = ["metrics", "fd", a, b, "--size", "16", "--backbone", "inception", "--weights", str(tmp_path / "empty.pth")]
    assert main(argv) == 2
    _one_error_line(capsys, "empty.pth", "not a readable weights file")
