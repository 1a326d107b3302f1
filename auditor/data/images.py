"""ImageFolder datasets: one sub-directory per class, read by torchvision.

For the pipeline the dataset is also a small table (relative path and label),
so file names are scanned for personal data like any other text column.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from auditor.data.base import Loader, ReadOptions, check_limits, register
from auditor.errors import InputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm")


def image_table(root: Path) -> pd.DataFrame:
    if not root.is_dir():
        raise InputError("an imagefolder dataset must be a directory", where=str(root))
    rows = []
    for class_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for file in sorted(class_dir.rglob("*")):
            if file.is_file() and file.suffix.lower() in IMAGE_SUFFIXES:
                rows.append({"path": file.relative_to(root).as_posix(), "label": class_dir.name})
    if not rows:
        raise InputError("no images found (expected <root>/<class>/<image>)", where=str(root))
    return pd.DataFrame(rows, columns=["path", "label"])


class ImageFolderLoader(Loader):
    name = "imagefolder"
    suffixes = ()

    def load(self, path: Path, options: ReadOptions) -> pd.DataFrame:
        frame = image_table(path)
        check_limits(frame, path, options)
        return frame

    def iter_text_chunks(self, path: Path, options: ReadOptions) -> Iterator[pd.DataFrame]:
        frame = self.load(path, options)
        for start in range(0, len(frame), options.chunk_rows):
            yield frame.iloc[start : start + options.chunk_rows].reset_index(drop=True)


register(ImageFolderLoader())
