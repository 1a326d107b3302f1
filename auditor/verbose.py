"""``--verbose``: what each stage established, as log lines on stderr.

The lines are built from evidence values only (counts, figures and the masked
samples the report shows), never from the data, so verbose logs hold no raw
personal data. Third-party loggers stay quiet: Presidio's debug logging, for
one, would print the text it analyses.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from auditor.stages.base import RunContext

log = logging.getLogger("auditor")
_HANDLER_TAG = "_auditor_verbose"


def configure(verbose: bool) -> None:
    """Send the ``auditor`` logger to stderr at INFO when verbose (idempotent)."""
    for handler in [h for h in log.handlers if getattr(h, _HANDLER_TAG, False)]:
        log.removeHandler(handler)
    if not verbose:
        log.setLevel(logging.WARNING)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("  · %(message)s"))
    setattr(handler, _HANDLER_TAG, True)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def describe(stage: str, ctx: RunContext) -> list[str]:
    """Lines about a finished stage's result."""
    if stage == "pii" and ctx.pii is not None:
        pii = ctx.pii
        lines = [
            f"pii: {pii.rows_with_pii:,} of {pii.rows_scanned:,} rows hold personal data; "
            f"{pii.findings:,} findings; {pii.scan.rows_per_second:,.0f} rows/s on {pii.scan.workers} worker(s)"
        ]
        for column in pii.columns:
            if column.rows_with_pii:
                entities = ", ".join(f"{k} {v:,}" for k, v in sorted(column.entities.items()))
                samples = "; ".join(column.masked_examples)
                lines.append(f"pii: column {column.name} ({column.kind}): {entities}; masked: {samples}")
        if pii.k_anonymity.k is not None:
            lines.append(
                f"pii: k-anonymity k = {pii.k_anonymity.k} over {', '.join(pii.k_anonymity.quasi_identifiers)}"
            )
        return lines
    if stage == "train" and ctx.training is not None:
        t = ctx.training
        lines = [f"train: {t.model.architecture}, {t.model.parameters:,} parameters, {t.train_rows:,} training rows"]
        if t.privacy is not None:
            p = t.privacy
            lines.append(
                f"train: epsilon {p.epsilon} at delta {p.delta:.2e} ({p.accountant}); sigma {p.noise_multiplier:.4f}, "
                f"q {p.sample_rate:.4f}, {p.steps} steps, clipping {p.clipping}"
            )
        base = f" (non-private {t.baseline.metrics.accuracy:.4f})" if t.baseline else ""
        lines.append(f"train: held-out accuracy {t.metrics.accuracy:.4f}{base}; {t.seconds_per_epoch:.2f} s/epoch")
        return lines
    if stage == "audit" and ctx.audit is not None:
        a = ctx.audit
        lines = []
        if a.canary is not None:
            lines.append(
                f"audit: {a.canary.canaries} canaries, {a.canary.correct}/{a.canary.guesses} guesses right, "
                f"empirical epsilon lower bound {a.canary.epsilon_lower_bound:.3f}"
            )
        if a.mia_dp is not None:
            lines.append(f"audit: membership inference AUC {a.mia_dp.auc:.4f}, advantage {a.mia_dp.advantage:.4f}")
        return lines
    return []
