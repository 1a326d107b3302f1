"""Accuracy of the column-aware PII scanner on a labelled table (issue 3).

    .venv/bin/python benchmarks/pii_accuracy.py [--rows 2000] [--seed 11]

Prints span-level recall, precision and F2, type-agnostic and per entity;
recall on the sparse emails of the innocuous ``comment`` column; and the false
positives on the decoy columns (IDs, amounts, order numbers, product codes).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import machine
from pii_scoring import score
from pii_table import generate

from auditor.config import PiiConfig
from auditor.data import ReadOptions, get_loader
from auditor.pii.parallel import make_runner
from auditor.pii.scanner import Scanner

DECOYS = ["customer_id", "amount", "order_id", "product_code", "status"]


def scan(path: Path, workers: int) -> list[tuple[int, str, int, int, str]]:
    findings: list[tuple[int, str, int, int, str]] = []
    runner = make_runner("local", workers, None)
    try:
        Scanner(PiiConfig(), runner=runner).scan(
            get_loader(path).iter_text_chunks(path, ReadOptions()),
            lambda batch: findings.extend((f.row, f.column, f.start, f.end, f.entity) for f in batch),
        )
    finally:
        runner.close()
    return findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    table, gold = generate(args.rows, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "table.csv"
        table.to_csv(path, index=False)
        predicted = scan(path, args.workers)
    overall = score(gold, predicted)
    print(
        f"{args.rows} rows x {table.shape[1]} columns, {sum(1 for g in gold if g.entity != 'NEUTRAL')} labelled spans"
    )
    print(f"type-agnostic: recall {overall.recall:.4f}  precision {overall.precision:.4f}  F2 {overall.f():.4f}")
    for entity in sorted(set(overall.found_by_entity) | set(overall.missed_by_entity)):
        total = overall.found_by_entity[entity] + overall.missed_by_entity[entity]
        print(f"  {entity:14s} recall {overall.entity_recall(entity):.4f} ({total} spans)")
    for entity, count in overall.false_by_entity.most_common():
        print(f"  false positives as {entity}: {count}")
    notes = score(gold, predicted, {"notes"})
    print(f"free text (notes): recall {notes.recall:.4f} precision {notes.precision:.4f} F2 {notes.f():.4f}")
    comment = score(gold, predicted, {"comment"})
    print(
        f"sparse emails in 'comment' ({comment.found + comment.missed} of {args.rows} rows): "
        f"recall {comment.recall:.4f}, "
        f"false positives {comment.false}"
    )
    decoy_hits = sum(1 for p in predicted if p[1] in DECOYS)
    print(
        f"decoy columns {DECOYS}: {decoy_hits} findings in {args.rows * len(DECOYS)} cells "
        f"({decoy_hits / (args.rows * len(DECOYS)):.2%})"
    )


if __name__ == "__main__":
    main()
