import zipfile

import h5py
import numpy as np
import pytest
import torch
from PIL import Image

from monge.data.domains import MIN_VALIDATION, Split, hold_out_validation, open_domain, random_split, split_domain
from monge.data.emoji import load_emoji, write_emoji_folder
from monge.data.sources import ArraySource, FolderSource
from monge.errors import DataError


def _write(path, arr, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr, mode).save(path)


def test_folder_rgba_on_white_grayscale_and_resize(tmp_path):
    rgba = np.zeros((40, 40, 4), np.uint8)  # fully transparent -> white
    _write(tmp_path / "sub" / "a.png", rgba)
    _write(tmp_path / "b.jpg", np.full((20, 30), 0, np.uint8))  # grayscale, not square
    src = FolderSource(tmp_path, size=16)
    assert src.names == ["b.jpg", "sub/a.png"]
    black, white = src[0], src[1]
    assert black.shape == white.shape == (3, 16, 16)
    assert torch.allclose(white, torch.ones_like(white))
    assert black.max() < -0.9


def test_centre_crop_keeps_the_middle(tmp_path):
    arr = np.zeros((10, 30, 3), np.uint8)
    arr[:, 10:20] = 255  # white centre square between black sides
    _write(tmp_path / "x.png", arr)
    assert FolderSource(tmp_path, 8, crop=True)[0].min() > 0.9
    assert FolderSource(tmp_path, 8, crop=False)[0].min() < -0.9


def test_bad_inputs_name_the_file(tmp_path):
    with pytest.raises(DataError, match="no images"):
        FolderSource(tmp_path, 8)
    _write(tmp_path / "good.png", np.zeros((8, 8, 3), np.uint8))
    full = (tmp_path / "good.png").read_bytes()
    (tmp_path / "bad.png").write_bytes(full[: len(full) // 2])
    src = FolderSource(tmp_path, 8)
    with pytest.raises(DataError, match="bad.png"):
        src[src.names.index("bad.png")]
    skipped = FolderSource(tmp_path, 8, skip_bad=True)
    assert skipped.names == ["good.png"] and skipped.skipped == 1
    with pytest.raises(DataError, match="unknown format"):
        (tmp_path / "x.txt").write_text("hi")
        open_domain(str(tmp_path / "x.txt"), 8)


def test_hdf5_and_zip_sources(tmp_path):
    imgs = np.random.default_rng(0).integers(0, 255, (5, 12, 12, 3), dtype=np.uint8)
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["imgs"] = imgs
    dom = open_domain(str(tmp_path / "d.h5"), 12)
    assert len(dom.source) == 5
    expected = torch.from_numpy(imgs[3]).permute(2, 0, 1).float() / 127.5 - 1
    assert torch.allclose(dom.source[3], expected)
    with pytest.raises(DataError, match="no HDF5 dataset 'nope'"):
        open_domain(str(tmp_path / "d.h5"), 12, h5_key="nope")
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as zf:
        for i in range(3):
            _write(tmp_path / f"{i}.png", imgs[i])
            zf.write(tmp_path / f"{i}.png", f"inner/{i}.png")
    z = open_domain(str(tmp_path / "d.zip"), 12).source
    assert z.names == ["inner/0.png", "inner/1.png", "inner/2.png"]
    assert torch.allclose(z[1], open_domain(str(tmp_path / "d.h5"), 12).source[1])


def test_cyclegan_layout_uses_its_test_folders(tmp_path):
    for d in ("trainA", "trainB", "testA", "testB"):
        for i in range(2):
            _write(tmp_path / d / f"{d}{i}.png", np.zeros((8, 8, 3), np.uint8))
    dom = open_domain(f"{tmp_path}:B", 8)
    train, test, split = split_domain(dom)
    assert split.train == ["trainB0.png", "trainB1.png"] and split.test == ["testB0.png", "testB1.png"]
    with pytest.raises(DataError, match="CycleGAN root"):
        open_domain(str(tmp_path), 8)


def test_split_is_seeded_order_free_and_round_trips(tmp_path):
    names = [f"{i}.png" for i in range(100)]
    a, b = random_split(names, 0.1, seed=3), random_split(names[::-1], 0.1, seed=3)
    assert a == b and len(a.test) == 10 and not set(a.test) & set(a.train)
    assert random_split(names, 0.1, seed=4).test != a.test
    a.save(tmp_path / "split.json")
    assert Split.load(tmp_path / "split.json") == a


def _named(names):
    return ArraySource(np.zeros((len(names), 4, 4, 3), np.uint8), names, 4)


def test_validation_is_cut_from_training_alike_on_both_sides_and_reproducibly():
    shared = [f"s{i}.png" for i in range(300)]
    a_train, b_train = (
        _named(shared + [f"a{i}.png" for i in range(100)]),
        _named([f"b{i}.png" for i in range(60)] + shared),
    )
    tests = _named(["t.png"]), _named(["u.png"])
    splits = (a_train, tests[0], b_train, tests[1])
    (a_fit, a_test, b_fit, b_test), (a_val, b_val) = hold_out_validation(splits, 0.1, seed=2)
    assert a_test is tests[0] and b_test is tests[1]  # the test splits are left alone
    for fit, val, whole in ((a_fit, a_val, a_train), (b_fit, b_val, b_train)):
        assert not set(fit.names) & set(val.names) and set(fit.names) | set(val.names) == set(whole.names)
    assert {n for n in a_val.names if n in shared} == {n for n in b_val.names if n in shared}  # pairs stay whole
    assert 30 <= len(a_val) <= 50 and 26 <= len(b_val) <= 46
    again = hold_out_validation((_named(a_train.names[::-1]), *splits[1:]), 0.1, seed=2)[1]
    assert set(again[0].names) == set(a_val.names)  # the order of the names does not matter
    assert set(hold_out_validation(splits, 0.1, seed=3)[1][0].names) != set(a_val.names)
    few = (_named(shared[: 10 * MIN_VALIDATION - 20]), tests[0], b_train, tests[1])
    assert hold_out_validation(few, 0.1)[1] is None and hold_out_validation(splits, 0.0) == (splits, None)


def test_builtin_emoji_pairs_and_categories(tmp_path):
    g, t = load_emoji("google", 32), load_emoji("twitter", 16)
    assert g.images.shape == (3786, 3, 32, 32) and t.images.shape == (3786, 3, 16, 16)
    assert g.names == t.names and g.images.min() >= -1 and g.images.max() <= 1
    food = load_emoji("google", 32, category="Food & Drink")
    assert 0 < len(food.names) < 3786 and set(food.categories) == {"Food & Drink"}
    with pytest.raises(DataError, match="64 px"):
        load_emoji("google", 64)
    assert write_emoji_folder("twitter", 16, tmp_path / "tw") == 3786
    assert FolderSource(tmp_path / "tw", 16).names == sorted(t.names)


def test_emoji_folder_from_local_copy_at_64px(tmp_path):
    from conftest import shared_path

    root = shared_path("emoji")
    n = write_emoji_folder("google", 64, tmp_path / "g", source=root)
    assert n == 3786
    img = Image.open(tmp_path / "g" / "1f600.png")
    assert img.size == (64, 64) and img.mode == "RGB"
