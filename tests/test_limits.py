"""#21 class 3: resource exhaustion. Each hostile input is refused with one exit-2 line, early, or handled in
bounded memory (long cells are analysed in windows)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.config import PiiConfig
from auditor.pii.presidio_engine import WINDOW_CHARS, WINDOW_OVERLAP, EngineSettings, analyze_texts, windows
from tests.conftest import REPO
from tests.test_bad_inputs import policy, run_config, write_config

LAUGHS = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'] + [
    f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)
]


def one_line_exit_2(args: list[str], fragment: str) -> None:
    result = CliRunner().invoke(app, args)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2, result.stderr or result.stdout
    assert len(lines) == 1 and fragment in lines[0], lines
    assert "Traceback" not in result.stderr


def test_a_billion_laughs_in_a_policy_pack(tmp_path: Path) -> None:
    body = "x_defs:\n" + "\n".join("  " + line for line in LAUGHS) + "\nid: laughs\nversion: 1.0.0\n"
    body += "title: t\ndescription: d\nparams:\n  p:\n    default: *l9\n    description: d\ncontrols: []\n"
    one_line_exit_2(["policies", "validate", *policy(tmp_path, body)[-1:]], "expands to more than 1,000,000")


def test_a_billion_laughs_in_the_config(tmp_path: Path) -> None:
    config = run_config(tmp_path)
    path = Path(config[1])
    path.write_text("x_defs:\n" + "\n".join("  " + line for line in LAUGHS) + "\n" + path.read_text())
    one_line_exit_2(config, "expands to more than 1,000,000")


def test_yaml_nested_beyond_the_limit(tmp_path: Path) -> None:
    (tmp_path / "deep.yaml").write_text("a: " + "[" * 3000 + "]" * 3000 + "\n")
    one_line_exit_2(["policies", "validate", str(tmp_path / "deep.yaml")], "nested too deeply")


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        (" || ".join(["training.privacy.epsilon > 1.0"] * 20_000), "the limit is 4,000"),
        ("(" * 40 + "training.privacy.epsilon > 1.0" + ")" * 40, "nested deeper than 32"),
    ],
)
def test_oversized_cel_is_refused_before_the_parser(tmp_path: Path, expression: str, fragment: str) -> None:
    pack = (REPO / "policies" / "eu-ai-act.yaml").read_text()
    old = "energy.total.energy_kwh > 0.0 && size(energy.method.cpu.how) > 0"
    assert old in pack
    body = pack.replace(old, expression, 1)
    args = policy(tmp_path, body)
    one_line_exit_2(["policies", "validate", args[-1]], fragment)


def test_a_huge_column_name_is_refused_before_the_scan(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("id," + "x" * 100_000 + "\n" + "".join(f"{i},v\n" for i in range(30)))
    one_line_exit_2(["scan", str(tmp_path / "d.csv")], "name has 100,000 characters; the limit is 1,000")


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ('{"a": ' + "[" * 50_000 + "]" * 50_000 + "}", "JSON nested too deeply"),
        ('{"a": ' + "9" * 5000 + ', "label": 1}', "JSON value refused"),
    ],
)
def test_hostile_jsonl(tmp_path: Path, line: str, fragment: str) -> None:
    (tmp_path / "d.jsonl").write_text(line + "\n")
    one_line_exit_2(["scan", str(tmp_path / "d.jsonl")], fragment)


@pytest.mark.parametrize("body", ['{"a": ' + "[" * 50_000 + "]" * 50_000 + "}", '{"n": ' + "7" * 5000 + "}"])
def test_hostile_evidence(tmp_path: Path, body: str) -> None:
    (tmp_path / "evidence.json").write_text(body)
    one_line_exit_2(["report", str(tmp_path / "evidence.json"), "-o", str(tmp_path / "out")], "JSON")


def test_a_very_compressible_parquet_stops_at_the_decoded_limit(tmp_path: Path) -> None:
    """200,000 rows of a 1,000-character string: about 200 MB decoded from a file of a few hundred kB."""
    pq.write_table(pa.table({"notes": ["z" * 1000] * 200_000, "label": [0, 1] * 100_000}), tmp_path / "d.parquet")
    assert (tmp_path / "d.parquet").stat().st_size < 2_000_000
    config = write_config(tmp_path, **{"data.path": "d.parquet", "data.max_decoded_mib": 64})
    one_line_exit_2(["run", str(config), "-o", str(tmp_path / "out")], "decodes to more than 64 MiB")
    assert not (tmp_path / "out").exists()


def test_windows_cover_a_long_text_and_overlap() -> None:
    text = " ".join(f"word{i}" for i in range(10_000))  # about 79,000 characters
    pieces = windows(text)
    assert len(pieces) > 1 and all(len(piece) <= WINDOW_CHARS for _, piece in pieces)
    assert pieces[0][0] == 0 and pieces[-1][0] + len(pieces[-1][1]) == len(text)
    for (start, piece), (next_start, _) in itertools.pairwise(pieces):
        assert start < next_start and next_start <= start + len(piece) - WINDOW_OVERLAP + 1
        assert text[start : start + len(piece)] == piece
    assert windows("short") == [(0, "short")]


def test_a_long_cell_is_analysed_in_windows_with_true_offsets() -> None:
    """A sentence with a name repeated every ~2,900 characters, across several window cuts: the spans found in
    the long text are exactly those found in each sentence alone, moved to its place."""
    filler = "the order arrived late and the box was damaged. " * 60
    sentence = "My name is Margaret Thompson and I live in Manchester. "
    text = (filler + sentence) * 12
    assert len(text) > 3 * WINDOW_CHARS
    settings = EngineSettings.from_config(PiiConfig())
    alone = analyze_texts(settings, [filler + sentence], ())[0]
    assert {s.entity for s in alone} >= {"PERSON", "LOCATION"}
    step = len(filler + sentence)
    expected = sorted(
        ((s.start + i * step, s.end + i * step, s.entity) for i in range(12) for s in alone),
    )
    found = sorted((s.start, s.end, s.entity) for s in analyze_texts(settings, [text], ())[0])
    assert found == expected


def _peak_rss_mib(args: list[str]) -> float:
    """Peak resident memory of one child process (its own rusage, from wait4)."""
    child = subprocess.Popen(
        [sys.executable, "-m", "auditor.cli", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(child.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, child.stderr.read().decode()[-2000:] if child.stderr else ""
    if child.stderr:
        child.stderr.close()
    child.returncode = 0
    return usage.ru_maxrss / 1024


@pytest.mark.slow
def test_a_long_cell_scans_in_bounded_memory(tmp_path: Path) -> None:
    """The campaign's 990 kB cell took `audit scan` past 8 GB. A 400 kB cell added about 900 MiB to the scan's peak
    memory before windows (2.0 GB against 1.1 GB for a small file); now it adds what one window needs."""
    rows = "".join(f"{i},hello {i}\n" for i in range(20))
    (tmp_path / "small.csv").write_text("id,notes\n" + rows)
    words = ("please call about the refund for account delivery " * 20_000)[:400_000]
    (tmp_path / "long.csv").write_text("id,notes\n" + rows + f"99,{words}\n")
    small = _peak_rss_mib(["scan", str(tmp_path / "small.csv")])
    long = _peak_rss_mib(["scan", str(tmp_path / "long.csv")])
    assert long - small < 400, (small, long)
