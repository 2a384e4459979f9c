import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from monge.data.images import pil_to_tensor
from monge.errors import WeightsNotFound
from monge.style.hypercolumns import EffNetHypercolumns, make_extractor, sample_bilinear, sample_xy
from monge.style.losses import MomentLoss, PaletteLoss, RelaxedEMD, SelfSimilarityLoss
from monge.style.masks import mask_regions, match_regions
from monge.style.objective import content_distance, style_distance
from monge.style.strotss import stylize


@pytest.fixture(scope="module")
def extractor(effnet):
    return EffNetHypercolumns(effnet)


def synthetic_content(size: int = 64) -> torch.Tensor:
    """A smooth scene: a sky-to-ground gradient, a dark disk and a bright square (structure to keep)."""
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    img = torch.stack([0.2 - 0.5 * ys, 0.1 - 0.3 * ys, 0.6 - 0.2 * ys])
    disk = ((xs + 0.35) ** 2 + (ys + 0.2) ** 2) < 0.12
    img[:, disk] = torch.tensor([-0.7, -0.6, -0.5])[:, None]
    square = (xs > 0.2) & (xs < 0.7) & (ys > 0.1) & (ys < 0.6)
    img[:, square] = torch.tensor([0.9, 0.8, 0.3])[:, None]
    return img.clamp(-1, 1)


def synthetic_style(size: int = 64) -> torch.Tensor:
    """A busy texture: diagonal orange and blue stripes with grain (statistics to take)."""
    gen = torch.Generator().manual_seed(1)
    ys, xs = torch.meshgrid(torch.arange(size).float(), torch.arange(size).float(), indexing="ij")
    stripe = (torch.sin((xs + ys) * 0.7) > 0).float()[None]
    orange, blue = torch.tensor([0.9, 0.3, -0.8]).view(3, 1, 1), torch.tensor([-0.8, -0.4, 0.9]).view(3, 1, 1)
    return (stripe * orange + (1 - stripe) * blue + 0.2 * torch.randn(3, size, size, generator=gen)).clamp(-1, 1)


@pytest.fixture(scope="module")
def pair():
    """Synthetic images, so that these tests run wherever the package does (no shared data)."""
    return synthetic_content(), synthetic_style()


@pytest.fixture(scope="module")
def result(pair, extractor):
    return stylize(*pair, alpha=1.0, size=64, scales=1, steps=60, backbone=extractor, progress=False)


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
@pytest.mark.parametrize("shape", [(3, 17, 23), (32, 8, 8), (5, 1, 9)])
def test_bilinear_sampling_reads_and_back_propagates_as_grid_sample(layout, shape):
    gen = torch.Generator().manual_seed(0)
    feat = torch.randn(1, *shape, generator=gen).contiguous(memory_format=layout)
    xy = torch.rand(300, 2, generator=gen) * 2.4 - 1.2  # some fall outside: zero padding
    feat.requires_grad_(True)
    values = sample_bilinear(feat, xy)
    expected = F.grid_sample(feat, xy.view(1, 1, -1, 2), align_corners=False)[0, :, 0].T
    upstream = torch.randn(expected.shape, generator=gen)
    (grad,) = torch.autograd.grad(values, feat, upstream)
    (expected_grad,) = torch.autograd.grad(expected, feat, upstream)
    assert torch.allclose(values, expected, atol=1e-5)
    assert torch.allclose(grad, expected_grad, atol=1e-5)
    assert grad.is_contiguous(memory_format=torch.channels_last)  # a channels-last backbone stays so


@pytest.mark.parametrize("loss", [RelaxedEMD(), MomentLoss(), PaletteLoss(), SelfSimilarityLoss()])
def test_each_loss_is_zero_for_identical_inputs_and_positive_otherwise(loss):
    x, y = torch.rand(200, 40), torch.rand(300, 40) * 2
    assert float(loss(x, x)) == pytest.approx(0.0, abs=1e-5)
    other = y if not isinstance(loss, SelfSimilarityLoss) else torch.rand(200, 40)
    assert float(loss(x, other)) > 1e-3


def test_style_terms_fall_during_optimisation(result):
    first, last = result.history[:5], result.history[-5:]
    for key in ("remd", "moment", "palette", "loss"):
        assert np.mean([h[key] for h in last]) < np.mean([h[key] for h in first]), key


def test_result_sits_between_content_and_style(result, pair, extractor):
    content, style = pair
    out = result.image
    assert out.shape == content.shape and out.min() >= -1 and out.max() <= 1
    assert style_distance(out, style, extractor) < style_distance(content, style, extractor)
    assert content_distance(out, content, extractor) < content_distance(style, content, extractor)


def _jpeg_roundtrip(mask: torch.Tensor) -> torch.Tensor:
    arr = ((mask.permute(1, 2, 0) + 1) * 127.5).round().byte().numpy()
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=70)
    return pil_to_tensor(Image.open(buf).convert("RGB"))


def _two_region_mask(h: int, w: int, vertical: bool) -> torch.Tensor:
    mask = torch.empty(3, h, w)
    mask[:] = torch.tensor([1.0, -1.0, -1.0]).view(3, 1, 1)  # red
    if vertical:
        mask[:, :, w // 2 :] = torch.tensor([-1.0, 1.0, -1.0]).view(3, 1, 1)  # green right half
    else:
        mask[:, h // 2 :] = torch.tensor([-1.0, 1.0, -1.0]).view(3, 1, 1)  # green bottom half
    return mask


def test_mask_regions_survive_jpeg_and_samples_stay_inside():
    mask = _two_region_mask(48, 64, vertical=True)
    labels, colours = mask_regions(_jpeg_roundtrip(mask))
    assert len(colours) == 2
    clean, _ = mask_regions(mask)
    same = (labels == clean).float().mean() if labels[0, 0] == clean[0, 0] else (labels != clean).float().mean()
    assert same > 0.97
    xy = sample_xy(500, clean, 1, torch.Generator().manual_seed(0), (48, 64))
    cols = ((xy[:, 0] + 1) / 2 * 64 - 0.5).round().long()
    rows = ((xy[:, 1] + 1) / 2 * 48 - 0.5).round().long()
    assert (clean[rows, cols] == 1).all()


def test_masks_send_each_region_to_its_own_style(pair, extractor):
    content, _ = pair
    style = torch.empty(3, 64, 64)
    style[:, :32] = torch.tensor([0.9, 0.3, -0.8]).view(3, 1, 1)  # orange top
    style[:, 32:] = torch.tensor([-0.8, -0.4, 0.9]).view(3, 1, 1)  # blue bottom
    style += 0.15 * torch.randn_like(style)
    content_mask, style_mask = _two_region_mask(64, 64, vertical=True), _two_region_mask(64, 64, vertical=False)
    out = stylize(
        content,
        style.clamp(-1, 1),
        alpha=0.5,
        size=64,
        scales=1,
        steps=60,
        backbone=extractor,
        content_mask=content_mask,
        style_mask=style_mask,
        progress=False,
    ).image
    left, right = out[:, :, :32].mean(dim=(1, 2)), out[:, :, 32:].mean(dim=(1, 2))
    orange, blue = style[:, :32].mean(dim=(1, 2)), style[:, 32:].mean(dim=(1, 2))
    assert (left - orange).norm() < (left - blue).norm()
    assert (right - blue).norm() < (right - orange).norm()


def test_bad_masks_and_images_are_refused_clearly(pair, extractor):
    content, style = pair
    with pytest.raises(ValueError, match="sizes must match"):
        stylize(
            content,
            style,
            content_mask=torch.zeros(3, 10, 10),
            style_mask=torch.zeros(3, 64, 64),
            backbone=extractor,
            progress=False,
        )
    blue_mask = torch.zeros(3, 64, 64)
    blue_mask[2] = 1
    with pytest.raises(ValueError, match="has no region of that colour in the style mask"):
        match_regions(blue_mask, _two_region_mask(64, 64, vertical=False))
    with pytest.raises(ValueError, match="at least 16 px"):
        stylize(content[:, :8, :8], style, backbone=extractor, progress=False)


def test_vgg16_needs_its_local_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv("MONGE_VGG16_WEIGHTS", raising=False)
    with pytest.raises(WeightsNotFound, match="vgg16-397923af.pth"):
        make_extractor("vgg16")


def test_each_scale_is_reported_as_it_finishes(pair, extractor):
    seen: list[tuple[int, tuple[int, ...]]] = []
    out = stylize(
        *pair,
        size=64,
        scales=2,
        steps=2,
        backbone=extractor,
        progress=True,
        on_scale=lambda k, img: seen.append((k, tuple(img.shape))),
    )
    assert [k for k, _ in seen] == [0, 1]
    assert seen[0][1][-1] * 2 == seen[1][1][-1] == out.image.shape[-1]


@pytest.mark.parametrize("loss", [RelaxedEMD(), PaletteLoss()])
def test_a_loss_scores_the_pairs_it_is_given(loss):
    x, y = torch.rand(200, 40), torch.rand(300, 40) * 2
    assert float(loss(x, y, loss.match(x, y))) == pytest.approx(float(loss(x, y)), rel=1e-6)
    stale = loss.match(torch.rand(200, 40), y)  # pairs found for other samples cost at least as much
    assert float(loss(x, y, stale)) > float(loss(x, y))


def test_relaxed_emd_and_its_gradient_match_the_definition():
    """The loss scored from its two fixed weights equals max(mean row minimum, mean column minimum)
    of the cosine cost matrix, computed directly, and so does its gradient."""
    torch.manual_seed(0)
    x, y = torch.randn(120, 16), torch.randn(90, 16)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    RelaxedEMD()(xa, y).backward()
    cost = 1 - F.normalize(xb, dim=1) @ F.normalize(y, dim=1).T
    direct = torch.maximum(cost.min(1).values.mean(), cost.min(0).values.mean())
    direct.backward()
    assert float(RelaxedEMD()(x, y)) == pytest.approx(float(direct), rel=1e-5)
    assert torch.allclose(xa.grad, xb.grad, atol=1e-6)


def test_reusing_nearest_pairs_searches_less_and_still_reaches_the_style(pair, extractor, monkeypatch):
    content, style = pair
    calls: list[int] = []
    match = RelaxedEMD.match
    monkeypatch.setattr(RelaxedEMD, "match", lambda self, x, s: calls.append(1) or match(self, x, s))
    runs = {
        k: stylize(content, style, size=64, scales=1, steps=60, search_every=k, backbone=extractor, progress=False)
        for k in (4, 1)
    }
    assert len(calls) == 6 * 3 + 60  # k=4: steps 0, 4 and 8 after each of the 6 resamplings; k=1: every step
    reused, exact = (style_distance(runs[k].image, style, extractor) for k in (4, 1))
    assert reused < style_distance(content, style, extractor)
    assert reused < 1.1 * exact  # about as close to the style as searching at every step
