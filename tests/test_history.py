"""Run history: the store, migrations, retention, the ``audit history`` commands, the report's trend."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.errors import InputError
from auditor.evidence import Evidence, dump_evidence, parse_evidence
from auditor.history import HistoryStore, load_baseline

GOLDEN = Path(__file__).parent / "data" / "evidence.json"


def make_evidence(
    run_id: str,
    started_at: str = "2026-11-20T09:00:00+00:00",
    project: str = "credit-scoring",
    epsilon: float | None = None,
    energy_kwh: float | None = None,
    accuracy: float | None = None,
    extra_pii_column: str | None = None,
) -> Evidence:
    """The golden evidence with another identity and, optionally, other key figures."""
    doc: dict[str, Any] = json.loads(GOLDEN.read_text(encoding="utf-8"))
    doc["run"].update(id=run_id, started_at=started_at, finished_at=started_at, project=project)
    if epsilon is not None:
        doc["training"]["privacy"]["epsilon"] = epsilon
    if energy_kwh is not None:
        doc["energy"]["total"]["energy_kwh"] = energy_kwh
    if accuracy is not None:
        doc["training"]["metrics"]["accuracy"] = accuracy
    if extra_pii_column is not None:
        column = next(c for c in doc["pii"]["columns"] if c["name"] == extra_pii_column)
        column.update(rows_with_pii=12, entities={"EMAIL_ADDRESS": 12})
    return parse_evidence(json.dumps(doc), "test evidence")


@pytest.fixture()
def store(tmp_path: Path) -> HistoryStore:
    return HistoryStore(f"sqlite:///{tmp_path / 'history.db'}")


def fill(store: HistoryStore) -> list[str]:
    ids = []
    for day in range(1, 6):
        run_id = f"{day:02d}" + "ab" * 15
        store.record(make_evidence(run_id, f"2026-11-{day:02d}T09:00:00+00:00", epsilon=1.0 + day / 10))
        ids.append(run_id)
    store.record(make_evidence("ff" * 16, "2026-11-03T09:00:00+00:00", project="other"))
    return ids


def test_record_list_and_resolve(store: HistoryStore) -> None:
    ids = fill(store)
    assert store.count() == 6
    rows = store.list_runs(limit=3, project="credit-scoring")
    assert [r["id"] for r in rows] == ids[::-1][:3]
    assert rows[0]["epsilon"] == pytest.approx(1.5)
    assert store.resolve_id("latest", "credit-scoring") == ids[-1]
    assert store.resolve_id("latest") == ids[-1]
    assert store.resolve_id("03ab") == ids[2]
    with pytest.raises(InputError, match="ambiguous"):
        store.resolve_id("0")
    with pytest.raises(InputError, match="no run 'zz'"):
        store.resolve_id("zz")
    with pytest.raises(InputError, match="no run"):
        store.resolve_id("latest", "nope")


def test_prefix_is_not_a_like_pattern(store: HistoryStore) -> None:
    fill(store)
    with pytest.raises(InputError, match="no run '%'"):
        store.resolve_id("%")
    with pytest.raises(InputError, match="no run '_1'"):
        store.resolve_id("_1")


def test_trend_is_oldest_first_per_project(store: HistoryStore) -> None:
    ids = fill(store)
    points = store.trend("credit-scoring", limit=3)
    assert [p.run_id for p in points] == ids[2:]
    assert [p.epsilon for p in points] == pytest.approx([1.3, 1.4, 1.5])
    assert [p.run_id for p in store.previous("other")] == ["ff" * 16]


def test_same_second_runs_keep_their_recording_order(store: HistoryStore) -> None:
    # Ids sort the other way round, so only the recording time can order these.
    for run_id in ("ee" * 16, "dd" * 16, "cc" * 16):
        store.record(make_evidence(run_id, "2026-11-20T09:00:00+00:00"))
    assert store.resolve_id("latest") == "cc" * 16
    assert [p.run_id for p in store.trend("credit-scoring")] == ["ee" * 16, "dd" * 16, "cc" * 16]


def test_evidence_round_trips(store: HistoryStore) -> None:
    original = make_evidence("12" * 16)
    store.record(original)
    assert dump_evidence(store.evidence("12" * 16)) == dump_evidence(original)


def test_duplicate_run_id_is_refused_in_one_line(store: HistoryStore) -> None:
    evidence = make_evidence("34" * 16)
    store.record_or_fail(evidence)
    with pytest.raises(InputError, match="could not record run 3434"):
        store.record_or_fail(evidence)
    assert store.count() == 1


def test_prune_keep_and_older_than(store: HistoryStore) -> None:
    ids = fill(store)
    now = dt.datetime(2026, 11, 10, 12, tzinfo=dt.UTC)
    # older than 8 days: Nov 1 and Nov 2 of credit-scoring go; Nov 3 stays
    assert store.prune(older_than_days=8, now=now) == 2
    assert store.count() == 4
    # keep the newest 1 per project: credit-scoring loses two more, "other" keeps its one run
    assert store.prune(keep=1) == 2
    assert [r["id"] for r in store.list_runs()] == [ids[-1], "ff" * 16]


def _write_v1_database(path: Path, evidence: Evidence) -> None:
    """A history database as auditor's schema version 1 wrote it (before render energy and recorded_at)."""
    m = evidence.metrics()
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            CREATE TABLE meta (key VARCHAR(64) PRIMARY KEY, value VARCHAR(256) NOT NULL);
            INSERT INTO meta VALUES ('schema_version', '1');
            CREATE TABLE runs (
                id VARCHAR(64) PRIMARY KEY, project VARCHAR(200) NOT NULL, started_at VARCHAR(40) NOT NULL,
                finished_at VARCHAR(40) NOT NULL, verdict VARCHAR(8) NOT NULL, summary VARCHAR(200) NOT NULL,
                config_sha256 VARCHAR(64) NOT NULL, dataset_sha256 VARCHAR(64) NOT NULL, epsilon FLOAT,
                accuracy FLOAT, pii_rows INTEGER, pii_columns TEXT NOT NULL, energy_kwh FLOAT, emissions_kg FLOAT,
                evidence TEXT NOT NULL);
            """
        )
        db.execute(
            "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                evidence.run.id,
                evidence.run.project,
                evidence.run.started_at,
                evidence.run.finished_at,
                evidence.verdict,
                evidence.summary.line,
                evidence.run.config_sha256,
                evidence.run.dataset_sha256,
                m.epsilon,
                m.accuracy,
                m.pii_rows,
                json.dumps(m.pii_columns),
                m.energy_kwh,
                m.emissions_kg,
                evidence.model_dump_json(),
            ),
        )


def test_a_version_1_database_opens_and_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = make_evidence("0a" * 16, "2026-10-01T09:00:00+00:00")
    _write_v1_database(path, old)
    store = HistoryStore(f"sqlite:///{path}")
    assert store.schema_version() == 3
    assert store.list_runs()[0]["id"] == old.run.id
    assert store.list_runs()[0]["render_energy_kwh"] is None
    # Runs recorded before the task axis were classifiers: their primary metric is their accuracy.
    migrated = store.run_metrics(old.run.id)
    assert (migrated.utility_metric, migrated.utility) == ("accuracy", old.metrics().accuracy)
    store.record(make_evidence("0b" * 16, "2026-10-02T09:00:00+00:00"), render_energy_kwh=1e-5)
    assert [p.run_id for p in store.trend("credit-scoring")] == [old.run.id, "0b" * 16]
    assert HistoryStore(f"sqlite:///{path}").schema_version() == 3  # reopening is a no-op


def _open_version(url: str) -> object:
    try:
        return HistoryStore(url).schema_version()
    except Exception as exc:  # reported back to the parent, which fails the test
        return repr(exc)


def test_many_processes_creating_one_database_all_get_a_consistent_schema(tmp_path: Path) -> None:
    """Regression: sqlite3 ran DDL outside transactions, so a process could see ``runs``
    before its creator wrote the schema version, and "migrate" it again (duplicate column).
    Before the fix this failed in about 4 rounds of 10."""
    context = multiprocessing.get_context("fork")
    with context.Pool(8) as pool:
        for round_ in range(10):
            url = f"sqlite:///{tmp_path / f'race{round_}.db'}"
            assert pool.map(_open_version, [url] * 8) == [3] * 8


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    HistoryStore(f"sqlite:///{path}")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(InputError, match="schema version 99, newer than this auditor"):
        HistoryStore(f"sqlite:///{path}")


def test_bad_urls_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot use history database"):
        HistoryStore("nosuchdialect://x")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError):
        HistoryStore(f"sqlite:///{tmp_path / 'file' / 'history.db'}")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(InputError, match="cannot open history database"):
        HistoryStore(f"sqlite:///{garbage}")


def test_password_is_redacted() -> None:
    store = HistoryStore.__new__(HistoryStore)
    store.url = "postgresql://ci:s3cret@db.example:5432/audits"
    assert store.redacted_url == "postgresql://ci:***@db.example:5432/audits"
    store.url = "sqlite:///.audit/history.db"
    assert store.redacted_url == "sqlite:///.audit/history.db"


# --- baselines ---------------------------------------------------------------------------------------


def test_baseline_from_history_and_from_a_file(store: HistoryStore, tmp_path: Path) -> None:
    assert load_baseline("latest", store, "credit-scoring") is None  # a first run has nothing to compare with
    with pytest.raises(InputError, match="no run 'abc'"):
        load_baseline("abc", store, "credit-scoring")
    ids = fill(store)
    ref = load_baseline("latest", store, "credit-scoring")
    assert ref is not None
    assert ref.metrics.run_id == ids[-1]
    assert ref.source == f"history run {ids[-1]}"
    older = load_baseline(ids[1][:6], store, "credit-scoring")
    assert older is not None and older.metrics.run_id == ids[1]
    path = tmp_path / "evidence.json"
    path.write_text(dump_evidence(make_evidence("77" * 16, epsilon=0.5)), encoding="utf-8")
    from_file = load_baseline(str(path), None, "credit-scoring")
    assert from_file is not None
    assert from_file.metrics.epsilon == 0.5 and from_file.source == "file evidence.json"
    with pytest.raises(InputError, match="needs the run history"):
        load_baseline("latest", None, "credit-scoring")
    with pytest.raises(InputError):
        load_baseline(str(tmp_path / "missing.json"), store, "credit-scoring")


# --- the CLI ------------------------------------------------------------------------------------------

LIST_KEYS = {
    "id",
    "project",
    "started_at",
    "verdict",
    "summary",
    "epsilon",
    "accuracy",
    "utility_metric",
    "utility",
    "pii_rows",
    "energy_kwh",
    "emissions_kg",
    "render_energy_kwh",
}
METRIC_KEYS = {"epsilon", "accuracy", "utility", "pii_rows", "energy_kwh", "emissions_kg"}


def history(url: str, *args: str) -> Any:
    result = CliRunner().invoke(app, ["history", "--history", url, *args])
    assert result.exit_code == 0, result.output
    return result


def test_history_commands_json_have_stable_keys(store: HistoryStore) -> None:
    ids = fill(store)
    store.record(make_evidence("06" + "ab" * 15, "2026-11-06T09:00:00+00:00", extra_pii_column="zip_code"))
    url = store.url

    listed = json.loads(history(url, "--output-format", "json", "--limit", "3").stdout)
    assert len(listed) == 3 and all(set(r) == LIST_KEYS for r in listed)

    shown = json.loads(history(url, "show", "latest", "--output-format", "json").stdout)
    assert set(shown) == {
        "run_id",
        "started_at",
        "verdict",
        "project",
        "summary",
        "controls",
        "pii_columns",
        "utility_metric",
        *METRIC_KEYS,
    }
    assert "zip_code" in shown["pii_columns"]

    diff = json.loads(history(url, "diff", ids[0][:4], "latest", "--output-format", "json").stdout)
    assert set(diff) == {"a", "b", "metrics", "pii_columns", "controls"}
    assert set(diff["metrics"]) == METRIC_KEYS
    assert diff["metrics"]["epsilon"]["a"] == pytest.approx(1.1)
    assert diff["metrics"]["epsilon"]["change"] == pytest.approx(2.994311 - 1.1)
    assert diff["pii_columns"] == {"added": ["zip_code"], "removed": []}

    trend = json.loads(history(url, "trend", "epsilon", "--output-format", "json").stdout)
    assert set(trend) == {"project", "metric", "points"}
    assert trend["project"] == "credit-scoring"
    assert all(set(p) == {"run_id", "started_at", "epsilon"} for p in trend["points"])
    assert [p["run_id"] for p in trend["points"]][-2:] == [ids[-1], "06" + "ab" * 15]

    assert "deleted 5 run(s)" in history(url, "prune", "--keep", "1").stderr
    assert store.count() == 2


def test_history_tables_read_well(store: HistoryStore) -> None:
    fill(store)
    listed = history(store.url).stdout.splitlines()
    assert len(listed) == 6 and listed[0].startswith("05abababab")
    assert "epsilon" in history(store.url, "show", "latest").stdout
    bars = history(store.url, "trend", "epsilon", "--project", "credit-scoring").stdout.splitlines()
    assert len(bars) == 5 and bars[-1].endswith("#" * 40)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "nope"], "no run 'nope'"),
        (["trend", "latency"], "unknown metric 'latency'"),
        (["prune"], "give --keep N or --older-than DAYS"),
        (["--output-format", "yaml"], "--output-format must be table or json"),
        (["diff", "latest"], "Missing argument"),
    ],
)
def test_history_errors_are_one_line(store: HistoryStore, args: list[str], message: str) -> None:
    fill(store)
    result = CliRunner().invoke(app, ["history", "--history", store.url, *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_empty_history_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    missing = CliRunner().invoke(app, ["history", "--history", url])
    assert missing.exit_code == 2 and "no history database at" in missing.stderr
    assert not (tmp_path / "empty.db").exists()  # reading never creates a database
    HistoryStore(url)
    assert "no runs recorded" in history(url).stderr
    result = CliRunner().invoke(app, ["history", "--history", url, "trend", "epsilon"])
    assert result.exit_code == 2 and "no runs recorded" in result.stderr


# --- the report ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_report_trend_section(store: HistoryStore) -> None:
    from auditor.render import RenderContext
    from auditor.render.html import render_html

    context = RenderContext(rendered_at=dt.datetime(2026, 11, 22, tzinfo=dt.UTC))
    fill(store)
    latest = make_evidence("99" * 16, "2026-11-07T09:00:00+00:00")
    with_trend = latest.model_copy(update={"trend": [*store.previous("credit-scoring"), latest.metrics()]})
    html = render_html(with_trend, context)
    section = html[html.index('id="trend"') :]
    assert section.count("<svg") == 1  # one small-multiples figure
    for label in ("rows with PII", "energy (Wh)", "accuracy"):
        assert label in section
    assert "99999999" in section

    first = latest.model_copy(update={"trend": [latest.metrics()]})
    assert "first recorded run" in render_html(first, context)
    assert "did not read the run history" in render_html(latest, context)
