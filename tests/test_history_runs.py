"""Real ``audit run``s against the history: the baseline gate, 8-way concurrency (SQLite and PostgreSQL),
and no raw personal data in the database."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import EXAMPLE, write_small_example
from typer.testing import CliRunner

from auditor.cli import app
from auditor.history import HistoryStore

pytestmark = pytest.mark.slow


def controls(out: Path) -> dict[str, dict[str, Any]]:
    evidence = json.loads((out / "evidence.json").read_text(encoding="utf-8"))
    return {c["id"]: c for c in evidence["controls"]}


def add_contact_column(csv_path: Path, every: int = 25) -> None:
    """A new column that is mostly blank but holds an email in every ``every``-th row."""
    with csv_path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    rows[0].append("contact")
    for i, row in enumerate(rows[1:]):
        row.append(f"client{i}@mailbox-example.org" if i % every == 0 else "")
    with csv_path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


SMALL_MODEL_WAIVER = """
  - control: EUAI-ACC-001
    justification: This test is about the regression gate; a 600-row, 3-epoch DP model predicts the majority class.
    approver: the test suite
    expires: 2099-12-31
""" + "".join(
    f"""
  - control: {control}
    justification: This test turns the privacy audit off to save time; the gate needs a waiver for that.
    approver: the test suite
    expires: 2099-12-31
"""
    for control in ("GDPR-AUDIT-001", "GDPR-AUDIT-002", "GDPR-AUDIT-003")
)


def _waive_small_model(directory: Path) -> None:
    waivers = directory / "waivers.yaml"
    waivers.write_text(waivers.read_text(encoding="utf-8") + SMALL_MODEL_WAIVER, encoding="utf-8")


def test_baseline_gate_over_two_runs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    common = {"audit.enabled": False}
    first = write_small_example(tmp_path / "a", rows=600, **common)
    _waive_small_model(tmp_path / "a")

    def run(config: Path, out: str, *extra: str) -> int:
        args = ["run", str(config), "-o", str(tmp_path / out), "--format", "json,markdown", "--history", url]
        result = CliRunner().invoke(app, [*args, "--fail-on", "high", *extra])
        assert result.exit_code in {0, 1}, result.output
        return result.exit_code

    # A pipeline's first run asks for a baseline too: there is none yet, so the regression controls skip.
    assert run(first, "out-a", "--baseline", "latest") == 0
    stages = json.loads((tmp_path / "out-a" / "evidence.json").read_text(encoding="utf-8"))["stages"]
    assert {"name": "previous", "status": "skipped"}.items() <= next(
        s for s in stages if s["name"] == "previous"
    ).items()
    baseline = controls(tmp_path / "out-a")
    assert {baseline[c]["status"] for c in ("GDPR-REG-001", "GDPR-REG-002", "SUS-REG-001", "EUAI-REG-001")} == {
        "skipped"
    }

    # The next model: a larger privacy budget, and a new column with emails in 4% of its rows.
    second = write_small_example(tmp_path / "b", rows=600, **common)
    _waive_small_model(tmp_path / "b")
    config = yaml.safe_load(second.read_text(encoding="utf-8"))
    config["train"]["privacy"]["target_epsilon"] = 6.0
    config["train"]["exclude_columns"] = ["contact"]
    second.write_text(yaml.safe_dump(config), encoding="utf-8")
    add_contact_column(tmp_path / "b" / "loans.csv")

    assert run(second, "out-b", "--baseline", "latest") == 1
    regressed = controls(tmp_path / "out-b")
    assert regressed["GDPR-REG-001"]["status"] == "fail"
    assert regressed["GDPR-REG-001"]["observed"] > 2.9  # about 6 - 3
    assert regressed["GDPR-REG-002"]["status"] == "fail"
    assert regressed["GDPR-REG-002"]["observed"] == ["contact"]
    # Energy and accuracy depend on the machine; their verdicts must agree with their own figures.
    energy = regressed["SUS-REG-001"]
    if energy["status"] == "inconclusive":  # runs this small are within CodeCarbon's noise floor
        assert "interval" in energy["reason"] or "too little data" in energy["reason"]
    else:
        assert energy["status"] == ("pass" if energy["observed"] <= 0.25 else "fail")
    accuracy = regressed["EUAI-REG-001"]
    assert accuracy["status"] == ("pass" if accuracy["observed"] >= -0.02 else "fail")
    summary = (tmp_path / "out-b" / "summary.md").read_text(encoding="utf-8")
    assert "GDPR-REG-001" in summary and "compared with the earlier history run" in summary

    # Against itself (the latest run is now the second one) nothing has regressed.
    run(second, "out-c", "--baseline", "latest")
    again = controls(tmp_path / "out-c")
    assert again["GDPR-REG-001"]["status"] == "pass"
    assert again["GDPR-REG-002"]["status"] == "pass"

    # The first run's evidence.json works as a baseline file too.
    run(second, "out-d", "--baseline", str(tmp_path / "out-a" / "evidence.json"))
    assert controls(tmp_path / "out-d")["GDPR-REG-002"]["observed"] == ["contact"]

    store = HistoryStore(url)
    assert store.count() == 4
    trend = json.loads((tmp_path / "out-d" / "evidence.json").read_text(encoding="utf-8"))["trend"]
    assert [p["epsilon"] > 5 for p in trend] == [False, True, True, True]


def tiny_config(directory: Path) -> Path:
    """The smallest real run: 300 rows, one epoch, fixed noise (no noise search); scan, audit and energy off."""
    return write_small_example(
        directory,
        rows=300,
        **{
            "pii.enabled": False,
            "audit.enabled": False,
            "energy.enabled": False,
            "train.epochs": 1,
            "train.baseline": False,
            "train.privacy": {"noise_multiplier": 1.0, "accountant": "rdp"},
        },
    )


def concurrent_runs(config: Path, url: str, tmp_path: Path, count: int = 8) -> list[subprocess.CompletedProcess[str]]:
    env = {**os.environ, "AUDIT_HISTORY_URL": url, "OMP_NUM_THREADS": "1"}

    def one(i: int) -> subprocess.CompletedProcess[str]:
        args = [sys.executable, "-m", "auditor.cli", "run", str(config), "-o", str(tmp_path / f"out{i}")]
        return subprocess.run([*args, "--format", "json"], capture_output=True, text=True, env=env, timeout=500)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def check_recorded(results: list[subprocess.CompletedProcess[str]], url: str, tmp_path: Path, count: int = 8) -> None:
    for result in results:
        assert result.returncode in {0, 1}, result.stderr[-2000:]
        assert "locked" not in result.stderr.lower()
    ids = {json.loads((tmp_path / f"out{i}" / "evidence.json").read_text())["run"]["id"] for i in range(count)}
    store = HistoryStore(url)
    try:
        recorded = {r["id"] for r in store.list_runs(limit=100)}
    finally:
        store.close()
    assert len(ids) == count and recorded == ids


def test_eight_concurrent_runs_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    results = concurrent_runs(tiny_config(tmp_path / "cfg"), url, tmp_path)
    check_recorded(results, url, tmp_path)


@pytest.mark.postgres
def test_four_concurrent_runs_postgres(postgres_url: str, tmp_path: Path) -> None:
    """PostgreSQL serialises writers itself; four at once cover its migration and insert races (SQLite's file
    locking, the fragile one, gets eight)."""
    from sqlalchemy import create_engine, text

    # A database of its own, so other tests on the cluster do not interfere.
    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("CREATE DATABASE concurrency"))
    engine.dispose()
    url = postgres_url.rsplit("/", 1)[0] + "/concurrency"
    results = concurrent_runs(tiny_config(tmp_path / "cfg"), url, tmp_path, count=4)
    check_recorded(results, url, tmp_path, count=4)


def test_history_holds_no_raw_personal_data(e2e: Any, history_db: str) -> None:
    """The session's end-to-end run was recorded; no raw value from the example's PII columns is in the file."""
    assert e2e.exit_code in {0, 1}
    db = Path(history_db.removeprefix("sqlite:///"))
    content = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    with (EXAMPLE / "loans.csv").open(newline="", encoding="utf-8") as f:
        rows = [r for _, r in zip(range(50), csv.DictReader(f), strict=False)]
    checked = 0
    for row in rows:
        for column in ("full_name", "email", "phone", "street_address"):
            value = row[column].encode()
            assert value not in content, f"raw {column} value in the history database"
            checked += 1
    assert checked == 200
    store = HistoryStore(history_db)
    assert store.count() >= 1
