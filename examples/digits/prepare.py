"""Write scikit-learn's bundled handwritten digits as an ImageFolder (no download).

    .venv/bin/python examples/digits/prepare.py

1,797 grayscale 8x8 images go to examples/digits/images/<digit>/<index>.png,
which torchvision's ImageFolder reads. The output is deterministic.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

ROOT = Path(__file__).resolve().parent / "images"


def write_images(root: Path, limit: int | None = None) -> int:
    digits = load_digits()
    pairs = list(zip(digits.images, digits.target, strict=True))[:limit]
    for index, (image, label) in enumerate(pairs):
        folder = root / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        pixels = (np.asarray(image) * (255 / 16)).round().astype(np.uint8)
        Image.fromarray(pixels, mode="L").save(folder / f"{index:04d}.png", optimize=False)
    return len(pairs)


def main() -> None:
    print(f"wrote {write_images(ROOT)} images to {ROOT}")


if __name__ == "__main__":
    main()
