"""Shared fixtures: a small copy of the bundled example, a network guard, one end-to-end run."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "credit-scoring"
SMALL_ROWS = 800


@dataclass
class NetworkLog:
    attempts: list[str] = field(default_factory=list)


@contextmanager
def no_network() -> Iterator[NetworkLog]:
    """Block and record every attempt to resolve a name or open a non-local connection."""
    log = NetworkLog()
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def is_local(address: Any) -> bool:
        if isinstance(address, (str, bytes)):  # AF_UNIX
            return True
        host = str(address[0]) if isinstance(address, tuple) else ""
        return host in {"127.0.0.1", "::1", "localhost"}

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if not is_local(address):
            log.attempts.append(f"connect {address!r}")
            raise OSError("network blocked by test")
        return real_connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> Any:
        if not is_local(address):
            log.attempts.append(f"connect_ex {address!r}")
            return 111
        return real_connect_ex(self, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in {"127.0.0.1", "::1", "localhost", None}:
            log.attempts.append(f"getaddrinfo {host!r}")
            raise socket.gaierror("network blocked by test")
        return real_getaddrinfo(host, *args, **kwargs)

    real_getaddrinfo = socket.getaddrinfo
    mp = pytest.MonkeyPatch()
    mp.setattr(socket.socket, "connect", guarded_connect)
    mp.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    mp.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    try:
        yield log
    finally:
        mp.undo()


def write_small_example(directory: Path, rows: int = SMALL_ROWS, **overrides: Any) -> Path:
    """Copy the first ``rows`` rows of the example, and an audit.yaml sized for tests."""
    directory.mkdir(parents=True, exist_ok=True)
    with (EXAMPLE / "loans.csv").open(newline="", encoding="utf-8") as src:
        reader = csv.reader(src)
        lines = [next(reader) for _ in range(rows + 1)]
    with (directory / "loans.csv").open("w", newline="", encoding="utf-8") as dst:
        csv.writer(dst, lineterminator="\n").writerows(lines)
    shutil.copy(EXAMPLE / "waivers.yaml", directory / "waivers.yaml")
    config = yaml.safe_load((EXAMPLE / "audit.yaml").read_text(encoding="utf-8"))
    config["train"].update({"epochs": 3, "batch_size": 128})
    config["pii"]["workers"] = 1
    config["energy"]["measure_power_secs"] = 0.5
    for key, value in overrides.items():
        section, _, name = key.partition(".")
        if name:
            config.setdefault(section, {})[name] = value
        else:
            config[section] = value
    path = directory / "audit.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="session", autouse=True)
def history_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Every run in the session records into a throwaway history database, never ./.audit."""
    import os

    url = f"sqlite:///{tmp_path_factory.mktemp('history') / 'history.db'}"
    previous = os.environ.get("AUDIT_HISTORY_URL")
    os.environ["AUDIT_HISTORY_URL"] = url
    yield url
    if previous is None:
        os.environ.pop("AUDIT_HISTORY_URL", None)
    else:
        os.environ["AUDIT_HISTORY_URL"] = previous


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the session (skipped where the binaries are missing)."""
    from pgcluster import StartFailed, Unavailable, cluster

    try:
        with cluster() as url:
            yield url
    except Unavailable as exc:
        pytest.skip(str(exc))
    except StartFailed as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def small_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small_example(tmp_path_factory.mktemp("example"))


@dataclass
class E2E:
    exit_code: int
    stderr: str
    out: Path
    network: NetworkLog
    config: Path


@pytest.fixture(scope="session")
def e2e(small_config: Path, tmp_path_factory: pytest.TempPathFactory) -> E2E:
    """``audit run`` once, in-process, with the network blocked; several tests read its outputs."""
    from auditor.cli import app

    out = tmp_path_factory.mktemp("out")
    with no_network() as log:
        result = CliRunner().invoke(app, ["run", str(small_config), "-o", str(out)])
    return E2E(result.exit_code, result.stderr, out, log, small_config)


@pytest.fixture()
def today() -> dt.date:
    return dt.date(2026, 11, 22)


TEXT_CONFIG: dict[str, Any] = {
    "project": "tickets-test",
    "seed": 1,
    "data": {"path": "tickets.csv", "target": "category", "text": "text"},
    "pii": {"enabled": False},
    "train": {
        "model": {"hf": "bert"},
        "max_length": 48,
        "epochs": 2,
        "batch_size": 32,
        "learning_rate": 0.01,
        "optimizer": "adam",
        "privacy": {"noise_multiplier": 1.0, "accountant": "rdp"},
    },
    "audit": {"canaries": 40},
    "energy": {"enabled": False, "country_iso_code": "FRA"},
}


@pytest.fixture(scope="session")
def text_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 generated support tickets and a 2-layer random BERT with a tokenizer fitted to them."""
    import sys

    sys.path.insert(0, str(REPO / "examples" / "support-tickets"))
    from generate import generate, write  # the example's own generator
    from hf_fixtures import tiny_bert

    directory = tmp_path_factory.mktemp("text")
    rows = generate(300, seed=5)
    write(directory / "tickets.csv", rows)
    tiny_bert(directory / "bert", [r["text"] for r in rows])
    return directory


def text_config(directory: Path, name: str = "audit.yaml", **sections: dict[str, Any]) -> Path:
    """An audit.yaml for ``text_example``; ``sections`` update TEXT_CONFIG's sections (one level deep)."""
    config = {key: (dict(value) if isinstance(value, dict) else value) for key, value in TEXT_CONFIG.items()}
    for section, values in sections.items():
        config.setdefault(section, {}).update(values)
    path = directory / name
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path
