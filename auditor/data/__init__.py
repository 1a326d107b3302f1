"""Dataset loading, validation and fingerprinting (the ``data`` stage)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from auditor.config import AuditConfig
from auditor.data import hf_dataset as _hf_dataset  # noqa: F401  (registers the loader)
from auditor.data import images as _images  # noqa: F401  (registers the loader)
from auditor.data import tabular as _tabular  # noqa: F401  (registers the loaders)
from auditor.data.base import LOADERS, Loader, ReadOptions, get_loader, masked_chunks, masked_columns
from auditor.data.snapshot import Snapshot, in_source, take_snapshot
from auditor.errors import InputError

__all__ = [
    "LOADERS",
    "LoadedData",
    "Loader",
    "ReadOptions",
    "get_loader",
    "load_data",
    "masked_chunks",
    "masked_columns",
    "read_options",
    "text_columns",
]

MIN_ROWS = 20


@dataclass(frozen=True)
class LoadedData:
    frame: pd.DataFrame
    path: Path
    format: str
    target: str
    sha256: str
    size_bytes: int
    dropped_missing_target: int
    read_path: Path | None = None
    """Where the stages read the data: the run's private snapshot of ``path`` (auditor/data/snapshot.py)."""
    snapshot: Snapshot | None = None
    text: tuple[str, ...] = ()
    """The data.text columns a text task reads."""
    subject: str | None = None
    """data.subject_id: the column that identifies the person each row is about."""

    @property
    def readable(self) -> Path:
        """The path to parse: the snapshot when there is one."""
        return self.read_path or self.path

    def close(self) -> None:
        if self.snapshot is not None:
            self.snapshot.close()


def text_columns(config: AuditConfig) -> list[str]:
    """The configured data.text columns, as a list (empty when none)."""
    text = config.data.text
    return [] if text is None else [text] if isinstance(text, str) else list(text)


def read_options(config: AuditConfig) -> ReadOptions:
    return ReadOptions(
        encoding=config.data.encoding,
        max_rows=config.data.max_rows,
        max_columns=config.data.max_columns,
        max_cell_chars=config.data.max_cell_chars,
        max_decoded_bytes=config.data.max_decoded_mib * 2**20,
        chunk_rows=config.pii.chunk_rows,
    )


def load_data(config: AuditConfig) -> LoadedData:
    """Load and validate the configured dataset; every problem is an InputError naming the field."""
    path = config.resolve(config.data.path)
    get_loader(path, config.data.format)  # exists, is regular, has a known format
    snapshot = take_snapshot(path)
    try:
        return _validated(config, path, snapshot)
    except InputError as exc:
        snapshot.close()
        raise in_source(exc, snapshot, path) from None
    except BaseException:
        snapshot.close()
        raise


def _validated(config: AuditConfig, path: Path, snapshot: Snapshot) -> LoadedData:
    loader = get_loader(snapshot.path, config.data.format)
    frame = masked_columns(loader.load(snapshot.path, read_options(config)))
    target = "label" if loader.name == "imagefolder" else config.data.target
    where = str(path)
    if frame.shape[1] == 0 or len(frame) == 0:
        raise InputError("no data rows (header only or empty)", where=where)
    if target not in frame.columns:
        raise InputError(
            f"target column {target!r} (data.target) not found; columns are {list(frame.columns)[:12]}", where=where
        )
    missing = frame[target].isna()
    if missing.all():
        raise InputError(f"target column {target!r} has no values", where=where)
    frame = frame.loc[~missing].reset_index(drop=True)
    classes = frame[target].astype(str).nunique()
    if classes < 2:
        raise InputError(f"target column {target!r} has a single class; nothing to learn", where=where)
    if len(frame) < MIN_ROWS:
        raise InputError(f"only {len(frame)} labelled rows; at least {MIN_ROWS} are needed", where=where)
    for column in text_columns(config):
        if column not in frame.columns:
            raise InputError(
                f"text column {column!r} (data.text) not found; columns are {list(frame.columns)[:12]}", where=where
            )
    for name in (config.train.sensitive_attribute, *config.train.exclude_columns):
        if name is not None and name not in frame.columns:
            raise InputError(f"column {name!r} named in train settings not found", where=where)
    subject = config.data.subject_id
    if subject is not None and subject not in frame.columns:
        raise InputError(f"subject column {subject!r} (data.subject_id) not found", where=where)
    if subject is not None and subject in (target, *text_columns(config)):
        raise InputError(f"data.subject_id {subject!r} cannot be the target or a text column", where=where)
    return LoadedData(
        frame=frame,
        path=path,
        format=loader.name,
        target=target,
        sha256=snapshot.sha256,
        size_bytes=snapshot.size_bytes,
        dropped_missing_target=int(missing.sum()),
        text=tuple(text_columns(config)),
        subject=subject,
        read_path=snapshot.path,
        snapshot=snapshot,
    )
