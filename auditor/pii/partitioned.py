"""The scan of a dataset, reading it where the work runs.

With ``pii.engine: dask`` and a dataset the loader can split (a directory of
CSV or JSON Lines files, or Parquet row groups), each dask worker reads and
scans its own partitions; the client reads only the first chunk (the column
profiles every part must share, exactly as the local scan sets them), sends
each worker the partition's name, and gathers partial states: counts, masked
examples and findings (only for a findings file). k-anonymity groups stay on
the workers in hash buckets, each totalled on a worker; the client receives
each bucket's smallest sizes and its rows below the threshold. States merge in
partition order, at most ``2 x workers`` partitions in flight, so the client
holds a bounded number of them whatever the dataset's size, and the findings
are the local engine's, row for row.

Workers read the dataset at the client's path: a cluster needs it on a shared
filesystem.
"""

from __future__ import annotations

import dataclasses
import operator
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
from auditor.pii.kanon import KAnonymityCounter, bucket_summary, combine_summaries
from auditor.pii.parallel import DaskRunner
from auditor.pii.profile import ColumnProfile
from auditor.pii.scanner import Scanner, ScanState

IN_FLIGHT_PER_WORKER = 2
BUCKETS_PER_WORKER = 4
"""k-anonymity hash buckets per worker: each bucket is totalled on one worker."""


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
    buckets: int
    """Hash buckets for the k-anonymity groups."""


@dataclass
class PartitionResult:
    state: ScanState
    findings: list[Finding]
    """Rows numbered from the partition's first row."""


_WORKER_SCANNERS: dict[str, Scanner] = {}
"""One scanner per configuration in each worker process: spaCy loads once, not once a partition."""


def scan_partition(job: PartitionJob) -> tuple[PartitionResult, list[tuple[Any, Any]]]:
    """On a worker: read one partition and scan it with the client's column profiles.

    The k-anonymity groups leave the result, split into ``job.buckets`` hash buckets that stay on the
    workers until each bucket is totalled there (``bucket_summary``): the client never holds them."""
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
    buckets = state.kanon.buckets(job.buckets)
    state.kanon = KAnonymityCounter(state.kanon.quasi_identifiers, state.kanon.source, state.kanon.threshold)
    return PartitionResult(state, findings), buckets


def _first_chunk(loader: Loader, path: Path, options: ReadOptions) -> pd.DataFrame | None:
    chunks: Iterator[pd.DataFrame] = masked_chunks(loader.iter_text_chunks(path, options))
    try:
        return next(chunks, None)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _in_order(runner: DaskRunner, jobs: list[PartitionJob], buckets: list[list[Any]]) -> Iterator[PartitionResult]:
    """Each partition's result in partition order, with a bounded number submitted at a time; each
    partition's k-anonymity buckets stay on the workers, as futures appended to ``buckets``."""
    from distributed import as_completed

    client: Any = runner.client
    window = max(1, IN_FLIGHT_PER_WORKER * runner.workers)
    pending = iter(enumerate(jobs))
    index_of: dict[Any, int] = {}
    done: dict[int, PartitionResult] = {}
    parts: dict[int, list[Any]] = {}
    queue: Any = as_completed()  # type: ignore[no-untyped-call]

    def submit() -> bool:
        for i, job in pending:
            future = client.submit(scan_partition, job, pure=False)
            index_of[future] = i
            queue.add(future)
            return True
        return False

    while len(index_of) < window and submit():
        pass
    following = 0
    for future in queue:
        i = index_of.pop(future)
        light = client.submit(operator.getitem, future, 0, pure=False)
        held = client.submit(operator.getitem, future, 1, pure=False)
        parts[i] = [client.submit(operator.getitem, held, b, pure=False) for b in range(len(buckets))]
        done[i] = light.result()
        for f in (light, held, future):
            f.release()
        while following in done:
            for b, part in enumerate(parts.pop(following)):
                buckets[b].append(part)
            yield done.pop(following)
            following += 1
        submit()


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
    count = BUCKETS_PER_WORKER * scanner.runner.workers
    jobs = [PartitionJob(config, profiles, loader.name, part, options, threshold, wanted, count) for part in parts]
    buckets: list[list[Any]] = [[] for _ in range(jobs[0].buckets)]
    for result in _in_order(scanner.runner, jobs, buckets):
        offset = state.rows
        state.merge(result.state)
        if on_findings is not None:
            on_findings([dataclasses.replace(f, row=f.row + offset) for f in result.findings])
        if on_progress is not None:
            on_progress(result.state.rows)
        if state.rows > options.max_rows:
            from auditor.errors import InputError

            raise InputError(f"more than {options.max_rows} rows (data.max_rows)", where=str(path))
    client: Any = scanner.runner.client
    summaries = client.gather([client.submit(bucket_summary, threshold, *bucket) for bucket in buckets])
    kanon = state.kanon.result(combine_summaries(summaries))
    return scanner.section(state, time.perf_counter() - started, kanon)
