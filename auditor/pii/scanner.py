"""The column-aware PII scanner (the ``pii`` stage and ``audit scan``).

Strategy, per column (see profile.py for the kinds):
- numeric, boolean, empty and binary columns are profiled, not scanned;
- structured, categorical and date columns get the fast recognizers on every
  distinct value, plus column-level NER evidence from a sample (a column of
  names is a PERSON column even where spaCy misses one name);
- free-text columns get every recognizer on every distinct value, in parallel
  (presidio_engine.analyze_texts): auditor's own, the gazetteers and names by
  context, Presidio's pattern recognizers (column name as context), and spaCy's
  NER wherever a capitalised word is left unexplained.
Repeated values are analysed once. Findings come out sorted by row.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from auditor.config import PiiConfig
from auditor.errors import InputError
from auditor.evidence import KAnonymity, PiiSection
from auditor.pii.entities import QUASI_ENTITIES
from auditor.pii.fast import FastRecognizer, Span, resolve_overlaps
from auditor.pii.findings import Finding
from auditor.pii.kanon import KAnonymityCounter
from auditor.pii.parallel import InlineRunner, Runner
from auditor.pii.presidio_engine import EngineSettings, analyze_texts, ner_coverage
from auditor.pii.profile import ColumnProfile, profile_column
from auditor.pii.recognizers import recognizers
from auditor.pii.summary import ColumnStats, build_section

NER_SAMPLE = 64
TEXT_BATCH = 1024  # texts per worker task; spaCy's own batches are bounded in characters too
CACHE_LIMIT = 200_000


@dataclass
class ScanState:
    """What a scan has gathered so far; partial states of partitions merge in order (auditor/pii/partitioned.py)."""

    stats: dict[str, ColumnStats]
    kanon: KAnonymityCounter
    rows: int = 0
    rows_with_pii: int = 0
    findings: int = 0

    def merge(self, other: ScanState) -> None:
        for name, column in other.stats.items():
            self.stats[name].merge(column)
        self.kanon.merge(other.kanon)
        self.rows += other.rows
        self.rows_with_pii += other.rows_with_pii
        self.findings += other.findings


_ESCAPES = re.compile(r"\\[ntr]")


def unescape_for_analysis(text: str) -> str:
    """Literal escape sequences (backslash, n) as spaces, keeping every offset: exported JSON
    and templated text carry them, and they glue words together for NER and patterns."""
    return _ESCAPES.sub("  ", text)


def gate(values: pd.Series, recognizer: FastRecognizer) -> pd.Series:
    """Vectorised pre-filter; falls back to Python where Arrow's RE2 rejects the pattern."""
    try:
        return values.str.contains(recognizer.gate, regex=True, na=False)
    except Exception:  # Arrow raises its own error types for RE2-incompatible syntax
        return values.map(lambda v: bool(recognizer.pattern.search(v)) if isinstance(v, str) else False)


class Scanner:
    def __init__(self, config: PiiConfig, runner: Runner | None = None, k_threshold: int = 5) -> None:
        self.config = config
        self.settings = EngineSettings.from_config(config)
        self.runner: Runner = runner or InlineRunner()
        self.k_threshold = k_threshold
        built = recognizers(self.settings)
        self.fast, self.terms = list(built.fast), list(built.terms)
        self._allow = set(config.allow_list)
        self._cache: OrderedDict[tuple[str, str], list[Span]] = OrderedDict()
        self.profiles: list[ColumnProfile] = []
        self._order: dict[str, int] = {}

    # -- profiling ---------------------------------------------------------------------------
    def _profile(self, chunk: pd.DataFrame) -> None:
        wanted = self.config.columns
        missing = sorted(set(wanted or ()) - {str(c) for c in chunk.columns})
        if missing:
            raise InputError(f"pii.columns names unknown column(s): {', '.join(missing)}")
        sampled: list[tuple[ColumnProfile, list[str]]] = []
        for name in chunk.columns:
            profile = profile_column(str(name), chunk[name], len(chunk))
            profile.selected = wanted is None or name in wanted
            self.profiles.append(profile)
            self._order[profile.name] = len(self._order)
            if not profile.selected:
                continue
            if profile.kind in {"structured", "categorical"}:
                sample = [str(v) for v in chunk[name].dropna().unique()[:NER_SAMPLE]]
                if sample and not self._pattern_dominated(sample):
                    sampled.append((profile, sample))
            elif profile.kind == "datetime" and "DATE_TIME" in profile.expected:
                profile.column_entity, profile.column_entity_score = "DATE_TIME", 0.9
        # One map for every column's NER sample, so the workers share it.
        coverages = self.runner.map(partial(ner_coverage, self.settings), [sample for _, sample in sampled])
        for (profile, _), coverage in zip(sampled, coverages, strict=True):
            self._column_entity(profile, coverage)

    def _pattern_dominated(self, sample: list[str]) -> bool:
        """Emails, phones, IBANs, codes and IDs: the fast recognizers explain the column, or its values
        are mostly digits (names and places are not), so NER has nothing to decide."""
        if sum(any(ch.isdigit() for ch in v) for v in sample) * 2 >= len(sample):
            return True
        values = pd.Series(sample, dtype="str")
        hits = pd.Series(False, index=values.index)
        for recognizer in self.fast:
            hits |= gate(values, recognizer)
        return float(hits.mean()) >= 0.5

    def _column_entity(self, profile: ColumnProfile, coverage: dict[str, float]) -> None:
        """Column-level evidence: NER on a sample decides whether this is a names/places column."""
        for entity, share in sorted(coverage.items(), key=lambda kv: -kv[1]):
            if profile.expected and entity not in profile.expected:
                needed = 0.8
            else:
                needed = 0.25 if entity in profile.expected else 0.5
            if share >= needed:
                profile.column_entity, profile.column_entity_score = entity, round(max(share, 0.5), 2)
                return

    # -- detection ---------------------------------------------------------------------------
    def _structured_spans(self, profile: ColumnProfile, uniques: pd.Series) -> dict[str, list[Span]]:
        found: dict[str, list[Span]] = {}
        # Special-category terms are read in categories ("religion: catholic"), not in
        # names and addresses, where "Church" and "Temple" are surnames and streets.
        recognizers = self.fast + self.terms if profile.kind == "categorical" else self.fast
        for recognizer in recognizers:
            in_context = recognizer.entity in profile.expected
            if profile.negative and not in_context and recognizer.score < 1.0:
                continue
            for value in uniques[gate(uniques, recognizer)]:
                spans = recognizer.find(value, in_context)
                if spans:
                    found.setdefault(value, []).extend(spans)
        if profile.column_entity:
            for value in uniques:
                if value not in found and value.strip():
                    start = len(value) - len(value.lstrip())
                    end = len(value.rstrip())
                    found[value] = [Span(profile.column_entity, start, end, profile.column_entity_score)]
        return found

    def _text_spans(self, profile: ColumnProfile, uniques: pd.Series) -> dict[str, list[Span]]:
        found: dict[str, list[Span]] = {}
        todo = []
        for value in uniques:
            cached = self._cache.get((profile.name, value))
            if cached is None:
                todo.append(value)
            else:
                found[value] = cached
        if todo:
            readable = [unescape_for_analysis(v) for v in todo]
            batches = [readable[i : i + TEXT_BATCH] for i in range(0, len(readable), TEXT_BATCH)]
            work = partial(analyze_texts, self.settings, context=tuple(profile.name.lower().split("_")))
            results = [spans for batch in self.runner.map(work, batches) for spans in batch]
            for value, spans in zip(todo, results, strict=True):
                found[value] = spans
            for value in todo:
                self._cache[(profile.name, value)] = found[value]
            while len(self._cache) > CACHE_LIMIT:
                self._cache.popitem(last=False)
        return found

    def _spans(self, profile: ColumnProfile, uniques: pd.Series) -> dict[str, list[Span]]:
        raw = (
            self._text_spans(profile, uniques)
            if profile.kind == "free_text"
            else self._structured_spans(profile, uniques)
        )
        selected = set(self.settings.entities)
        threshold = self.settings.score_threshold
        out = {}
        for value, spans in raw.items():
            kept = [
                s
                for s in spans
                if s.score >= threshold and s.entity in selected and value[s.start : s.end] not in self._allow
            ]
            if kept:
                out[value] = resolve_overlaps(kept)
        return out

    def text_spans(self, column: str, values: list[str]) -> list[list[Span]]:
        """The spans in each value of a free-text column, found as the scan finds them (overlaps resolved)."""
        profile = ColumnProfile(name=column, kind="free_text")
        found = self._spans(profile, pd.Series(list(dict.fromkeys(values)), dtype="str"))
        return [found.get(value, []) for value in values]

    # -- the scan ----------------------------------------------------------------------------
    def scan(
        self,
        chunks: Iterable[pd.DataFrame],
        on_findings: Callable[[list[Finding]], None] | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> PiiSection:
        started = time.perf_counter()
        state: ScanState | None = None
        for chunk in chunks:
            if not self.profiles:
                self._profile(chunk)
            if state is None:
                state = self.new_state()
            findings = self.scan_chunk(chunk, state)
            if on_findings is not None:
                on_findings(findings)
            if on_progress is not None:
                on_progress(len(chunk))
        return self.section(state or self.new_state(), time.perf_counter() - started)

    def new_state(self) -> ScanState:
        return ScanState(
            stats={p.name: ColumnStats(self.config.masked_examples) for p in self.profiles},
            kanon=self._kanon_counter(),
        )

    def scan_chunk(self, chunk: pd.DataFrame, state: ScanState) -> list[Finding]:
        """Scan one chunk into ``state``; its findings, sorted, with rows numbered from ``state.rows``."""
        any_pii = np.zeros(len(chunk), dtype=bool)
        findings: list[Finding] = []
        for profile in self.profiles:
            series = chunk[profile.name].astype("str")
            column_stats = state.stats[profile.name]
            column_stats.observe(series)
            if not (profile.scanned and profile.selected):
                continue
            codes, uniques = pd.factorize(series)
            spans_by_value = self._spans(profile, pd.Series(uniques, dtype="str"))
            if not spans_by_value:
                continue
            has = np.array([u in spans_by_value for u in uniques] + [False])
            for i in np.nonzero(has[codes])[0]:
                value = uniques[codes[i]]
                spans = spans_by_value[value]
                row = state.rows + int(i)
                column_stats.add(row, value, spans)
                findings.extend(Finding(row, profile.name, s.start, s.end, s.entity, s.score) for s in spans)
                any_pii[i] = True
        state.kanon.add(chunk)
        findings.sort(key=lambda f: (f.row, self._order[f.column], f.start, f.end, f.entity))
        state.findings += len(findings)
        state.rows += len(chunk)
        state.rows_with_pii += int(any_pii.sum())
        return findings

    def section(self, state: ScanState, seconds: float, kanon: KAnonymity | None = None) -> PiiSection:
        """The evidence; ``kanon`` when the k-anonymity groups were totalled elsewhere (on dask workers)."""
        return build_section(
            profiles=self.profiles,
            stats=state.stats,
            kanon=kanon if kanon is not None else state.kanon.result(),
            rows=state.rows,
            rows_with_pii=state.rows_with_pii,
            findings=state.findings,
            settings=self.settings,
            workers=self.runner.workers,
            engine=self.runner.name,
            seconds=seconds,
        )

    def _kanon_counter(self) -> KAnonymityCounter:
        configured = self.config.quasi_identifiers
        if configured is not None:
            return KAnonymityCounter(list(configured), "config", self.k_threshold)
        detected = [
            p.name
            for p in self.profiles
            if p.kind not in {"free_text", "binary", "empty"}
            and (p.quasi_by_name or (p.column_entity in QUASI_ENTITIES))
        ]
        return KAnonymityCounter(detected, "detected", self.k_threshold)
