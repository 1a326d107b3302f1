"""Where free-text batches run: in-process, in a local process pool, or on dask.

All runners return results in submission order, so the findings are the same
whichever runner produced them.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any, Protocol, TypeVar

from auditor.errors import InputError

T = TypeVar("T")
R = TypeVar("R")


class Runner(Protocol):
    name: str
    workers: int

    def map(self, fn: Callable[[Any], Any], batches: Sequence[Any]) -> list[Any]: ...

    def close(self) -> None: ...


class InlineRunner:
    name = "inline"
    workers = 1

    def map(self, fn: Callable[[Any], Any], batches: Sequence[Any]) -> list[Any]:
        return [fn(batch) for batch in batches]

    def close(self) -> None:
        return None


class ProcessRunner:
    """A spawn-based pool (no fork after torch has started threads), created on first use.

    Below ``min_batches`` batches the work runs in-process: each worker loads
    spaCy (seconds), which costs more than it saves on a small job.
    """

    name = "local"

    def __init__(self, workers: int, min_batches: int = 16) -> None:
        self.workers = workers
        self.min_batches = min_batches
        self._pool: Executor | None = None

    def map(self, fn: Callable[[Any], Any], batches: Sequence[Any]) -> list[Any]:
        if self.workers <= 1 or (self._pool is None and len(batches) < self.min_batches):
            return [fn(batch) for batch in batches]
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))
        return list(self._pool.map(fn, batches))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskRunner:
    """Runs batches on a dask.distributed cluster: the given scheduler, or a LocalCluster."""

    name = "dask"

    def __init__(self, workers: int, scheduler: str | None) -> None:
        from distributed import Client, LocalCluster

        self._cluster: Any = None
        if scheduler:
            _reachable(scheduler)
        try:
            if scheduler:
                self._client = Client(scheduler, timeout=30)  # type: ignore[no-untyped-call]
            else:
                self._cluster = LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address="127.0.0.1:0",  # loopback, any free port: never a fixed 8787
                    host="127.0.0.1",
                )
                self._client = Client(self._cluster)  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as exc:
            raise InputError(f"cannot reach dask scheduler {scheduler!r}: {exc}") from None
        self.workers = len(self._client.scheduler_info().get("workers", {})) or workers

    @property
    def client(self) -> Any:
        """The dask.distributed client (the partitioned scan submits to it directly)."""
        return self._client

    def map(self, fn: Callable[[Any], Any], batches: Sequence[Any]) -> list[Any]:
        futures = self._client.map(fn, list(batches), pure=False)
        return list(self._client.gather(futures))  # type: ignore[no-untyped-call]

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]
        if self._cluster is not None:
            self._cluster.close()


def _reachable(scheduler: str) -> None:
    """A refused or unresolvable TCP scheduler address fails at once, not after the client's 30 s of retries."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(scheduler if "://" in scheduler else f"tcp://{scheduler}")
    try:
        port = parts.port
    except ValueError:
        raise InputError(f"dask scheduler address {scheduler!r} has an invalid port") from None
    if parts.scheme not in ("tcp", "tls") or parts.hostname is None or port is None:
        return  # other transports (inproc, ucx) are left to dask
    try:
        socket.create_connection((parts.hostname, port), timeout=5).close()
    except OSError as exc:
        raise InputError(f"cannot reach dask scheduler {scheduler!r}: {exc.strerror or exc}") from None


def make_runner(engine: str, workers: int | None, scheduler: str | None) -> Runner:
    count = workers or os.cpu_count() or 1
    if engine == "dask":
        from auditor.extras import require

        require("dask", "pii.engine: dask")
        return DaskRunner(count, scheduler)
    return ProcessRunner(count) if count > 1 else InlineRunner()
