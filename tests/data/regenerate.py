"""Regenerate tests/data/evidence.json (after an evidence schema change):

.venv/bin/python tests/data/regenerate.py
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from auditor.config import load_config  # noqa: E402
from auditor.evidence import dump_evidence  # noqa: E402
from auditor.pipeline import run  # noqa: E402
from tests.conftest import write_small_example  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(write_small_example(Path(tmp), rows=800))
        fixed = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
        evidence = run(config, run_id="0" * 32, clock=lambda: fixed, command="audit run tests/example/audit.yaml")
    (HERE / "evidence.json").write_text(dump_evidence(evidence), encoding="utf-8")
    print(f"wrote {HERE / 'evidence.json'}: {evidence.summary.line}")


if __name__ == "__main__":
    main()
