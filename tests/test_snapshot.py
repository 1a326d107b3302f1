"""#21 class 5: the dataset is read once; its digest is of exactly the bytes every stage parses."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

import auditor
from auditor.config import load_config
from auditor.data import get_loader, load_data, read_options
from auditor.data.snapshot import take_snapshot
from auditor.errors import InputError
from tests.conftest import write_small_example


def _swap(path: Path, content: bytes) -> None:
    """Replace the file the way an attacker or a sync job would: write beside it, rename over it."""
    fresh = path.with_name(path.name + ".new")
    fresh.write_bytes(content)
    os.replace(fresh, path)


def test_a_dataset_swapped_after_loading_is_not_what_the_stages_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    config = load_config(write_small_example(tmp_path / "ex", rows=60))
    path = config.resolve(config.data.path)
    original = path.read_bytes()
    data = load_data(config)
    header = original.split(b"\n", 1)[0]
    _swap(path, header + b"\n" + b"\n".join([b",".join([b"0"] * (header.count(b",") + 1))] * 60) + b"\n")
    assert data.sha256 == hashlib.sha256(original).hexdigest() != hashlib.sha256(path.read_bytes()).hexdigest()
    # The scan parses the same bytes the training frame came from, not the swapped file.
    scanned = sum(
        len(chunk) for chunk in get_loader(data.readable).iter_text_chunks(data.readable, read_options(config))
    )
    assert scanned == len(data.frame) == 60
    assert data.readable.read_bytes() == original
    assert data.readable.parent.parent == tmp_path / "tmp" and oct(data.readable.parent.stat().st_mode)[-3:] == "700"
    data.close()
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_file_changed_while_it_is_copied_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "d.csv"
    source.write_text("a,b\n1,2\n")
    real_fstat = os.fstat
    calls: list[int] = []

    def moving_fstat(fd: int) -> Any:
        result = real_fstat(fd)
        calls.append(fd)
        if len(calls) == 2:  # the check after the copy sees a newer mtime, as after an in-place write
            return os.stat_result((*result[:8], result.st_mtime + 1, result.st_ctime))
        return result

    monkeypatch.setattr("auditor.data.snapshot.os.fstat", moving_fstat)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(InputError, match="changed while it was read"):
        take_snapshot(source)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv"]  # the partial copy is removed


def test_a_directory_dataset_is_hashed_file_by_file(tmp_path: Path) -> None:
    directory = tmp_path / "parts"
    (directory / "sub").mkdir(parents=True)
    (directory / "a.csv").write_text("x\n1\n")
    (directory / "sub" / "b.csv").write_text("x\n2\n")
    snap = take_snapshot(directory)
    one, two = hashlib.sha256(b"x\n1\n").hexdigest(), hashlib.sha256(b"x\n2\n").hexdigest()
    lines = [f"a.csv\0{one}\n", f"sub/b.csv\0{two}\n"]
    assert snap.sha256 == hashlib.sha256("".join(lines).encode()).hexdigest()
    assert snap.size_bytes == 8 and (snap.path / "sub" / "b.csv").read_text() == "x\n2\n"
    snap.close()
    assert not snap.path.exists()


def test_errors_name_the_users_path_not_the_private_copy(tmp_path: Path) -> None:
    config_path = write_small_example(tmp_path, rows=60)
    (tmp_path / "loans.csv").write_text("a,b\n1,2\n")  # no target column
    with pytest.raises(InputError) as caught:
        load_data(load_config(config_path))
    assert caught.value.where == str(tmp_path / "loans.csv") and "auditor-data-" not in str(caught.value)


@pytest.mark.slow
def test_a_run_leaves_no_snapshot_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    config = write_small_example(tmp_path / "ex", rows=200, **{"pii.enabled": False, "train.epochs": 1})
    evidence = auditor.run(config)
    assert evidence.data is not None
    assert evidence.data.sha256 == hashlib.sha256((tmp_path / "ex" / "loans.csv").read_bytes()).hexdigest()
    assert not [p for p in (tmp_path / "tmp").iterdir() if p.name.startswith("auditor-data-")]
