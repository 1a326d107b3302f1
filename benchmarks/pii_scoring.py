"""Span-level scoring of PII findings against gold spans (presidio-research's measures).

Recall counts gold spans: one is found when a predicted span in the same cell
overlaps it. Precision counts predicted spans: one is correct when it overlaps
a labelled gold span, neutral when it only overlaps a neutral span (ignored),
and a false positive otherwise. Scores are type-agnostic overall, recall is
also given per gold entity type and false positives per predicted type. F2
weighs recall twice as much as precision, as presidio-research recommends.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from pii_table import Gold

Span = tuple[int, str, int, int, str]  # row, column, start, end, entity


@dataclass
class Score:
    found: int = 0
    missed: int = 0
    correct: int = 0
    false: int = 0
    found_by_entity: Counter[str] = field(default_factory=Counter)
    missed_by_entity: Counter[str] = field(default_factory=Counter)
    false_by_entity: Counter[str] = field(default_factory=Counter)

    @property
    def recall(self) -> float:
        return self.found / (self.found + self.missed) if self.found + self.missed else 1.0

    @property
    def precision(self) -> float:
        return self.correct / (self.correct + self.false) if self.correct + self.false else 1.0

    def f(self, beta: float = 2.0) -> float:
        p, r = self.precision, self.recall
        return (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0

    def entity_recall(self, entity: str) -> float:
        total = self.found_by_entity[entity] + self.missed_by_entity[entity]
        return self.found_by_entity[entity] / total if total else 1.0


def _overlaps(a: Gold, start: int, end: int) -> bool:
    return a.start < end and start < a.end


def score(gold: Iterable[Gold], predicted: Iterable[Span], columns: set[str] | None = None) -> Score:
    golds: dict[tuple[int, str], list[Gold]] = defaultdict(list)
    for g in gold:
        if columns is None or g.column in columns:
            golds[(g.row, g.column)].append(g)
    preds: dict[tuple[int, str], list[Span]] = defaultdict(list)
    for p in predicted:
        if columns is None or p[1] in columns:
            preds[(p[0], p[1])].append(p)
    result = Score()
    for cell in set(golds) | set(preds):
        cell_gold, cell_pred = golds.get(cell, []), preds.get(cell, [])
        for g in cell_gold:
            if g.entity == "NEUTRAL":
                continue
            if any(_overlaps(g, p[2], p[3]) for p in cell_pred):
                result.found += 1
                result.found_by_entity[g.entity] += 1
            else:
                result.missed += 1
                result.missed_by_entity[g.entity] += 1
        for p in cell_pred:
            touching = [g for g in cell_gold if _overlaps(g, p[2], p[3])]
            if any(g.entity != "NEUTRAL" for g in touching):
                result.correct += 1
            elif not touching:
                result.false += 1
                result.false_by_entity[p[4]] += 1
    return result
