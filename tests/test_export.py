"""Shareable maps: export a run's map to safetensors, load it in one call, translate with it."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY_NETS

import monge
from monge.cli.main import main
from monge.errors import DataError

TINY = [*TINY_NETS, "--t-steps", "1", "--eval-every", "2", "--eval-images", "8", "--test-fraction", "0.2"]


@pytest.fixture(scope="module", params=["strong", "weak"])
def run(request, tmp_path_factory, tiny_domains):
    """A tiny 2-step run with a weight average; the weak cost's map takes noise."""
    out = tmp_path_factory.mktemp(request.param) / "run"
    a, b = tiny_domains
    argv = ["train", "--source", a, "--target", b, *TINY, "--steps", "2", "--ema", "0.5", "--z-count", "2"]
    assert main([*argv, "--cost", request.param, "--out", str(out)]) == 0
    return out


def test_export_and_load_round_trip_bit_exactly(run, tmp_path, capsys):
    capsys.readouterr()
    assert main(["export", str(run), "--out", str(tmp_path / "map"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["files"] == ["README.md", "config.json", "model.safetensors", "samples.png"]
    card = (tmp_path / "map" / "README.md").read_text()  # the model card: recipe, scores beside the identity, use
    assert card.startswith("---\nlibrary_name: monge") and "identity (baseline)" in card and "from_pretrained" in card
    assert "](samples.png)" in card and "## Data" in card
    meta = json.loads((tmp_path / "map" / "config.json").read_text())
    assert meta["weight_average"] is True and meta["z_channels"] == (1 if "weak" in str(run) else 0)

    from_run, exported = monge.load_map(run), monge.load_map(tmp_path / "map")
    x = torch.rand(5, 3, 16, 16) * 2 - 1
    torch.manual_seed(3)
    a = from_run.sample(x, 3)
    torch.manual_seed(3)
    b = exported.sample(x, 3)
    assert a.shape == (5, 3, 3, 16, 16) and torch.equal(a, b)
    torch.manual_seed(4)
    c = exported(x)
    assert c.shape == x.shape and not torch.equal(c, x)  # the map moved the images


def test_translate_accepts_an_exported_map(run, tmp_path, capsys, tiny_domains):
    assert main(["export", str(run), "--out", str(tmp_path / "map")]) == 0
    capsys.readouterr()
    for name, source in (("via_run", run), ("via_export", tmp_path / "map")):
        torch.manual_seed(0)
        assert main(["translate", str(source), tiny_domains[0], "--out", str(tmp_path / name), "--json"]) == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last["checkpoint"] == "exported" and last["written"] == 40
    for path in (tmp_path / "via_run").glob("*.png"):
        assert path.read_bytes() == (tmp_path / "via_export" / path.name).read_bytes()


def test_loading_something_else_names_it(tmp_path):
    with pytest.raises(DataError, match="neither an exported map"):
        monge.load_map(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"not weights")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(DataError, match="not a readable exported map"):
        monge.load_map(tmp_path)


def test_hub_round_trip_offline(run, tmp_path, monkeypatch):
    """from_pretrained reads a local folder offline; push_to_hub uploads what export writes (the Hub API mocked)."""
    hub = pytest.importorskip("huggingface_hub", reason="the [hub] extra is not installed")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = monge.export_map(run, tmp_path / "map")
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    torch.manual_seed(0)
    expected = monge.load_map(folder).map(x)
    torch.manual_seed(0)
    assert torch.equal(monge.from_pretrained(folder).map(x), expected)

    uploaded: dict = {}

    def create_repo(self, repo_id, **kw):
        return hub.RepoUrl(f"https://huggingface.co/{repo_id}")

    def upload_folder(self, *, repo_id, folder_path, **kw):
        uploaded.update(repo=repo_id, files=sorted(p.name for p in Path(folder_path).iterdir()))
        uploaded["weights"] = (Path(folder_path) / "model.safetensors").read_bytes()
        uploaded["card"] = (Path(folder_path) / "README.md").read_text()
        return f"https://huggingface.co/{repo_id}/commit/0"

    monkeypatch.setattr(hub.HfApi, "create_repo", create_repo)
    monkeypatch.setattr(hub.HfApi, "upload_folder", upload_folder)
    assert main(["push", str(run), "someone/tiny-map", "--json"]) == 0  # a run: exported on the way
    assert uploaded["repo"] == "someone/tiny-map"
    assert {"config.json", "model.safetensors", "README.md"} <= set(uploaded["files"])
    assert uploaded["card"].startswith("---\nlibrary_name: monge")  # our card, not the mixin's generic one
    from safetensors.torch import load as load_bytes

    pushed, exported = load_bytes(uploaded["weights"]), load_bytes((folder / "model.safetensors").read_bytes())
    diff = [k for k in exported if not torch.equal(pushed[k], exported[k])]
    assert pushed.keys() == exported.keys() and not diff, diff


def test_from_pretrained_reads_a_local_folder_without_the_hub_extra(run, tmp_path, monkeypatch):
    import sys

    folder = monge.export_map(run, tmp_path / "map")
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # as if the [hub] extra were not installed
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    torch.manual_seed(0)
    expected = monge.load_map(folder).map(x)
    torch.manual_seed(0)
    assert torch.equal(monge.from_pretrained(folder).map(x), expected)


def test_a_loaded_map_takes_every_common_image_form_and_answers_in_range(run, tmp_path):
    from PIL import Image

    m = monge.load_map(run)
    assert "TranslationMap(" in repr(m) and "16 px" in repr(m)
    pixels = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    as_float = torch.from_numpy(pixels).permute(2, 0, 1).float() / 127.5 - 1
    path = tmp_path / "x.png"
    Image.fromarray(pixels).save(path)
    torch.manual_seed(0)
    expected = m(as_float)
    assert expected.shape == (1, 3, 16, 16) and expected.min() >= -1 and expected.max() <= 1
    for form in (pixels, torch.from_numpy(pixels), Image.fromarray(pixels), str(path), path):
        torch.manual_seed(0)
        assert torch.allclose(m(form), expected, atol=1e-6), type(form).__name__
    with pytest.raises(DataError, match=r"from 0 to 255: a float image must lie in \[-1, 1\]"):
        m(torch.from_numpy(pixels).float())
    with pytest.raises(DataError, match="not an image"):
        m([1, 2, 3])
    big = Image.fromarray(np.full((40, 30, 3), 200, np.uint8))
    assert m.translate_image(big).size == (16, 16) and m.translate_image(big, keep_size=True).size == (30, 40)
    big.save(tmp_path / "big.png")  # a path works as the README shows, at the map's size or the file's
    assert m.translate_image(tmp_path / "big.png", keep_size=True).size == (30, 40)


def test_a_map_with_damaged_weights_refuses_to_answer(run):
    from monge.errors import DivergenceError

    m = monge.load_map(run)
    with torch.no_grad():
        next(m.net.parameters()).fill_(float("nan"))
    with pytest.raises(DivergenceError, match="not finite"):
        m(torch.zeros(1, 3, 16, 16))


def test_export_refuses_a_run_folder_and_another_maps_export(run, tmp_path, capsys):
    assert main(["export", str(run), "--out", str(run)]) == 2
    assert "a run folder" in capsys.readouterr().err
    assert main(["export", str(run), "--out", str(tmp_path / "map")]) == 0
    assert main(["export", str(run), "--out", str(tmp_path / "map")]) == 0  # the same map again: fine
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text('{"my": "settings"}')
    capsys.readouterr()
    assert main(["export", str(run), "--out", str(tmp_path / "other")]) == 2
    assert "not a monge export" in capsys.readouterr().err
    assert json.loads((tmp_path / "other" / "config.json").read_text()) == {"my": "settings"}


TAMPERED = {  # what a damaged or hand-edited export's config.json may hold, and the word the refusal names
    "no config": (lambda m: m.pop("config"), "'config' must be"),
    "config a list": (lambda m: m.__setitem__("config", [1, 2]), "'config' must be"),
    "z_channels a string": (lambda m: m.__setitem__("z_channels", "x"), "'z_channels' is 'x'"),
    "z_channels 5": (lambda m: m.__setitem__("z_channels", 5), "'z_channels' is 5"),
    "z_std NaN": (lambda m: m.__setitem__("z_std", float("nan")), "'z_std' is nan"),
    "a 42 T-weight UNet": (lambda m: m["config"].__setitem__("unet_base", 100000), "unet_base: 100000 gives a net"),
    "another width": (lambda m: m["config"].__setitem__("unet_base", 8), "weights do not fit"),
    "size a word": (lambda m: m["config"].__setitem__("size", "big"), "size: 'big' is not an int"),
    "a list": (lambda m: m.clear() or None, "format"),
}


@pytest.mark.parametrize("case", list(TAMPERED))
def test_a_tampered_export_is_refused_in_one_line_naming_the_file(run, tmp_path, case):
    assert main(["export", str(run), "--out", str(tmp_path / "map")]) == 0
    meta = json.loads((tmp_path / "map" / "config.json").read_text())
    edit, words = TAMPERED[case]
    edit(meta)
    (tmp_path / "map" / "config.json").write_text(json.dumps([meta] if case == "a list" else meta))
    with pytest.raises(DataError, match="config.json|model.safetensors") as err:
        monge.load_map(tmp_path / "map")
    assert words in str(err.value) and "\n" not in str(err.value)


def test_a_checkpoint_that_is_not_a_dict_is_refused_naming_it(run, tmp_path):
    import shutil

    shutil.copytree(run, tmp_path / "run")
    torch.save(torch.zeros(3), tmp_path / "run" / "checkpoints" / "best.pt")
    with pytest.raises(DataError, match="best.pt: not a monge checkpoint"):
        monge.load_map(tmp_path / "run")


def test_weights_that_hold_nan_are_refused_on_load_naming_the_file_and_tensor(run, tmp_path):
    from safetensors.torch import load_file, save_file

    assert main(["export", str(run), "--out", str(tmp_path / "map")]) == 0
    weights = load_file(str(tmp_path / "map" / "model.safetensors"))
    name = next(k for k, v in weights.items() if v.is_floating_point())
    weights[name] = torch.full_like(weights[name], float("nan"))
    save_file(weights, str(tmp_path / "map" / "model.safetensors"))
    with pytest.raises(DataError, match=rf"model.safetensors: {name} holds NaN or infinite weights"):
        monge.load_map(tmp_path / "map")
