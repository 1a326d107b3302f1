"""The partitioned dask scan: rows/s, client RSS and worker RSS as the dataset grows.

For each size, writes a Parquet dataset of that many rows (row groups of --group rows: the
partitions), starts a fresh local dask cluster (2 worker processes, 1 thread each), and runs
`audit scan DIR --engine dask --scheduler ADDR` in its own process. Prints the scan's wall time
and rows/s, the client process's peak RSS (sampled every 0.2 s), and the largest worker peak RSS.

Columns: a unique customer id and email, a phone and a name from pools of 5,000, a city from
200, a ZIP code from 3,000, an age, a plan, and a free-text note from 400 sentences (so
each worker analyses a note once and then hits its cache).

    .venv/bin/python benchmarks/dask_scan.py [--sizes 100000,1000000] [--group 100000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
from _common import REPO, machine

NAMES = 5_000


def pools(seed: int) -> dict[str, np.ndarray]:
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    return {
        "name": np.array([fake.name() for _ in range(NAMES)]),
        "phone": np.array([fake.phone_number() for _ in range(NAMES)]),
        "city": np.array([fake.city() for _ in range(200)]),
        "zip": np.array([fake.zipcode() for _ in range(3_000)]),
        "note": np.array(
            [
                f"Called {fake.name()} about the {fake.word()} order; follow up on {fake.day_of_week()}."
                for _ in range(400)
            ]
        ),
    }


def write_dataset(directory: Path, rows: int, group: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = pools(seed)
    directory.mkdir(parents=True, exist_ok=True)
    writer = None
    for start in range(0, rows, group):
        n = min(group, rows - start)
        ids = np.arange(start, start + n)
        frame = pd.DataFrame(
            {
                "customer_id": [f"C{i:09d}" for i in ids],
                "email": [f"user{i}@example.com" for i in ids],
                "name": values["name"][rng.integers(0, NAMES, n)],
                "phone": values["phone"][rng.integers(0, NAMES, n)],
                "city": values["city"][rng.integers(0, 200, n)],
                "zip": values["zip"][rng.integers(0, 3_000, n)],
                "age": rng.integers(18, 90, n),
                "plan": np.array(["basic", "plus", "pro", "family", "business"])[rng.integers(0, 5, n)],
                "note": values["note"][rng.integers(0, 400, n)],
            }
        )
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(directory / "data.parquet", table.schema)
        writer.write_table(table, row_group_size=group)
    assert writer is not None
    writer.close()


def worker_peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(directory: Path, rows: int) -> dict[str, float]:
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0", host="127.0.0.1"
    )
    client = Client(cluster)
    try:
        started = time.perf_counter()
        process = subprocess.Popen(
            [
                str(REPO / ".venv" / "bin" / "audit"),
                "scan",
                str(directory),
                "--engine",
                "dask",
                "--scheduler",
                cluster.scheduler_address,
                "--output-format",
                "json",
                "--max-rows",
                str(rows),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        client_peak = 0
        watched = psutil.Process(process.pid)
        while process.poll() is None:  # the client's RSS, sampled: the audit process alone
            try:
                client_peak = max(client_peak, watched.memory_info().rss)
            except psutil.NoSuchProcess:
                break
            time.sleep(0.2)
        stdout, stderr = process.communicate()
        wall = time.perf_counter() - started
        if process.returncode != 0:
            raise SystemExit(f"audit scan failed: {stderr[-2000:]}")
        workers = client.run(worker_peak_rss)
        section = json.loads(stdout)
    finally:
        client.close()
        cluster.close()
    assert section["rows_scanned"] == rows, section["rows_scanned"]
    return {
        "wall": wall,
        "rate": rows / wall,
        "client_mib": client_peak / 2**20,
        "workers_mib": max(workers.values()) / 2**20,
        "findings": section["findings"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--group", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(machine())
    head = ("rows", "partitions", "wall s", "rows/s", "client MiB", "worker MiB", "findings")
    print("".join(f"{h:>12}" for h in head))
    for size in [int(s) for s in args.sizes.split(",") if s]:
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp) / "data"
            write_dataset(directory, size, args.group, args.seed)
            m = measure(directory, size)
        parts = -(-size // args.group)
        print(
            f"{size:>12,}{parts:>12}{m['wall']:>12.1f}{m['rate']:>12,.0f}{m['client_mib']:>12.0f}"
            f"{m['workers_mib']:>12.0f}{m['findings']:>12,}"
        )


if __name__ == "__main__":
    main()
