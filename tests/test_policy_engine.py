"""Waivers, the gate, parameters and pack validation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from auditor.cli import app
from auditor.errors import InputError
from auditor.evidence import StageRecord
from auditor.policy import evaluate_controls, gate, load_packs, load_waivers, read_pack
from auditor.policy.model import WaiverEntry
from tests.test_policy_packs import base_document, patch

TODAY = dt.date(2026, 11, 22)
OK = [StageRecord(name=n, status="ok", duration_s=0.0) for n in ("data", "pii", "train", "audit", "energy")]


def write_pack(directory: Path, controls: list[dict[str, Any]], params: dict[str, Any] | None = None) -> Path:
    pack = {"id": "test", "version": "1.0.0", "title": "Test pack", "description": "For tests.", "controls": controls}
    if params:
        pack["params"] = params
    path = directory / "test.yaml"
    path.write_text(yaml.safe_dump(pack))
    return path


def control(**overrides: Any) -> dict[str, Any]:
    base = {
        "id": "TEST-EPS-001",
        "title": "Epsilon small",
        "description": "Epsilon is small.",
        "severity": "high",
        "refs": ["GDPR Art. 25"],
        "remediation": "Lower epsilon.",
        "check": {"metric": "training.privacy.epsilon", "op": "<=", "value": "$max_epsilon"},
    }
    return {**base, **overrides}


PARAMS = {"max_epsilon": {"default": 1.0, "description": "limit"}}


def test_params_override_thresholds(tmp_path: Path) -> None:
    path = write_pack(tmp_path, [control()], PARAMS)
    doc = patch(base_document(), {"training.privacy.epsilon": 2.0})
    default = load_packs([str(path)], {})
    relaxed = load_packs([str(path)], {"test.max_epsilon": 3.0})
    assert evaluate_controls(default, doc, OK, [], TODAY)[0].status == "fail"
    result = evaluate_controls(relaxed, doc, OK, [], TODAY)[0]
    assert result.status == "pass" and result.expected == "<= 3.0" and result.observed == 2.0


def test_param_of_wrong_type_is_an_input_error(tmp_path: Path) -> None:
    path = write_pack(tmp_path, [control()], PARAMS)
    with pytest.raises(InputError, match="must be a number"):
        load_packs([str(path)], {"test.max_epsilon": "lots"})


def test_waiver_turns_failure_into_waived_and_expiry_undoes_it(tmp_path: Path) -> None:
    packs = load_packs([str(write_pack(tmp_path, [control()], PARAMS))], {})
    doc = patch(base_document(), {"training.privacy.epsilon": 2.0})
    valid = WaiverEntry(control="TEST-EPS-001", justification="accepted", approver="DPO", expires=dt.date(2027, 1, 1))
    expired = WaiverEntry(control="TEST-EPS-001", justification="accepted", approver="DPO", expires=dt.date(2026, 1, 1))
    waived = evaluate_controls(packs, doc, OK, [valid], TODAY)[0]
    assert waived.status == "waived" and waived.waiver is not None and waived.waiver.approver == "DPO"
    lapsed = evaluate_controls(packs, doc, OK, [expired], TODAY)[0]
    assert lapsed.status == "fail" and "waiver expired on 2026-01-01" in lapsed.reason


def test_gate_severity_thresholds_and_errors() -> None:
    def result(status: str, severity: str) -> Any:
        from auditor.evidence import ControlResult

        return ControlResult(
            id=f"T-{status.upper()}-{severity.upper()}",
            pack="t",
            pack_version="1.0.0",
            title="t",
            description="t",
            severity=severity,
            refs=["r"],
            status=status,
            observed=None,
            expected="x",
            reason="r",
            remediation="r",
        )

    controls = [
        result("fail", "low"),
        result("fail", "high"),
        result("error", "info"),
        result("pass", "critical"),
        result("waived", "high"),
    ]
    summary, verdict = gate(controls, OK, fail_on="medium", warn_on="low")
    assert verdict == "fail"
    assert summary.blocking == ["T-FAIL-HIGH", "T-ERROR-INFO"]
    assert summary.warnings == ["T-FAIL-LOW"]
    assert summary.line == "1 passed, 2 failed, 1 waived, 1 error, 0 skipped"
    summary, verdict = gate([result("fail", "low"), result("waived", "high")], OK, fail_on="medium", warn_on="info")
    assert verdict == "pass" and summary.blocking == []
    crashed = [*OK[:2], StageRecord(name="train", status="error", duration_s=0.0, error="x")]
    _, verdict = gate([result("pass", "low")], crashed, fail_on="critical", warn_on="info")
    assert verdict == "fail"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"check": {"cel": "training.privacy.epsilon <= "}}, "invalid CEL"),
        (
            {"check": {"cel": "training.privacy.epsilonn <= 1.0"}, "expected": "x"},
            "unknown evidence path 'training.privacy.epsilonn'",
        ),
        ({"check": {"cel": "tranining.x == 1.0"}, "expected": "x"}, "unknown name(s) tranining"),
        ({"check": {"metric": "training.nope", "op": "<=", "value": 1}}, "unknown evidence path 'training.nope'"),
        ({"check": {"metric": "training.privacy.epsilon", "op": "<=", "value": "$nope"}}, "names no parameter"),
        ({"refs": []}, "refs"),
        ({"id": "lowercase"}, "id"),
        ({"check": {"cel": "1.0 < 2.0"}}, "needs an 'expected'"),
    ],
)
def test_validate_rejects_bad_packs_with_one_line(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    path = write_pack(tmp_path, [control(**change)], PARAMS)
    with pytest.raises(InputError) as info:
        read_pack(path)
    assert message in str(info.value) and str(path) in str(info.value)
    result = CliRunner().invoke(app, ["policies", "validate", str(path)])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1


def test_cel_error_reports_a_position(tmp_path: Path) -> None:
    path = write_pack(tmp_path, [control(check={"cel": "training.privacy.epsilon <= "}, expected="x")], PARAMS)
    with pytest.raises(InputError, match=r"TEST-EPS-001: check.cel: invalid CEL: <input>:1:\d+"):
        read_pack(path)


def test_duplicate_control_ids(tmp_path: Path) -> None:
    path = write_pack(tmp_path, [control(), control()], PARAMS)
    with pytest.raises(InputError, match="duplicate control id"):
        read_pack(path)


@pytest.mark.parametrize(
    ("waiver", "message"),
    [
        ({"control": "X-1", "justification": "  ", "approver": "a", "expires": "2027-01-01"}, "justification"),
        ({"control": "X-1", "approver": "a", "expires": "2027-01-01"}, "justification"),
        ({"control": "X-1", "justification": "ok", "approver": "a", "expires": "someday"}, "expires"),
        ({"control": "X-1", "justification": "ok", "expires": "2027-01-01"}, "approver"),
    ],
)
def test_bad_waivers_are_input_errors(tmp_path: Path, waiver: dict[str, Any], message: str) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(yaml.safe_dump({"waivers": [waiver]}))
    with pytest.raises(InputError, match=message):
        load_waivers(path)


@pytest.mark.slow
def test_exit_codes_for_fail_waived_and_expired(tmp_path: Path) -> None:
    """End to end: a failing control exits 1, a waived one 0, an expired waiver 1, a bad waiver file 2."""
    from tests.conftest import write_small_example

    pack = write_pack(tmp_path, [control()], PARAMS)
    config = write_small_example(tmp_path / "ex", rows=300)
    data = yaml.safe_load(config.read_text())
    data["policies"] = {"packs": [str(pack)]}
    data["train"]["epochs"] = 1
    data["audit"] = {"enabled": False}
    config.write_text(yaml.safe_dump(data))

    def run(*extra: str) -> int:
        return (
            CliRunner()
            .invoke(app, ["run", str(config), "-o", str(tmp_path / "out"), "--format", "json", *extra])
            .exit_code
        )

    assert run() == 1
    waivers = tmp_path / "waivers.yaml"
    entry = {"control": "TEST-EPS-001", "justification": "accepted for the pilot", "approver": "DPO"}
    waivers.write_text(yaml.safe_dump({"waivers": [{**entry, "expires": "2099-01-01"}]}))
    assert run("--waivers", str(waivers)) == 0
    waivers.write_text(yaml.safe_dump({"waivers": [{**entry, "expires": "2020-01-01"}]}))
    assert run("--waivers", str(waivers)) == 1
    waivers.write_text(yaml.safe_dump({"waivers": [{**entry, "justification": "", "expires": "2099-01-01"}]}))
    assert run("--waivers", str(waivers)) == 2
    assert run("--exit-zero") == 0


@pytest.mark.slow
def test_crashed_stage_is_error_and_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import auditor.stages.train as train_stage
    from auditor.evidence import load_evidence
    from tests.conftest import write_small_example

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("simulated crash in training")

    monkeypatch.setattr(train_stage, "train_models", explode)
    config = write_small_example(tmp_path / "ex", rows=200)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(config), "-o", str(out), "--format", "json"])
    assert result.exit_code == 1
    evidence = load_evidence(out / "evidence.json")
    assert evidence.stage("train").status == "error"
    assert evidence.stage("audit").status == "error"
    assert "stage:train" in evidence.summary.blocking
    by_id = {c.id: c.status for c in evidence.controls}
    assert by_id["GDPR-DP-002"] == "error" and by_id["GDPR-AUDIT-001"] == "error"
    assert evidence.training is None
