"""The model card (``README.md``) of an exported map: what it maps, how it was trained, how it scores
beside the identity measured in the same run, and how to load it. The Hugging Face Hub shows it as
the repository's page; its YAML header carries the Hub's metadata."""

from __future__ import annotations

import json
from pathlib import Path

from ..report.run import describe
from ..report.table import Table, verdict_words

DATA_LICENCES = {  # the built-in domains' licences; a user's own data keeps its own
    "emoji:google": "Google's Noto Color Emoji (Apache-2.0)",
    "emoji:twitter": "Twitter's Twemoji (CC-BY-4.0)",
    "fonts:": "the DejaVu fonts (Bitstream Vera licence and public-domain DejaVu changes)",
}


def _data_licence(spec: str) -> str:
    found = next((text for prefix, text in DATA_LICENCES.items() if spec.startswith(prefix)), None)
    return f"`{spec}`: {found}" if found else f"`{spec}`: the licence of those images"


def model_card(run: Path, meta: dict, samples: bool = False) -> str:
    """The card's markdown for the map exported from ``run`` with ``meta`` (the export's config.json);
    ``samples``: the export holds the run's sample grid as ``samples.png``."""
    cfg = meta["config"]
    summary_path = run / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    final, baselines = summary.get("final", {}), summary.get("baselines", {})
    lines = [
        "---",
        "library_name: monge",
        "tags: [monge, optimal-transport, image-to-image, unpaired-image-translation]",
        "pipeline_tag: image-to-image",
        "---",
        "",
        f"# {cfg['source']} -> {cfg['target']}: a monge translation map",
        "",
        f"A {'stochastic' if meta['z_channels'] else 'deterministic'} map T from `{cfg['source']}` to "
        f"`{cfg['target']}` at {cfg['size']} px, trained by monge {meta['monge_version']} "
        f"({meta['checkpoint']} at step {meta['step']}"
        + (", the moving average of the map's weights" if meta["weight_average"] else "")
        + ").",
        "",
        f"Training: {describe(cfg)}",
        "",
    ]
    if final:
        keys = list(final)
        table = Table(["map", *keys])
        table.add(["T (last evaluation)", *(f"{final[k]:.4g}" for k in keys)])
        for name, values in baselines.items():
            table.add([f"{name} (baseline)", *(f"{values[k]:.4g}" if k in values else "-" for k in keys)])
        words, _ = verdict_words(final, baselines.get("identity"))
        lines += [
            "## Held-out scores",
            "",
            "On the run's held-out test split, beside the trivial maps scored the same way in the same run "
            "(lower is better except PSNR; FD-EffNetLite0 is a Frechet distance in EfficientNet-Lite0 "
            "features, not FID).",
            "",
            table.markdown(),
            "",
            words,
            "",
        ]
    else:
        lines += ["The run recorded no held-out evaluation.", ""]
    if samples:
        lines += ["![source | T(source) | the same item in the target style, when known](samples.png)", ""]
    lines += [
        "## Data",
        "",
        f"Trained on {_data_licence(cfg['source'])} and {_data_licence(cfg['target'])}. The weights' licence "
        "follows the training data's; monge itself is open source.",
        "",
        "## Use",
        "",
        "```python",
        "import monge",
        'm = monge.from_pretrained("THIS_REPO_OR_FOLDER")  # a local folder needs no extra; the Hub needs [hub]',
        f"y = m(x)  # x: (N, 3, {cfg['size']}, {cfg['size']}) in [-1, 1], or images, arrays, paths",
        "```",
        "",
        "or `monge translate THIS_FOLDER images/ --out mapped/`.",
        "",
    ]
    return "\n".join(lines)
