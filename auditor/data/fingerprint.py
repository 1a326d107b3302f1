"""SHA-256 fingerprints of datasets (a file, or every file under a directory)."""

from __future__ import annotations

import hashlib
from pathlib import Path

_BLOCK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def dataset_sha256(path: Path) -> str:
    """A file's digest, or for a directory the digest of its sorted (relative path, digest) list."""
    if path.is_file():
        return file_sha256(path)
    lines = []
    for child in sorted(p for p in path.rglob("*") if p.is_file()):
        lines.append(f"{child.relative_to(path).as_posix()}\0{file_sha256(child)}\n")
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def dataset_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
