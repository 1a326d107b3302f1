"""Write the selected outputs: render everything in memory first, then swap the whole set in.

A rendering failure leaves no output at all. The set is written into a
temporary directory beside the target, then exchanged with it in one step
(``renameat2(RENAME_EXCHANGE)`` on Linux), so a reader sees either the old set
or the new one, never a mix, even if the process is killed mid-way. When the
target directory also holds files auditor did not write (a project's own
files), those stay where they are: each output is then written atomically, one
by one. A full disk removes the partial set and is a one-line error.

An output directory keeps a manifest of the files auditor wrote there
(``.auditor-outputs.json``). A file of the same name that is not in it (a
project's own README.md, say) is never replaced, unless ``--force`` says so.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from auditor._io import write_bytes
from auditor.errors import InputError
from auditor.evidence import Evidence
from auditor.render import html as _html  # noqa: F401  (registers the renderer)
from auditor.render import json_out as _json  # noqa: F401
from auditor.render import junit as _junit  # noqa: F401
from auditor.render import markdown as _markdown  # noqa: F401
from auditor.render import modelcard as _modelcard  # noqa: F401
from auditor.render import pdf as _pdf  # noqa: F401
from auditor.render import sarif as _sarif  # noqa: F401
from auditor.render.base import RENDERERS, RenderContext


def render_outputs(evidence: Evidence, formats: list[str], context: RenderContext) -> dict[str, bytes]:
    unknown = [f for f in formats if f not in RENDERERS]
    if unknown:
        raise ValueError(f"unknown output format(s): {', '.join(unknown)}")
    return {RENDERERS[f].filename: RENDERERS[f].render(evidence, context) for f in formats}


MANIFEST = ".auditor-outputs.json"


def output_filenames(formats: Iterable[str]) -> list[str]:
    return [RENDERERS[f].filename for f in formats if f in RENDERERS]


def _ours(directory: Path) -> set[str]:
    """Files auditor wrote in ``directory`` before (an unreadable manifest vouches for nothing)."""
    try:
        files = json.loads((directory / MANIFEST).read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return set()
    return {f for f in files if isinstance(f, str)}


def check_overwrite(directory: Path, names: Iterable[str], force: bool = False) -> None:
    """Refuse, before any work, to replace a file auditor did not write (exit code 2)."""
    if force or not directory.is_dir():
        return
    ours = _ours(directory)
    foreign = sorted(n for n in names if (directory / n).exists() and n not in ours)
    if foreign:
        raise InputError(
            "exists and was not written by auditor; move it, choose another -o directory, or pass --force",
            where=str(directory / foreign[0]),
        )


def check_output_location(directory: Path) -> None:
    """Before any stage runs: the output directory must be creatable and writable (exit code 2)."""
    if directory.is_symlink() and not directory.exists():
        raise InputError("output path is a dangling symbolic link", where=str(directory))
    if directory.exists() and not directory.is_dir():
        raise InputError("output path exists and is not a directory", where=str(directory))
    existing = directory
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"cannot create the output directory: {existing} is not a directory", where=str(directory))
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"output location is not writable ({existing})", where=str(directory))


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where that is unavailable."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return bool(result == 0)


def _only_ours(directory: Path) -> bool:
    if not directory.exists():
        return True
    ours = _ours(directory) | {MANIFEST}
    return all(entry.name in ours and entry.is_file() for entry in directory.iterdir())


def _manifest(files: Iterable[str]) -> bytes:
    return (json.dumps({"files": sorted(files), "writer": "auditor"}, indent=2) + "\n").encode()


def write_outputs(outputs: dict[str, bytes], directory: Path) -> list[Path]:
    try:
        if _only_ours(directory):
            _swap_in(outputs, directory)
        else:
            for name, data in outputs.items():
                write_bytes(directory / name, data)
            write_bytes(directory / MANIFEST, _manifest(_ours(directory) | set(outputs)))
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise InputError("no space left on the device; no output was written", where=str(directory)) from None
        raise
    return [directory / name for name in outputs]


def _swap_in(outputs: dict[str, bytes], directory: Path) -> None:
    """Write the set into a sibling temporary directory, then exchange it with ``directory`` in one step."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".auditor-tmp", dir=directory.parent))
    try:
        mask = os.umask(0)
        os.umask(mask)
        stage.chmod(0o777 & ~mask)  # mkdtemp makes it 0700; the output directory follows the umask, like mkdir
        kept = {name for name in _ours(directory) if name not in outputs and (directory / name).is_file()}
        for name in kept:  # earlier outputs not rendered this time stay part of the set
            shutil.copy2(directory / name, stage / name)
        for name, data in outputs.items():
            write_bytes(stage / name, data)
        write_bytes(stage / MANIFEST, _manifest(kept | set(outputs)))
        if not directory.exists():
            os.rename(stage, directory)
            return
        if not _exchange(stage, directory):
            old = stage.with_suffix(".old")
            os.rename(directory, old)
            os.rename(stage, directory)
            stage = old
        shutil.rmtree(stage, ignore_errors=True)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
