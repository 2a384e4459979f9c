"""Maps on the Hugging Face Hub (the ``[hub]`` extra): ``from_pretrained`` and ``push_to_hub``.

    m = monge.from_pretrained("user/twitter2google")      # or a local exported folder, offline
    monge.push_to_hub("runs/demo", "user/twitter2google")   # a run (exported first) or an exported folder

Both go through ``huggingface_hub``'s :class:`~huggingface_hub.ModelHubMixin`, so the Hub's
caching, revisions, tokens and offline mode (``HF_HUB_OFFLINE=1``) behave as in other libraries.
A repository holds exactly what ``monge export`` writes: ``config.json``, ``model.safetensors`` and
the model card ``README.md``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ..errors import import_extra
from .export import CARD, CONFIG, SAMPLES, WEIGHTS, TranslationMap, export_map, load_map

try:
    from huggingface_hub import ModelHubMixin, hf_hub_download
except ImportError:  # the [hub] extra is not installed: the functions below say so in one line
    ModelHubMixin = object  # type: ignore[assignment,misc,unused-ignore]


def _require_hub() -> None:
    import_extra("huggingface_hub", "hub", "Hub support")


class HubMap(ModelHubMixin):
    """An exported map's folder, as the Hub mixin sees a model: saved by copying its two files."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def _save_pretrained(self, save_directory: Path) -> None:
        for name in (CONFIG, WEIGHTS, CARD, SAMPLES):  # the card is ours: the mixin writes its own only without one
            if (self.folder / name).exists():
                shutil.copyfile(self.folder / name, Path(save_directory) / name)

    @classmethod
    def _from_pretrained(
        cls,
        *,
        model_id: str,
        revision: str | None,
        cache_dir: str | Path | None,
        force_download: bool,
        local_files_only: bool,
        token: str | bool | None,
        **model_kwargs,
    ) -> HubMap:
        if Path(model_id).is_dir():
            return cls(model_id)
        files = [
            hf_hub_download(
                model_id,
                name,
                revision=revision,
                cache_dir=cache_dir,
                force_download=force_download,
                local_files_only=local_files_only,
                token=token,
            )
            for name in (CONFIG, WEIGHTS)
        ]
        return cls(Path(files[0]).parent)


def from_pretrained(repo_or_folder: str | Path, device: str | None = None, **hub_options) -> TranslationMap:
    """A map from a Hub repository id or a local exported folder (``hub_options``: revision, cache_dir,
    token, local_files_only, force_download). A local folder needs no ``[hub]`` extra."""
    if Path(repo_or_folder).is_dir():
        return load_map(repo_or_folder, device)
    _require_hub()
    return load_map(HubMap.from_pretrained(repo_or_folder, **hub_options).folder, device)


def push_to_hub(run_or_export: str | Path, repo_id: str, which: str = "best", **hub_options) -> str:
    """Upload a run's map (exported first, at its ``which`` checkpoint) or an exported folder to
    ``repo_id``; returns the commit URL (``hub_options``: private, token, branch, commit_message, ...)."""
    _require_hub()
    path = Path(run_or_export)
    if (path / WEIGHTS).exists():
        return HubMap(path).push_to_hub(repo_id, **hub_options)
    with tempfile.TemporaryDirectory(prefix="monge-push-") as tmp:
        folder = export_map(path, Path(tmp) / "map", which)
        return HubMap(folder).push_to_hub(repo_id, **hub_options)
