"""Read the dataset once: a private copy, hashed while it is copied, that every later read parses.

Without it the data stage hashed the file, the loader parsed it and the scan
read it again, three reads of a path that can change in between (a dataset
swapped mid-run was recorded with the new file's SHA-256 while the model
trained on the old one). Now the bytes are read exactly once, from one open
file per source file; the digest is of those bytes, and the training frame, the
PII scan and image reads all parse the copy, in a private temporary directory
(mode 0700) removed at the end of the run. The copy costs disk and about a
second per GB; a regular file changed in place while it is copied is caught by
comparing its size and mtime before and after.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from auditor.errors import InputError

_BLOCK = 1 << 20


@dataclass
class Snapshot:
    path: Path
    """The private copy; it has the source's name, so formats are detected the same way."""
    sha256: str
    size_bytes: int
    _directory: Path

    def close(self) -> None:
        shutil.rmtree(self._directory, ignore_errors=True)


def _copy(source: Path, target: Path) -> tuple[str, int]:
    """Copy one regular file through a single open descriptor, hashing each block as it is written."""
    digest = hashlib.sha256()
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(source, flags)
    except OSError as exc:
        raise InputError(f"cannot read the dataset ({exc.strerror})", where=str(source)) from None
    size = 0
    with os.fdopen(fd, "rb") as handle:
        before = os.fstat(handle.fileno())
        if not stat.S_ISREG(before.st_mode):
            raise InputError("not a regular file", where=str(source))
        try:
            with target.open("wb") as out:
                while block := handle.read(_BLOCK):
                    digest.update(block)
                    out.write(block)
                    size += len(block)
        except OSError as exc:
            raise InputError(
                f"cannot copy the dataset into a private temporary directory ({exc.strerror}); "
                "free space there or set TMPDIR",
                where=str(source),
            ) from None
        after = os.fstat(handle.fileno())
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or size != after.st_size:
        raise InputError("the dataset changed while it was read; run again when it is stable", where=str(source))
    return digest.hexdigest(), size


def take_snapshot(source: Path) -> Snapshot:
    """A private copy of a file, or of every regular file under a directory, with the dataset's SHA-256.

    A directory's digest is that of its sorted ``relative path NUL file digest`` lines, as before."""
    directory = Path(tempfile.mkdtemp(prefix="auditor-data-"))
    try:
        target = directory / source.name
        if source.is_file():
            sha256, size = _copy(source, target)
            return Snapshot(target, sha256, size, directory)
        lines, size = [], 0
        for child in sorted(p for p in source.rglob("*") if p.is_file() and not p.is_symlink()):
            relative = child.relative_to(source)
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            file_digest, file_size = _copy(child, target / relative)
            lines.append(f"{relative.as_posix()}\0{file_digest}\n")
            size += file_size
        target.mkdir(exist_ok=True)
        sha256 = hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()
        return Snapshot(target, sha256, size, directory)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise


def in_source(error: InputError, snapshot: Snapshot, source: Path) -> InputError:
    """The same error, naming the user's path instead of the private copy."""
    where = error.where
    if where is not None and where.startswith(str(snapshot.path)):
        where = str(source) + where[len(str(snapshot.path)) :]
    return InputError(error.message.replace(str(snapshot.path), str(source)), where=where)
