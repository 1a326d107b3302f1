"""Atomic file writes and canonical JSON.

Every output goes to a temporary sibling first and is renamed into place, so a
crash or an input error never leaves a half-written file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def canonical_json(data: Any) -> str:
    """Serialise with sorted keys and a trailing newline, so equal data gives equal bytes."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


@contextmanager
def atomic_writer(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Yield a handle to a temporary file that replaces ``path`` only on success.

    On failure nothing is left behind: not the temporary file, and not the parent
    directories this call created."""
    created = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except BaseException:
        _remove_empty(created)
        raise
    tmp = Path(tmp_name)
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(0o666 & ~_umask())  # mkstemp makes it 0600; outputs follow the umask like any new file
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        _remove_empty(created)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove_empty(directories: list[Path]) -> None:
    """Remove directories (deepest first) that are still empty; keep any another writer used."""
    for directory in directories:
        try:
            directory.rmdir()
        except OSError:
            return


def write_text(path: Path, text: str) -> None:
    with atomic_writer(path, "w") as handle:
        handle.write(text)


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_writer(path, "wb") as handle:
        handle.write(data)


def parse_json(text: str | bytes) -> Any:
    """``json.loads`` whose every failure is a ``ValueError`` with a one-line reason.

    Hostile JSON fails in ways ``JSONDecodeError`` does not cover: nesting deep enough to exhaust the
    parser's recursion (RecursionError) and integers longer than Python converts (4,300 digits)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg}, line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except ValueError as exc:  # e.g. "Exceeds the limit (4300 digits) for integer string conversion"
        raise ValueError(f"JSON value refused ({str(exc).splitlines()[0][:100]})") from None
