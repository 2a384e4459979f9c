"""Font glyph domains: pairing by character, determinism, the cache, and training on partly shared names."""

import numpy as np
import pytest
from conftest import TINY_SIZES
from PIL import Image

from monge.data.domains import Split, follow_split, open_domain, random_split
from monge.data.fonts import glyph_name, load_glyphs, render_glyphs
from monge.errors import DataError
from monge.train.config import TrainConfig
from monge.train.loop import train

pytest.importorskip("matplotlib")


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MONGE_CACHE", str(tmp_path / "cache"))


def test_two_fonts_pair_on_the_characters_both_cover_and_differ_in_shape():
    sans, serif = open_domain("fonts:DejaVuSans", 16).source, open_domain("fonts:DejaVuSerif", 16).source
    shared = set(sans.names) & set(serif.names)
    assert 2500 < len(shared) < len(sans.names) and glyph_name(ord("A")) in shared
    a_sans, a_serif = (src.subset([glyph_name(ord("A"))]).tensor()[0] for src in (sans, serif))
    assert a_sans.min() < -0.5 and a_sans.max() == 1.0  # black ink on a white page
    assert 0 < (a_sans - a_serif).abs().mean() < 0.3  # the same letter in another style
    a, b = (sans.subset([glyph_name(ord(c))]).tensor()[0] for c in "AB")
    assert (a_sans - a_serif).abs().mean() < (a - b).abs().mean()  # closer to its pair than to another letter


def test_glyphs_share_a_baseline_and_drop_blanks():
    images, names = render_glyphs("DejaVuSans", 32)
    assert glyph_name(ord(" ")) not in names and glyph_name(0x200B) not in names  # space, zero-width space
    ink_rows = {c: np.nonzero(images[names.index(glyph_name(ord(c)))][..., 0].min(1) < 128)[0] for c in "xnzg"}
    assert len({int(rows.max()) for c, rows in ink_rows.items() if c != "g"}) == 1  # one baseline
    assert ink_rows["g"].max() > ink_rows["x"].max()  # descenders go below it


def test_rendering_is_deterministic_and_cached(tmp_path):
    first, names = load_glyphs("DejaVuSansMono", 16)
    cached = list((tmp_path / "cache" / "fonts").glob("DejaVuSansMono-16px-*.npz"))
    assert len(cached) == 1
    again, again_names = render_glyphs("DejaVuSansMono", 16)
    assert names == again_names and np.array_equal(first, again)
    cached[0].write_bytes(b"damaged")
    repaired, _ = load_glyphs("DejaVuSansMono", 16)
    assert np.array_equal(repaired, first)


def test_unknown_font_is_named():
    with pytest.raises(DataError, match="fonts:Comic: unknown font"):
        open_domain("fonts:Comic", 16)


def test_a_followed_split_holds_out_the_shared_names_on_both_sides():
    a = [f"{i:04d}" for i in range(200)]
    b = [f"{i:04d}" for i in range(100, 400)]
    split_a = random_split(a, 0.2, seed=3)
    split_b = follow_split(b, split_a, 0.2, seed=3)
    shared = set(a) & set(b)
    assert {n for n in split_b.test if n in shared} == {n for n in split_a.test if n in shared}
    assert set(split_b.train) | set(split_b.test) == set(b) and not set(split_b.train) & set(split_b.test)
    own = [n for n in b if n not in shared]
    assert 0.1 < len([n for n in split_b.test if n in own]) / len(own) < 0.3
    assert follow_split(a, split_a, 0.2, seed=3) == split_a  # equal name sets: the same split
    assert isinstance(split_b, Split)


def test_training_between_folders_that_share_only_some_names(tmp_path):
    """The grid pairs only names both test splits hold; a source test image with no partner is scored
    unpaired (FD) and skipped by the paired metrics."""
    rng = np.random.default_rng(0)
    for side, names in (("a", range(0, 40)), ("b", range(10, 50))):
        (tmp_path / side).mkdir()
        for i in names:
            img = rng.integers(0, 80, (16, 16, 3), dtype=np.uint8)
            Image.fromarray(img if side == "a" else 255 - img).save(tmp_path / side / f"{i:03d}.png")
    cfg = TrainConfig(
        source=str(tmp_path / "a"),
        target=str(tmp_path / "b"),
        out=str(tmp_path / "run"),
        steps=2,
        eval_every=2,
        eval_images=16,
        grid_images=2,
        logger="csv",
        **TINY_SIZES,
    )
    summary = train(cfg, progress=False)
    assert "mse" in summary.final and np.isfinite(summary.final["mse"])
    assert (tmp_path / "run" / "samples" / "latest.png").exists()
