"""Hugging Face ``datasets`` directories written by ``save_to_disk``, read with pyarrow alone.

A ``Dataset`` directory holds ``state.json`` (the list of Arrow files),
``dataset_info.json`` (the features) and the Arrow IPC streams. A
``DatasetDict`` directory holds ``dataset_dict.json`` and one such directory
per split; auditor reads its ``train`` split, because it makes its own seeded
held-out split. ``ClassLabel`` columns come back as their label names.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from auditor.data.base import Loader, ReadOptions, check_limits, register
from auditor.errors import InputError

SPLIT = "train"


def is_hf_dataset(path: Path) -> bool:
    return path.is_dir() and ((path / "state.json").is_file() or (path / "dataset_dict.json").is_file())


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"unreadable {path.name}: {type(exc).__name__}", where=str(path.parent)) from None


def _dataset_dir(path: Path) -> Path:
    if (path / "state.json").is_file():
        return path
    splits = _read_json(path / "dataset_dict.json").get("splits", [])
    if SPLIT not in splits:
        raise InputError(f"a DatasetDict without a {SPLIT!r} split (splits: {splits})", where=str(path))
    return path / SPLIT


def _label_names(directory: Path) -> dict[str, list[str]]:
    info = directory / "dataset_info.json"
    features = _read_json(info).get("features", {}) if info.is_file() else {}
    names: dict[str, list[str]] = {}
    for column, feature in (features or {}).items():
        if isinstance(feature, dict) and feature.get("_type") == "ClassLabel" and feature.get("names"):
            names[column] = [str(n) for n in feature["names"]]
    return names


def _tables(path: Path) -> Iterator[tuple[Path, pa.Table]]:
    directory = _dataset_dir(path)
    files = [entry.get("filename", "") for entry in _read_json(directory / "state.json").get("_data_files", [])]
    if not files:
        raise InputError("the dataset lists no Arrow files (state.json)", where=str(directory))
    for name in files:
        file = directory / name
        if not file.is_file() or file.resolve().parent != directory.resolve():
            raise InputError(f"Arrow file {name!r} listed in state.json is missing", where=str(directory))
        try:
            with pa.ipc.open_stream(file) as reader:
                table = reader.read_all()
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"not an Arrow stream ({str(exc).splitlines()[0]})", where=str(file)) from None
        for field in table.schema:
            if pa.types.is_nested(field.type):
                raise InputError(
                    f"column {field.name!r} has nested type {field.type}; flatten it before auditing", where=str(file)
                )
        yield file, table


def _frame(table: pa.Table, names: dict[str, list[str]]) -> pd.DataFrame:
    frame: pd.DataFrame = table.to_pandas()
    for column, labels in names.items():
        if column in frame.columns:
            lookup = dict(enumerate(labels))
            frame[column] = frame[column].map(lambda i, lookup=lookup: lookup.get(i, i))
    return frame


class HfDatasetLoader(Loader):
    name = "hf-dataset"
    suffixes = ()

    def load(self, path: Path, options: ReadOptions) -> pd.DataFrame:
        names = _label_names(_dataset_dir(path))
        frames, offset, decoded = [], 0, 0
        for file, table in _tables(path):
            if offset + table.num_rows > options.max_rows:
                raise InputError(f"more than {options.max_rows} rows (data.max_rows)", where=str(file))
            frame = _frame(table, names)
            decoded = check_limits(frame, file, options, offset, decoded)
            offset += len(frame)
            frames.append(frame)
        merged: pd.DataFrame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        return merged

    def iter_text_chunks(self, path: Path, options: ReadOptions) -> Iterator[pd.DataFrame]:
        names = _label_names(_dataset_dir(path))
        offset = decoded = 0
        for file, table in _tables(path):
            for batch in table.to_batches(max_chunksize=options.chunk_rows):
                chunk = _frame(pa.Table.from_batches([batch]), names)
                decoded = check_limits(chunk, file, options, offset, decoded)
                offset += len(chunk)
                yield chunk.astype("str")


register(HfDatasetLoader())
