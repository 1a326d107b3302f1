"""The run history: SQLite by default (``.audit/history.db``, WAL), PostgreSQL by URL.

One row per run with its key metrics and the full evidence JSON (which holds
masked samples only, never raw personal data). The schema is versioned in a
``meta`` table; ``MIGRATIONS`` bring an older database up to date when opened.
Writes retry on SQLite's "database is locked", so concurrent pipelines that
share one file all get their row.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from auditor.errors import InputError
from auditor.evidence import Evidence, RunMetrics, parse_evidence

T = TypeVar("T")
DEFAULT_URL = "sqlite:///.audit/history.db"
ENV_VAR = "AUDIT_HISTORY_URL"
SCHEMA_VERSION = 3
RETRIES = 40
TREND_RUNS = 20  # runs shown in a report's trend section, this one included

metadata = MetaData()
meta = Table(
    "meta", metadata, Column("key", String(64), primary_key=True), Column("value", String(256), nullable=False)
)
runs = Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("project", String(200), nullable=False, index=True),
    Column("started_at", String(40), nullable=False, index=True),
    Column("finished_at", String(40), nullable=False),
    Column("verdict", String(8), nullable=False),
    Column("summary", String(200), nullable=False),
    Column("config_sha256", String(64), nullable=False),
    Column("dataset_sha256", String(64), nullable=False),
    Column("epsilon", Float),
    Column("accuracy", Float),
    Column("pii_rows", Integer),
    Column("pii_columns", Text, nullable=False),
    Column("energy_kwh", Float),
    Column("emissions_kg", Float),
    Column("render_energy_kwh", Float),  # added in schema version 2
    Column("recorded_at", String(40)),  # added in schema version 2: orders runs started in the same second
    Column("utility_metric", String(64)),  # added in schema version 3: the task's primary metric
    Column("utility", Float),  # added in schema version 3
    Column("evidence", Text, nullable=False),
)


NEWEST_FIRST = (runs.c.started_at.desc(), runs.c.recorded_at.desc(), runs.c.id.desc())


def _migrate_1_to_2(connection: Connection) -> None:
    connection.execute(text("ALTER TABLE runs ADD COLUMN render_energy_kwh FLOAT"))
    connection.execute(text("ALTER TABLE runs ADD COLUMN recorded_at VARCHAR(40)"))
    connection.execute(text("UPDATE runs SET recorded_at = finished_at"))


def _migrate_2_to_3(connection: Connection) -> None:
    """Runs before the task axis were all classifiers: their primary metric was accuracy."""
    connection.execute(text("ALTER TABLE runs ADD COLUMN utility_metric VARCHAR(64)"))
    connection.execute(text("ALTER TABLE runs ADD COLUMN utility FLOAT"))
    connection.execute(
        text("UPDATE runs SET utility_metric = 'accuracy', utility = accuracy WHERE accuracy IS NOT NULL")
    )


# version -> the step that brings a database at that version one version up
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _migrate_1_to_2, 2: _migrate_2_to_3}


def resolve_url(url: str | None) -> str:
    return url or os.environ.get(ENV_VAR) or DEFAULT_URL


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory SQLite."""
    if not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
        return None
    return Path(url.removeprefix("sqlite:///"))


def is_new(url: str | None) -> bool:
    """Whether the history at ``url`` is a SQLite file that does not exist yet."""
    path = sqlite_path(resolve_url(url))
    return path is not None and not path.exists()


def _driver_url(url: str) -> str:
    """Plain ``postgresql://`` (or ``postgres://``) URLs use psycopg 3, the driver we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _sqlite_pragmas(engine: Engine) -> None:
    """WAL, a busy timeout, and real transactions: Python's sqlite3 module runs DDL outside
    any transaction by default, so two processes creating one database could interleave
    (one sees ``runs`` before the other has written its schema version). We issue
    ``BEGIN IMMEDIATE`` ourselves, which takes the write lock up front."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class HistoryStore:
    def __init__(self, url: str | None = None, create: bool = True) -> None:
        """Open (and migrate) the history at ``url``. With ``create=False`` a SQLite file that
        does not exist yet is an input error instead of a new, empty database."""
        self.url = resolve_url(url)
        try:
            path = sqlite_path(self.url)
            if path is not None and not create and not path.exists():
                raise InputError(f"no history database at {path} (audit run records runs there)")
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            else:
                from auditor.extras import require

                require("postgres", "a PostgreSQL history")
            self.engine = create_engine(_driver_url(self.url), pool_pre_ping=True)
        except (ArgumentError, ImportError, OSError) as exc:
            raise InputError(f"cannot use history database {self.redacted_url}: {exc}") from None
        if self.engine.dialect.name == "sqlite":
            _sqlite_pragmas(self.engine)
        self._migrate()

    @property
    def redacted_url(self) -> str:
        """The URL without a password, for messages."""
        head, sep, tail = self.url.partition("@")
        if not sep or ":" not in head.split("//", 1)[-1]:
            return self.url
        scheme, _, credentials = head.partition("//")
        return f"{scheme}//{credentials.split(':', 1)[0]}:***@{tail}"

    def _write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one transaction, retried while another writer holds SQLite's lock."""
        for attempt in range(RETRIES):
            try:
                with self.engine.begin() as connection:
                    return work(connection)
            except OperationalError as exc:
                locked = "locked" in str(exc).lower() or "busy" in str(exc).lower()
                if not locked or attempt == RETRIES - 1:
                    raise
                time.sleep(0.05 + random.random() * 0.2)
        raise AssertionError("unreachable")

    def _migrate(self) -> None:
        # Two processes opening a new database at once may both try to create it; the
        # loser's transaction fails, and its retry finds the tables in place.
        for attempt in range(3):
            try:
                self._write(self._upgrade)
                return
            except SQLAlchemyError as exc:
                racing = "already exists" in str(exc).lower() or "unique" in str(exc).lower()
                if attempt == 2 or not racing:
                    first = str(exc).splitlines()[0]
                    raise InputError(f"cannot open history database {self.redacted_url}: {first}") from None

    def _upgrade(self, connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            # Serialise schema changes across concurrent openers; released at commit.
            connection.execute(text("SELECT pg_advisory_xact_lock(4242424242)"))
        existing = set(inspect(connection).get_table_names())
        if "runs" not in existing:
            metadata.create_all(connection)
            connection.execute(insert(meta).values(key="schema_version", value=str(SCHEMA_VERSION)))
            return
        row = connection.execute(select(meta.c.value).where(meta.c.key == "schema_version")).first()
        version = int(row[0]) if row else 1
        if version > SCHEMA_VERSION:
            raise InputError(
                f"history database {self.redacted_url} has schema version {version}, newer than this "
                f"auditor ({SCHEMA_VERSION}); upgrade auditor"
            )
        while version < SCHEMA_VERSION:
            MIGRATIONS[version](connection)
            version += 1
        if row is None:
            connection.execute(insert(meta).values(key="schema_version", value=str(version)))
        elif int(row[0]) != version:
            connection.execute(update(meta).where(meta.c.key == "schema_version").values(value=str(version)))

    def schema_version(self) -> int:
        with self.engine.connect() as connection:
            row = connection.execute(select(meta.c.value).where(meta.c.key == "schema_version")).first()
        return int(row[0]) if row else 1

    def record(self, evidence: Evidence, render_energy_kwh: float | None = None) -> None:
        m = evidence.metrics()
        values = {
            "id": evidence.run.id,
            "project": evidence.run.project,
            "started_at": evidence.run.started_at,
            "finished_at": evidence.run.finished_at,
            "verdict": evidence.verdict,
            "summary": evidence.summary.line,
            "config_sha256": evidence.run.config_sha256,
            "dataset_sha256": evidence.run.dataset_sha256,
            "epsilon": m.epsilon,
            "accuracy": m.accuracy,
            "utility_metric": m.utility_metric,
            "utility": m.utility,
            "pii_rows": m.pii_rows,
            "pii_columns": json.dumps(m.pii_columns),
            "energy_kwh": m.energy_kwh,
            "emissions_kg": m.emissions_kg,
            "render_energy_kwh": render_energy_kwh,
            "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
            "evidence": evidence.model_dump_json(),
        }
        self._write(lambda connection: connection.execute(insert(runs).values(**values)))

    def record_or_fail(self, evidence: Evidence, render_energy_kwh: float | None = None) -> None:
        """``record``, with a database failure turned into one clear line (exit code 2)."""
        try:
            self.record(evidence, render_energy_kwh)
        except SQLAlchemyError as exc:
            first = str(exc).splitlines()[0]
            raise InputError(f"could not record run {evidence.run.id} in {self.redacted_url}: {first}") from None

    @staticmethod
    def _metrics(row: Any) -> RunMetrics:
        return RunMetrics(
            run_id=row.id,
            started_at=row.started_at,
            verdict=row.verdict,
            epsilon=row.epsilon,
            accuracy=row.accuracy,
            utility_metric=row.utility_metric,
            utility=row.utility,
            pii_rows=row.pii_rows,
            pii_columns=json.loads(row.pii_columns),
            energy_kwh=row.energy_kwh,
            emissions_kg=row.emissions_kg,
        )

    def list_runs(self, limit: int = 20, project: str | None = None) -> list[dict[str, Any]]:
        query = select(runs).order_by(*NEWEST_FIRST).limit(limit)
        if project:
            query = query.where(runs.c.project == project)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            {
                "id": r.id,
                "project": r.project,
                "started_at": r.started_at,
                "verdict": r.verdict,
                "summary": r.summary,
                "epsilon": r.epsilon,
                "accuracy": r.accuracy,
                "utility_metric": r.utility_metric,
                "utility": r.utility,
                "pii_rows": r.pii_rows,
                "energy_kwh": r.energy_kwh,
                "emissions_kg": r.emissions_kg,
                "render_energy_kwh": r.render_energy_kwh,
            }
            for r in rows
        ]

    def resolve_id(self, reference: str, project: str | None = None) -> str:
        """A full run id from an id, a unique prefix, or 'latest'."""
        with self.engine.connect() as connection:
            if reference == "latest":
                query = select(runs.c.id).order_by(*NEWEST_FIRST).limit(1)
                if project:
                    query = query.where(runs.c.project == project)
                row = connection.execute(query).first()
                if row is None:
                    raise InputError(
                        f"no run in history {self.redacted_url}{' for project ' + project if project else ''}"
                    )
                return str(row[0])
            prefixed = select(runs.c.id).where(runs.c.id.startswith(reference, autoescape=True)).limit(2)
            matches = connection.execute(prefixed).all()
        if not matches:
            raise InputError(f"no run {reference!r} in history {self.redacted_url}")
        if len(matches) > 1:
            raise InputError(f"run id prefix {reference!r} is ambiguous; give more characters")
        return str(matches[0][0])

    def evidence(self, run_id: str) -> Evidence:
        with self.engine.connect() as connection:
            row = connection.execute(select(runs.c.evidence).where(runs.c.id == run_id)).first()
        if row is None:
            raise InputError(f"no run {run_id!r} in history")
        return parse_evidence(row[0], f"history run {run_id}")

    def run_metrics(self, run_id: str) -> RunMetrics:
        """One run's key figures, from its row: readable whatever evidence schema the run was recorded with."""
        with self.engine.connect() as connection:
            row = connection.execute(select(runs).where(runs.c.id == run_id)).first()
        if row is None:
            raise InputError(f"no run {run_id!r} in history")
        return self._metrics(row)

    def trend(self, project: str, limit: int = TREND_RUNS) -> list[RunMetrics]:
        """The last ``limit`` runs of a project, oldest first."""
        query = select(runs).where(runs.c.project == project).order_by(*NEWEST_FIRST)
        with self.engine.connect() as connection:
            rows = connection.execute(query.limit(limit)).all()
        return [self._metrics(r) for r in reversed(rows)]

    def previous(self, project: str) -> list[RunMetrics]:
        """The runs a new run's trend starts from: the project's last ``TREND_RUNS - 1``."""
        return self.trend(project, TREND_RUNS - 1)

    def count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(runs)).scalar_one())

    def prune(self, keep: int | None = None, older_than_days: int | None = None, now: dt.datetime | None = None) -> int:
        """Delete runs beyond the newest ``keep`` per project, or older than ``older_than_days``."""

        def work(connection: Connection) -> int:
            removed = 0
            if older_than_days is not None:
                cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=older_than_days)
                removed += connection.execute(
                    delete(runs).where(runs.c.started_at < cutoff.isoformat(timespec="seconds"))
                ).rowcount
            if keep is not None:
                for (project,) in connection.execute(select(runs.c.project).distinct()).all():
                    ids = connection.execute(
                        select(runs.c.id).where(runs.c.project == project).order_by(*NEWEST_FIRST).offset(keep)
                    ).all()
                    if ids:
                        removed += connection.execute(delete(runs).where(runs.c.id.in_([i[0] for i in ids]))).rowcount
            return removed

        return self._write(work)

    def close(self) -> None:
        """Close the connections (SQLite then folds its -wal and -shm files back in)."""
        self.engine.dispose()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
