"""The data-loader axis: one small interface and a registry of implementations.

A loader turns a path into pandas frames. ``load`` gives the typed frame used
for training; ``iter_text_chunks`` gives the same rows as text, in chunks, for
the PII scan (text keeps values exactly as stored, e.g. ZIP codes with leading
zeros).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from auditor.errors import InputError, require_regular_file

# A column name longer than this is refused before anything scans or prints it (docs/security.md).
MAX_COLUMN_NAME_CHARS = 1_000


@dataclass(frozen=True)
class ReadOptions:
    encoding: str = "utf-8"
    max_rows: int = 5_000_000
    max_columns: int = 2_000
    max_cell_chars: int = 1_000_000
    max_decoded_bytes: int = 4096 * 2**20
    chunk_rows: int = 20_000


@dataclass(frozen=True)
class Partition:
    """A part of a dataset a worker can read on its own: a file, or one row group of a Parquet file."""

    file: str
    row_group: int | None = None


class Loader(ABC):
    """Reads one dataset format."""

    name: str
    suffixes: tuple[str, ...]

    @abstractmethod
    def load(self, path: Path, options: ReadOptions) -> pd.DataFrame:
        """The whole dataset with inferred types; raises InputError on bad data."""

    @abstractmethod
    def iter_text_chunks(self, path: Path, options: ReadOptions) -> Iterator[pd.DataFrame]:
        """The dataset as ``str`` columns (missing values stay missing), ``chunk_rows`` rows at a time."""

    def partitions(self, path: Path) -> list[Partition]:
        """The parts, in the order iter_text_chunks reads them; empty when this format cannot be split."""
        return []

    def iter_partition(self, partition: Partition, options: ReadOptions) -> Iterator[pd.DataFrame]:
        """One partition's rows as text, in chunks (each partition's limits checked on its own)."""
        raise NotImplementedError(f"{self.name} datasets cannot be read by partition")


LOADERS: dict[str, Loader] = {}


def register(loader: Loader) -> Loader:
    LOADERS[loader.name] = loader
    return loader


def detect_format(path: Path) -> str:
    """Pick a loader from the suffix; a directory of images is an ImageFolder."""
    if path.is_dir():
        from auditor.data.hf_dataset import is_hf_dataset

        if is_hf_dataset(path):
            return "hf-dataset"
        files = data_files(path)
        if files:
            return detect_format(files[0])
        return "imagefolder"
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix.lower() == ".gz" else path.suffix.lower()
    for loader in LOADERS.values():
        if suffix in loader.suffixes:
            return loader.name
    known = ", ".join(sorted(s for loader in LOADERS.values() for s in loader.suffixes))
    raise InputError(f"unknown data format {suffix or '(no suffix)'!r}; expected one of {known}", where=str(path))


def data_files(directory: Path) -> list[Path]:
    """Tabular files directly in ``directory`` (a partitioned dataset), in a stable order."""
    tabular = {s for loader in LOADERS.values() for s in loader.suffixes}
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in tabular)


def get_loader(path: Path, fmt: str = "auto") -> Loader:
    if not path.exists():
        raise InputError("dataset not found", where=str(path))
    require_regular_file(path, "the dataset (data.path)")
    name = detect_format(path) if fmt == "auto" else fmt
    if name not in LOADERS:
        raise InputError(f"unknown data format {name!r}", where=str(path))
    return LOADERS[name]


def check_limits(
    frame: pd.DataFrame, path: Path, options: ReadOptions, row_offset: int = 0, bytes_before: int = 0
) -> int:
    """Enforce the configured resource limits with a message that names the place.

    Called on every chunk as it is read; returns the decoded bytes so far (``bytes_before`` plus this
    chunk's), so a compressed file that inflates past ``data.max_decoded_mib`` stops while streaming."""
    if frame.shape[1] > options.max_columns:
        raise InputError(
            f"{frame.shape[1]} columns exceed the limit of {options.max_columns} (data.max_columns)", where=str(path)
        )
    for position, name in enumerate(frame.columns):
        if len(str(name)) > MAX_COLUMN_NAME_CHARS:
            raise InputError(
                f"column {position + 1}'s name has {len(str(name)):,} characters; the limit is "
                f"{MAX_COLUMN_NAME_CHARS:,}",
                where=str(path),
            )
    if row_offset + len(frame) > options.max_rows:
        raise InputError(f"more than {options.max_rows} rows (data.max_rows)", where=str(path))
    decoded = bytes_before
    for column in frame.columns:
        series = frame[column]
        if series.dtype != object and not pd.api.types.is_string_dtype(series.dtype):
            decoded += int(series.memory_usage(index=False, deep=False))
            continue
        lengths = series.map(lambda v: len(v) if isinstance(v, (str, bytes)) else 0)
        decoded += (int(lengths.sum()) if len(lengths) else 0) + 8 * len(series)
        if len(lengths) and int(lengths.max()) > options.max_cell_chars:
            row = row_offset + int(lengths.to_numpy().argmax())
            raise InputError(
                f"column {column!r}, row {row}: cell of {int(lengths.max())} characters exceeds "
                f"data.max_cell_chars ({options.max_cell_chars})",
                where=str(path),
            )
    if decoded > options.max_decoded_bytes:
        raise InputError(
            f"the data decodes to more than {options.max_decoded_bytes // 2**20:,} MiB (data.max_decoded_mib)",
            where=str(path),
        )
    return decoded


def masked_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every column name that holds personal data (an email used as a header) masked.

    Names are masked where the data enters, so no stage, output, log or history row can print them:
    ``j***@e***.c**`` instead of the address. A masked name that collides gets its position appended."""
    from auditor.pii.masking import scrub

    names = [str(c) for c in frame.columns]
    masked = [scrub(name) for name in names]
    if masked == names:
        return frame
    seen: set[str] = set()
    unique = []
    for position, name in enumerate(masked):
        candidate = name if name not in seen else f"{name} (column {position + 1})"
        seen.add(candidate)
        unique.append(candidate)
    renamed = frame.copy(deep=False)
    renamed.columns = unique
    return renamed


def masked_chunks(chunks: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    for chunk in chunks:
        yield masked_columns(chunk)
