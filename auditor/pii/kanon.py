"""k-anonymity over quasi-identifiers, counted chunk by chunk.

Each row's quasi-identifier tuple is hashed to 64 bits (pandas' stable row
hash); each chunk keeps its distinct hashes with their counts, so memory follows
the groups rather than the rows, and parts scanned elsewhere merge by adding
counts. Group sizes come from summing equal hashes at the end. Only group sizes
leave this module: the report shows how small the smallest groups are, never
which values form them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.evidence import KAnonymity

MISSING = "\x00missing"
SMALLEST = 10
"""Smallest group sizes the evidence lists."""
COMPACT_AFTER = 64
"""Per-chunk arrays kept before they are folded into one."""


class KAnonymityCounter:
    def __init__(self, quasi_identifiers: list[str], source: str, threshold: int) -> None:
        self.quasi_identifiers = quasi_identifiers
        self.source = source
        self.threshold = threshold
        self._hashes: list[np.ndarray] = []
        self._counts: list[np.ndarray] = []

    def add(self, chunk: pd.DataFrame) -> None:
        if not self.quasi_identifiers:
            return
        keys = chunk[self.quasi_identifiers].astype("str").fillna(MISSING)
        hashes, counts = np.unique(pd.util.hash_pandas_object(keys, index=False).to_numpy(), return_counts=True)
        self._hashes.append(hashes)
        self._counts.append(counts)
        self._compact_if_long()

    def merge(self, other: KAnonymityCounter) -> None:
        """Add another part's groups (a partition scanned elsewhere)."""
        self._hashes.extend(other._hashes)
        self._counts.extend(other._counts)
        self._compact_if_long()

    def _compact_if_long(self) -> None:
        """Fold the per-chunk arrays into one once there are many: memory follows the distinct groups."""
        if len(self._hashes) >= COMPACT_AFTER:
            hashes, counts = self._totals()
            self._hashes, self._counts = [hashes], [counts]

    def _totals(self) -> tuple[np.ndarray, np.ndarray]:
        hashes, where = np.unique(np.concatenate(self._hashes), return_inverse=True)
        return hashes, np.bincount(where, weights=np.concatenate(self._counts)).astype(np.int64)

    def buckets(self, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """The groups split by hash into ``count`` buckets: each bucket can be totalled on its own."""
        if not self._hashes:
            empty = (np.array([], dtype=np.uint64), np.array([], dtype=np.int64))
            return [empty] * count
        hashes, counts = self._totals()
        which = hashes % np.uint64(count)
        return [(hashes[which == b], counts[which == b]) for b in range(count)]

    def group_sizes(self) -> np.ndarray:
        if not self._hashes:
            return np.array([], dtype=np.int64)
        return np.sort(self._totals()[1])

    def result(self, totals: tuple[np.ndarray, int] | None = None) -> KAnonymity:
        """The evidence; ``totals`` (the smallest sizes, ascending, and the rows in groups below the
        threshold) stands in for this counter's own groups when they were totalled elsewhere."""
        if totals is None:
            sizes = self.group_sizes()
            totals = (sizes[:SMALLEST], int(sizes[sizes < self.threshold].sum()))
        smallest, below = totals
        if not self.quasi_identifiers or len(smallest) == 0:
            return KAnonymity(
                quasi_identifiers=[],
                source="none",
                k=None,
                smallest_groups=[],
                rows_in_groups_below_threshold=0,
                threshold=self.threshold,
            )
        return KAnonymity(
            quasi_identifiers=list(self.quasi_identifiers),
            source="config" if self.source == "config" else "detected",
            k=int(smallest[0]),
            smallest_groups=[int(s) for s in smallest[:SMALLEST]],
            rows_in_groups_below_threshold=below,
            threshold=self.threshold,
        )


def k_anonymity(frame: pd.DataFrame, quasi_identifiers: list[str], threshold: int, source: str) -> KAnonymity:
    counter = KAnonymityCounter(quasi_identifiers, source, threshold)
    counter.add(frame)
    return counter.result()


def bucket_summary(threshold: int, *parts: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, int]:
    """One hash bucket's groups totalled over every part: its smallest sizes and the rows in its groups below
    the threshold, all the evidence needs; the groups themselves stay where they were counted."""
    counter = KAnonymityCounter(["bucket"], "config", threshold)
    counter._hashes = [p[0] for p in parts if len(p[0])]
    counter._counts = [p[1] for p in parts if len(p[1])]
    sizes = counter.group_sizes()
    return sizes[:SMALLEST], int(sizes[sizes < threshold].sum())


def combine_summaries(summaries: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, int]:
    smallest = [s for s, _ in summaries if len(s)]
    merged = np.sort(np.concatenate(smallest))[:SMALLEST] if smallest else np.array([], dtype=np.int64)
    return merged, sum(below for _, below in summaries)
