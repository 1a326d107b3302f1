"""The scan of a dataset, reading it where the work runs.

With ``pii.engine: dask`` and a dataset the loader can split (a directory of
CSV or JSON Lines files, or Parquet row groups), each dask worker reads and
scans its own partitions; the client reads only the first chunk (the column
profiles every part must share, exactly as the local scan sets them), sends
each worker the partition's name, and gathers partial states: counts, masked
examples, k-anonymity group counts and findings. Partial states merge in
partition order, at most ``2 x workers`` partitions in flight, so the client
holds a bounded number of them whatever the dataset's size, and the findings
are the local engine's, row for row.

Workers read the dataset at the client's path: a cluster needs it on a shared
filesystem.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from auditor.config import PiiConfig
from auditor.data.base import LOADERS, Loader, Partition, ReadOptions, masked_chunks
from auditor.evidence import PiiSection
from auditor.pii.findings import Finding
from auditor.pii.parallel import DaskRunner
from auditor.pii.profile import ColumnProfile
from auditor.pii.scanner import Scanner, ScanState

IN_FLIGHT_PER_WORKER = 2


@dataclass(frozen=True)
class PartitionJob:
    config: PiiConfig
    profiles: list[ColumnProfile]
    loader: str
    partition: Partition
    options: ReadOptions
    k_threshold: int
    findings: bool
    """Whether the client wants the findings (a findings file); otherwise only counts travel back."""


@dataclass
class PartitionResult:
    state: ScanState
    findings: list[Finding]
    """Rows numbered from the partition's first row."""


_WORKER_SCANNERS: dict[str, Scanner] = {}
"""One scanner per configuration in each worker process: spaCy loads once, not once a partition."""


def scan_partition(job: PartitionJob) -> PartitionResult:
    """On a worker: read one partition and scan it with the client's column profiles."""
    key = job.config.model_dump_json()
    scanner = _WORKER_SCANNERS.get(key)
    if scanner is None:
        scanner = _WORKER_SCANNERS[key] = Scanner(job.config, k_threshold=job.k_threshold)
    scanner.profiles = job.profiles
    scanner._order = {p.name: i for i, p in enumerate(job.profiles)}
    state = scanner.new_state()
    findings: list[Finding] = []
    for chunk in masked_chunks(LOADERS[job.loader].iter_partition(job.partition, job.options)):
        found = scanner.scan_chunk(chunk, state)
        if job.findings:
            findings.extend(found)
    return PartitionResult(state, findings)


def _first_chunk(loader: Loader, path: Path, options: ReadOptions) -> pd.DataFrame | None:
    chunks: Iterator[pd.DataFrame] = masked_chunks(loader.iter_text_chunks(path, options))
    try:
        return next(chunks, None)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _in_order(runner: DaskRunner, jobs: list[PartitionJob]) -> Iterator[PartitionResult]:
    """Each partition's result in partition order, with a bounded number submitted at a time."""
    from distributed import as_completed

    client: Any = runner.client
    window = max(1, IN_FLIGHT_PER_WORKER * runner.workers)
    pending = iter(enumerate(jobs))
    index_of: dict[Any, int] = {}
    done: dict[int, PartitionResult] = {}
    queue: Any = as_completed()  # type: ignore[no-untyped-call]
    for i, job in pending:
        future = client.submit(scan_partition, job, pure=False)
        index_of[future] = i
        queue.add(future)
        if len(index_of) >= window:
            break
    following = 0
    for future in queue:
        done[index_of.pop(future)] = future.result()
        future.release()
        while following in done:
            yield done.pop(following)
            following += 1
        for i, job in pending:
            submitted = client.submit(scan_partition, job, pure=False)
            index_of[submitted] = i
            queue.add(submitted)
            break


def scan_dataset(
    scanner: Scanner,
    loader: Loader,
    path: Path,
    options: ReadOptions,
    on_findings: Callable[[list[Finding]], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> PiiSection:
    """The whole dataset's scan: by partition on the dask workers when possible, else chunk by chunk here."""
    parts = loader.partitions(path) if isinstance(scanner.runner, DaskRunner) else []
    if not parts:
        return scanner.scan(masked_chunks(loader.iter_text_chunks(path, options)), on_findings, on_progress)
    assert isinstance(scanner.runner, DaskRunner)
    started = time.perf_counter()
    first = _first_chunk(loader, path, options)
    if first is None:
        return scanner.section(scanner.new_state(), 0.0)
    scanner._profile(first)
    state = scanner.new_state()
    for profile in scanner.profiles:  # uniqueness from the same first chunk as the local scan
        state.stats[profile.name].observe(first[profile.name].astype("str"))
        state.stats[profile.name].non_null = 0
    del first
    config, profiles, threshold, wanted = scanner.config, scanner.profiles, scanner.k_threshold, on_findings is not None
    jobs = [PartitionJob(config, profiles, loader.name, part, options, threshold, wanted) for part in parts]
    for result in _in_order(scanner.runner, jobs):
        offset = state.rows
        state.merge(result.state)
        if on_findings is not None:
            on_findings([dataclasses.replace(f, row=f.row + offset) for f in result.findings])
        if on_progress is not None:
            on_progress(result.state.rows)
        if state.rows > options.max_rows:
            from auditor.errors import InputError

            raise InputError(f"more than {options.max_rows} rows (data.max_rows)", where=str(path))
    return scanner.section(state, time.perf_counter() - started)
