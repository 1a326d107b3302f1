"""Fail closed: nothing inside a stage can exit 0, hang on a console, or escape as a crash."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

from auditor.config import EnergyConfig
from auditor.energy import EnergyMeter
from auditor.evidence._base import Record
from auditor.pipeline import _run_one
from auditor.progress import NoProgress
from auditor.stages import RunContext, Stage


class Odd(BaseException):
    """Neither an Exception nor SystemExit."""


class Probe(Stage):
    name: ClassVar[str] = "probe"
    description: ClassVar[str] = "runs a callable"
    tracked: ClassVar[bool] = False

    def __init__(self, action: Any) -> None:
        self.action = action

    def run(self, ctx: RunContext) -> Record | None:
        self.action()
        return None


def _ctx() -> RunContext:
    from auditor.config import AuditConfig

    config = AuditConfig.model_validate(
        {"project": "p", "data": {"path": "x.csv", "target": "y"}, "energy": {"country_iso_code": "FRA"}}
    )
    return RunContext(
        config=config, seed=0, meter=EnergyMeter(EnergyConfig(country_iso_code="FRA")), progress=NoProgress()
    )


def _exit_zero() -> None:
    raise SystemExit(0)


def _odd() -> None:
    raise Odd("not an Exception")


def _asks() -> None:
    breakpoint()  # a no-op inside stages
    input("password? ")  # stdin reads end-of-file: EOFError, a stage error, not a hang


@pytest.mark.parametrize(
    ("action", "message"),
    [(_exit_zero, "SystemExit"), (_odd, "Odd: not an Exception"), (_asks, "EOFError")],
)
def test_anything_a_stage_raises_is_a_stage_error(action: Any, message: str) -> None:
    status, error = _run_one(Probe(action), _ctx())
    assert status == "error" and error is not None and message in error


def test_an_interrupt_stops_the_run() -> None:
    def interrupt() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run_one(Probe(interrupt), _ctx())


def test_an_interrupted_command_exits_130(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    import auditor.pipeline as pipeline
    from auditor.cli import app
    from tests.conftest import write_small_example

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "run", interrupted)
    config = write_small_example(tmp_path, rows=100)
    result = CliRunner().invoke(app, ["run", str(config), "-o", str(tmp_path / "out")])
    assert result.exit_code == 130 and "interrupted" in result.stderr
    assert not (tmp_path / "out").exists()


def test_turning_the_scan_off_makes_the_scan_controls_errors_unless_waived() -> None:
    """A gate cannot be emptied silently: pii.enabled: false leaves the GDPR scan controls in error."""
    import datetime as dt
    import json
    from pathlib import Path

    from auditor.evidence import StageRecord
    from auditor.policy.engine import evaluate_controls
    from auditor.policy.loader import load_packs
    from auditor.policy.model import WaiverEntry

    document = json.loads((Path(__file__).parent / "data" / "evidence.json").read_text())
    document["pii"] = None
    records = [StageRecord.model_validate(s) for s in document["stages"]]
    records = [
        r.model_copy(update={"status": "skipped", "error": "pii.enabled is false", "disabled": True})
        if r.name == "pii"
        else r
        for r in records
    ]
    packs = load_packs(["gdpr"], {})
    today = dt.date(2026, 12, 2)
    results = {c.id: c for c in evaluate_controls(packs, document, records, [], today)}
    scan_controls = ["GDPR-MIN-001", "GDPR-ART9-001", "GDPR-KANON-002"]
    for control_id in scan_controls:
        assert results[control_id].status == "error", control_id
        assert "was turned off (pii.enabled is false)" in results[control_id].reason
    waiver = WaiverEntry(
        control="GDPR-MIN-001",
        justification="scan runs in the upstream pipeline",
        approver="DPO",
        expires=dt.date(2099, 1, 1),
    )
    waived = {c.id: c for c in evaluate_controls(packs, document, records, [waiver], today)}
    assert waived["GDPR-MIN-001"].status == "waived" and waived["GDPR-ART9-001"].status == "error"


def test_a_waiver_scoped_to_a_column_does_not_cover_a_new_column() -> None:
    """A waiver of GDPR-ART9-001 for the notes column must not silently cover a religion column added later."""
    import datetime as dt
    import json
    from pathlib import Path

    from auditor.evidence import StageRecord
    from auditor.policy.engine import evaluate_controls
    from auditor.policy.loader import load_packs
    from auditor.policy.model import WaiverEntry

    document = json.loads((Path(__file__).parent / "data" / "evidence.json").read_text())
    notes = [{"column": "notes", "category": "HEALTH", "signal": "keywords", "rows": 12}]
    records = [StageRecord.model_validate(s) for s in document["stages"]]
    packs = load_packs(["gdpr"], {})
    today = dt.date(2026, 12, 2)
    waiver = WaiverEntry(
        control="GDPR-ART9-001",
        column="notes",
        justification="notes are never a feature; reviewed by the DPO",
        approver="DPO",
        expires=dt.date(2099, 1, 1),
    )

    def art9(categories: list[dict[str, object]]) -> Any:
        document["pii"]["special_categories"] = categories
        return next(c for c in evaluate_controls(packs, document, records, [waiver], today) if c.id == "GDPR-ART9-001")

    covered = art9(notes)
    assert covered.status == "waived" and covered.waiver is not None and covered.waiver.covered == ["notes:HEALTH"]
    religion = {"column": "religion", "category": "RELIGION", "signal": "column name", "rows": 800}
    widened = art9([*notes, religion])
    assert widened.status == "fail" and "religion:RELIGION is outside every waiver's scope" in widened.reason
