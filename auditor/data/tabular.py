"""CSV/TSV, Parquet and JSON Lines loaders (a single file or a directory of them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from auditor._io import parse_json
from auditor.data.base import Loader, Partition, ReadOptions, check_limits, data_files, register
from auditor.errors import InputError


def _files(path: Path, suffixes: tuple[str, ...]) -> list[Path]:
    if path.is_file():
        return [path]
    files = [p for p in data_files(path) if p.suffix.lower() in suffixes]
    if not files:
        raise InputError(f"no {'/'.join(suffixes)} files in directory", where=str(path))
    return files


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """String view of a frame (pandas ``str`` dtype, Arrow-backed; missing values stay missing)."""
    return frame.astype("str")


def _check_binary(path: Path) -> None:
    with path.open("rb") as handle:
        head = handle.read(8192)
    if b"\x00" in head:
        raise InputError("looks like a binary file (NUL bytes), not text data", where=str(path))


class _ByFile:
    """Partitions of a directory of text files: one per file, in reading order."""

    suffixes: tuple[str, ...]

    def partitions(self, path: Path) -> list[Partition]:
        return [Partition(str(file)) for file in _files(path, self.suffixes)]

    def iter_partition(self, partition: Partition, options: ReadOptions) -> Iterator[pd.DataFrame]:
        loader: Any = self
        yield from loader.iter_text_chunks(Path(partition.file), options)


class CsvLoader(_ByFile, Loader):
    name = "csv"
    suffixes = (".csv", ".tsv")

    def _read(self, path: Path, options: ReadOptions, **kwargs: Any) -> Any:
        _check_binary(path)
        sep = "\t" if path.suffix.lower() == ".tsv" else ","
        try:
            return pd.read_csv(path, sep=sep, encoding=options.encoding, encoding_errors="strict", **kwargs)
        except UnicodeDecodeError as exc:
            raise InputError(
                f"not valid {options.encoding} text at byte {exc.start}; set data.encoding", where=str(path)
            ) from None
        except LookupError:
            raise InputError(f"unknown encoding {options.encoding!r} (data.encoding)", where=str(path)) from None
        except pd.errors.EmptyDataError:
            raise InputError("empty file: no header and no rows", where=str(path)) from None
        except pd.errors.ParserError as exc:
            detail = str(exc).split("C error: ")[-1].strip().rstrip(".")
            raise InputError(f"malformed CSV: {detail}", where=str(path)) from None

    def load(self, path: Path, options: ReadOptions) -> pd.DataFrame:
        frames = []
        offset = decoded = 0
        for file in _files(path, self.suffixes):
            try:
                frame = self._read(file, options, low_memory=False)
            except UnicodeDecodeError as exc:  # raised lazily by the C parser on some inputs
                raise InputError(f"not valid {options.encoding} text at byte {exc.start}", where=str(file)) from None
            decoded = check_limits(frame, file, options, offset, decoded)
            offset += len(frame)
            frames.append(frame)
        merged: pd.DataFrame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        return merged

    def iter_text_chunks(self, path: Path, options: ReadOptions) -> Iterator[pd.DataFrame]:
        offset = decoded = 0
        for file in _files(path, self.suffixes):
            reader = self._read(
                file, options, dtype=str, keep_default_na=False, na_values=[""], chunksize=options.chunk_rows
            )
            try:
                with reader:
                    for chunk in reader:
                        decoded = check_limits(chunk, file, options, offset, decoded)
                        offset += len(chunk)
                        yield _as_text(chunk)
            except UnicodeDecodeError as exc:
                raise InputError(f"not valid {options.encoding} text at byte {exc.start}", where=str(file)) from None
            except pd.errors.ParserError as exc:
                detail = str(exc).split("C error: ")[-1].strip().rstrip(".")
                raise InputError(f"malformed CSV: {detail}", where=str(file)) from None


class ParquetLoader(Loader):
    name = "parquet"
    suffixes = (".parquet", ".pq")

    def _open(self, path: Path) -> pq.ParquetFile:
        try:
            handle = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"not a readable Parquet file ({str(exc).splitlines()[0]})", where=str(path)) from None
        for field in handle.schema_arrow:
            if pa.types.is_nested(field.type):
                raise InputError(
                    f"column {field.name!r} has nested type {field.type}; flatten it before auditing", where=str(path)
                )
        return handle

    def _batches(self, path: Path, options: ReadOptions) -> Iterator[pd.DataFrame]:
        """Record batches as frames, each checked as it is decoded (a very compressible file stops early)."""
        offset = decoded = 0
        for file in _files(path, self.suffixes):
            handle = self._open(file)
            if handle.metadata.num_rows + offset > options.max_rows:
                raise InputError(f"more than {options.max_rows} rows (data.max_rows)", where=str(file))
            for batch in handle.iter_batches(batch_size=options.chunk_rows):
                chunk = batch.to_pandas()
                decoded = check_limits(chunk, file, options, offset, decoded)
                offset += len(chunk)
                yield chunk

    def load(self, path: Path, options: ReadOptions) -> pd.DataFrame:
        frames = list(self._batches(path, options))
        if not frames:
            return pd.DataFrame(columns=self._open(_files(path, self.suffixes)[0]).schema_arrow.names)
        merged: pd.DataFrame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        return merged

    def iter_text_chunks(self, path: Path, options: ReadOptions) -> Iterator[pd.DataFrame]:
        for chunk in self._batches(path, options):
            yield _as_text(chunk)

    def partitions(self, path: Path) -> list[Partition]:
        """One per row group, read from the files' footers only."""
        return [
            Partition(str(file), group)
            for file in _files(path, self.suffixes)
            for group in range(self._open(file).metadata.num_row_groups)
        ]

    def iter_partition(self, partition: Partition, options: ReadOptions) -> Iterator[pd.DataFrame]:
        file = Path(partition.file)
        handle = self._open(file)
        groups = [partition.row_group] if partition.row_group is not None else None
        offset = decoded = 0
        for batch in handle.iter_batches(batch_size=options.chunk_rows, row_groups=groups):
            chunk = batch.to_pandas()
            decoded = check_limits(chunk, file, options, offset, decoded)
            offset += len(chunk)
            yield _as_text(chunk)


class JsonLinesLoader(_ByFile, Loader):
    name = "jsonl"
    suffixes = (".jsonl", ".ndjson")

    def _records(self, file: Path, options: ReadOptions) -> Iterator[tuple[int, dict[str, Any]]]:
        _check_binary(file)
        try:
            with file.open("r", encoding=options.encoding, errors="strict") as handle:
                for number, line in enumerate(handle, start=1):
                    if not line.strip():
                        continue
                    try:
                        record = parse_json(line)
                    except ValueError as exc:
                        raise InputError(f"line {number}: {exc}", where=str(file)) from None
                    if not isinstance(record, dict):
                        raise InputError(f"line {number}: expected a JSON object", where=str(file))
                    for key, value in record.items():
                        if isinstance(value, (dict, list)):
                            raise InputError(
                                f"line {number}: field {key!r} is nested; flatten it before auditing", where=str(file)
                            )
                    yield number, record
        except UnicodeDecodeError as exc:
            raise InputError(f"not valid {options.encoding} text at byte {exc.start}", where=str(file)) from None
        except LookupError:
            raise InputError(f"unknown encoding {options.encoding!r} (data.encoding)", where=str(file)) from None

    def _chunks(self, path: Path, options: ReadOptions) -> Iterator[tuple[Path, pd.DataFrame]]:
        columns: list[str] | None = None
        for file in _files(path, self.suffixes):
            batch: list[dict[str, Any]] = []
            for _, record in self._records(file, options):
                batch.append(record)
                if len(batch) >= options.chunk_rows:
                    frame = pd.DataFrame.from_records(batch, columns=columns)
                    columns = columns or list(frame.columns)
                    yield file, frame
                    batch = []
            if batch:
                frame = pd.DataFrame.from_records(batch, columns=columns)
                columns = columns or list(frame.columns)
                yield file, frame

    def load(self, path: Path, options: ReadOptions) -> pd.DataFrame:
        frames = []
        offset = decoded = 0
        for file, frame in self._chunks(path, options):
            decoded = check_limits(frame, file, options, offset, decoded)
            offset += len(frame)
            frames.append(frame)
        if not frames:
            return pd.DataFrame()
        merged = pd.concat(frames, ignore_index=True)
        return merged.infer_objects()

    def iter_text_chunks(self, path: Path, options: ReadOptions) -> Iterator[pd.DataFrame]:
        offset = decoded = 0
        for file, frame in self._chunks(path, options):
            decoded = check_limits(frame, file, options, offset, decoded)
            offset += len(frame)
            yield _as_text(frame)


register(CsvLoader())
register(ParquetLoader())
register(JsonLinesLoader())
