"""Build the built-in emoji set (monge/assets/) from a local copy of the emoji folders.

    python scripts/build_emoji.py [../shared/data/emoji]

Writes, per style, the 3,786 images at 32 x 32 (composited on white, Lanczos-resized) as a
raw uint8 array compressed with xz, plus one JSON file of names and categories.
"""

import json
import lzma
import sys
from pathlib import Path

from monge.data.emoji import ASSETS, EMOJI_STORED_SIZE, STYLES, read_emoji_folder


def main(root: str = "../shared/data/emoji") -> None:
    root_path = Path(root)
    meta = json.loads((root_path / "emoji.json").read_text())
    category = {e["image"]: e["category"] for e in meta}
    for e in meta:
        for variant in (e.get("skin_variations") or {}).values():
            category[variant["image"]] = e["category"]
    names = sorted(p.name for p in (root_path / "google").glob("*.png"))
    for style in STYLES:
        images = read_emoji_folder(root_path / style, names, EMOJI_STORED_SIZE)
        data = lzma.compress(images.tobytes(), preset=9 | lzma.PRESET_EXTREME)
        (ASSETS / f"emoji_{style}_{EMOJI_STORED_SIZE}.u8.xz").write_bytes(data)
        print(f"{style}: {images.shape} -> {len(data) / 1e6:.2f} MB")
    cats = [category.get(n, "Unknown") for n in names]
    (ASSETS / "emoji_index.json").write_text(json.dumps({"names": names, "categories": cats}))


if __name__ == "__main__":
    main(*sys.argv[1:])
