import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
# monge's caches (rendered glyphs, image statistics) go to a folder of the test session, not the user's
os.environ.setdefault("MONGE_CACHE", tempfile.mkdtemp(prefix="monge-test-cache-"))
SHARED = ROOT.parent / "shared" / "data"
# the smallest nets a CLI run accepts: 16 px, 4-wide UNet and potential, batch 8
TINY_SIZES = {"size": 16, "unet_base": 4, "f_width": 4, "f_max_width": 8, "batch_size": 8}
TINY_NETS = [arg for key, value in TINY_SIZES.items() for arg in ("--" + key.replace("_", "-"), str(value))]


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with the reason."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared test data lives beside the project root)")
    return path


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def effnet():
    from monge.backbones.effnet import EffNetLite0

    return EffNetLite0()


@pytest.fixture(scope="session")
def tiny_domains(tmp_path_factory):
    """Two 16 px image folders: dark blobs and the same blobs bright (pairs share names)."""
    root = tmp_path_factory.mktemp("domains")
    rng = np.random.default_rng(0)
    for i in range(40):
        img = rng.integers(0, 80, (16, 16, 3), dtype=np.uint8)
        for side, arr in (("a", img), ("b", 255 - img)):
            (root / side).mkdir(exist_ok=True)
            Image.fromarray(arr).save(root / side / f"{i:03d}.png")
    return str(root / "a"), str(root / "b")
