"""``--verbose``: what each stage established, as log lines on stderr.

Each stage describes its own section (``Stage.describe``); the lines are
built from evidence values only (counts, figures and the masked
samples the report shows), never from the data, so verbose logs hold no raw
personal data. Third-party loggers stay quiet: Presidio's debug logging, for
one, would print the text it analyses.
"""

from __future__ import annotations

import logging
import sys

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
