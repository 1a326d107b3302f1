"""Crash-consistent outputs: the whole set is swapped in, or nothing changes."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import auditor.render.writer as writer
from auditor.errors import InputError
from auditor.render.writer import MANIFEST, check_output_location, write_outputs


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if "auditor-tmp" in p.name or p.name.endswith(".old"))


def test_a_new_set_replaces_the_old_one_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_outputs({"evidence.json": b"old", "report.pdf": b"old", "junit.xml": b"old"}, out)
    write_outputs({"evidence.json": b"new", "report.pdf": b"new"}, out)
    assert (out / "evidence.json").read_bytes() == b"new" and (out / "report.pdf").read_bytes() == b"new"
    assert (out / "junit.xml").read_bytes() == b"old"  # an earlier output not rendered now stays in the set
    assert (out / MANIFEST).exists() and _leftovers(tmp_path) == []


def test_a_crash_while_writing_leaves_the_old_set_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    write_outputs({"evidence.json": b"old", "report.pdf": b"old"}, out)
    real = writer.write_bytes
    calls = {"n": 0}

    def dies_on_the_second(path: Path, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # as abrupt as it gets in-process
        real(path, data)

    monkeypatch.setattr(writer, "write_bytes", dies_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        write_outputs({"evidence.json": b"new", "report.pdf": b"new"}, out)
    assert (out / "evidence.json").read_bytes() == b"old" and (out / "report.pdf").read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_a_full_disk_is_a_clean_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writer, "write_bytes", full)
    with pytest.raises(InputError, match="no space left on the device; no output was written"):
        write_outputs({"evidence.json": b"new"}, tmp_path / "out")
    assert not (tmp_path / "out").exists() and _leftovers(tmp_path) == []


def test_foreign_files_stay_where_they_are(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    write_outputs({"evidence.json": b"new"}, out)
    assert (out / "notes.txt").read_text() == "mine" and (out / "evidence.json").read_bytes() == b"new"


def test_the_output_directory_follows_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        write_outputs({"evidence.json": b"x"}, tmp_path / "out")
    finally:
        os.umask(previous)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "out" / "evidence.json").stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600


def test_bad_output_locations_are_refused_up_front(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        check_output_location(a_file / "out")
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(InputError, match="dangling symbolic link"):
        check_output_location(link)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        with pytest.raises(InputError, match="not writable"):
            check_output_location(locked / "out")
    finally:
        locked.chmod(0o700)


def test_audit_run_checks_the_output_before_any_stage(
    small_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import auditor.pipeline as pipeline
    from auditor.cli import app

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a stage ran before the output location was checked")

    monkeypatch.setattr(pipeline, "run", never)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    result = CliRunner().invoke(app, ["run", str(small_config), "-o", str(a_file / "out")])
    assert result.exit_code == 2 and "not a directory" in result.stderr


def test_the_api_takes_a_path_a_mapping_or_a_config(small_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    import auditor
    import auditor.pipeline as pipeline
    from auditor.config import AuditConfig, load_config

    seen: list[AuditConfig] = []

    def fake(config: AuditConfig, **kwargs: Any) -> Any:
        seen.append(config)
        raise StopIteration  # the pipeline itself is tested elsewhere

    monkeypatch.setattr(pipeline, "run", fake)
    mapping = yaml.safe_load(small_config.read_text())
    mapping["data"]["path"] = str(small_config.parent / mapping["data"]["path"])
    for config in (small_config, str(small_config), mapping, load_config(small_config)):
        with pytest.raises(StopIteration):
            auditor.run(config)
    assert len(seen) == 4 and len({c.project for c in seen}) == 1
    assert Path(seen[2].resolve(seen[2].data.path)) == Path(seen[0].resolve(seen[0].data.path))
    with pytest.raises(InputError, match="data"):  # a mapping is validated like a file: data is required
        auditor.run({"project": "p"})
