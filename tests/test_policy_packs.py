"""Every shipped control passes and fails on its fixtures; the docs match the packs."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from auditor.cli import app
from auditor.evidence import StageRecord
from auditor.policy import builtin_packs, evaluate_controls, load_packs

DATA = Path(__file__).parent / "data"
TODAY = dt.date(2026, 11, 22)
PACKS = load_packs(list(builtin_packs()), {})
CONTROLS = {c.id: lp for lp in PACKS for c in lp.pack.controls}
FIXTURES: dict[str, dict[str, dict[str, Any]]] = yaml.safe_load((DATA / "control_fixtures.yaml").read_text())


def base_document() -> dict[str, Any]:
    evidence = json.loads((DATA / "evidence.json").read_text())
    return {k: evidence.get(k) for k in ("run", "data", "stages", "pii", "training", "audit", "energy", "previous")}


def patch(document: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Apply dotted-path changes; keys that contain dots themselves (``train.dp``) are matched greedily."""
    doc = copy.deepcopy(document)
    for dotted, value in changes.items():
        parts = dotted.split(".")
        node = doc
        while len(parts) > 1:
            for size in range(len(parts) - 1, 0, -1):
                key = ".".join(parts[:size])
                if isinstance(node, dict) and key in node:
                    node, parts = node[key], parts[size:]
                    break
            else:
                raise KeyError(f"fixture path {dotted!r} not in the evidence")
        node[parts[0]] = value
    return doc


def status_of(control_id: str, document: dict[str, Any], stages: list[StageRecord] | None = None) -> str:
    loaded = CONTROLS[control_id]
    only = type(loaded)(
        pack=loaded.pack.model_copy(update={"controls": [c for c in loaded.pack.controls if c.id == control_id]}),
        source=loaded.source,
        params=loaded.params,
    )
    records = stages or [
        StageRecord(name=n, status="ok", duration_s=0.0) for n in ("data", "pii", "train", "audit", "energy")
    ]
    return evaluate_controls([only], document, records, [], TODAY)[0].status


def test_every_control_has_fixtures() -> None:
    assert set(FIXTURES) == set(CONTROLS)


@pytest.mark.parametrize("control_id", sorted(CONTROLS))
def test_control_passes_on_its_pass_fixture(control_id: str) -> None:
    assert status_of(control_id, patch(base_document(), FIXTURES[control_id]["pass"])) == "pass"


@pytest.mark.parametrize("control_id", sorted(CONTROLS))
def test_control_fails_on_its_fail_fixture(control_id: str) -> None:
    assert status_of(control_id, patch(base_document(), FIXTURES[control_id]["fail"])) == "fail"


@pytest.mark.parametrize("control_id", sorted(CONTROLS))
def test_control_errors_when_its_stage_crashed(control_id: str) -> None:
    from auditor.policy.engine import _stages_used
    from auditor.stages import stage_of_section

    control = next(c for c in CONTROLS[control_id].pack.controls if c.id == control_id)
    broken = _stages_used(control, stage_of_section())[-1]
    stages = [
        StageRecord(
            name=n, status="error" if n == broken else "ok", duration_s=0.0, error="boom" if n == broken else None
        )
        for n in ("data", "pii", "anonymise", "train", "audit", "energy", "previous")
    ]
    # On its pass fixture (so that a `when` holds), a crash of the stage it reads is an error, never a pass.
    assert status_of(control_id, patch(base_document(), FIXTURES[control_id]["pass"]), stages) == "error"


def test_missing_evidence_is_an_error_never_a_pass() -> None:
    doc = base_document()
    doc["training"]["privacy"] = None
    assert status_of("GDPR-DP-002", doc) == "error"


def test_controls_doc_matches_the_packs() -> None:
    from auditor.policy.docs import controls_markdown

    expected = controls_markdown(PACKS)
    assert (Path(__file__).parents[1] / "docs" / "controls.md").read_text() == expected, (
        "run: audit policies docs > docs/controls.md"
    )


def test_builtin_packs_validate() -> None:
    result = CliRunner().invoke(app, ["policies", "validate", str(Path(__file__).parents[1] / "policies")])
    assert result.exit_code == 0, result.stderr
    assert f"{len(PACKS)} pack(s), {len(CONTROLS)} control(s) valid" in result.stderr


def test_list_and_explain() -> None:
    listed = CliRunner().invoke(app, ["policies", "list"])
    assert listed.exit_code == 0 and "GDPR-DP-002" in listed.stdout
    explained = CliRunner().invoke(app, ["policies", "explain", "GDPR-DP-002"])
    assert explained.exit_code == 0
    assert "training.privacy.epsilon <= $max_epsilon" in explained.stdout and "Remediation:" in explained.stdout
    unknown = CliRunner().invoke(app, ["policies", "explain", "NOPE-001"])
    assert unknown.exit_code == 2


def _as_task(document: dict[str, Any], name: str, family: str) -> dict[str, Any]:
    doc = copy.deepcopy(document)
    doc["training"]["task"] = {**doc["training"]["task"], "name": name, "family": family}
    return doc


def test_controls_for_another_task_are_skipped_with_the_reason() -> None:
    regression = _as_task(base_document(), "tabular-regression", "regression")
    for control_id in ("FAIR-GAP-001", "FAIR-DP-001", "EUAI-REG-001"):
        assert status_of(control_id, regression) == "skipped"
    assert status_of("GDPR-MIN-001", regression) == "pass"  # tabular: still applies
    text = _as_task(base_document(), "text-classification", "classification")
    assert status_of("GDPR-MIN-001", text) == "skipped"
    assert status_of("GDPR-KANON-001", text) == "skipped"
    loaded = CONTROLS["FAIR-GAP-001"]
    only = type(loaded)(
        pack=loaded.pack.model_copy(update={"controls": [c for c in loaded.pack.controls if c.id == "FAIR-GAP-001"]}),
        source=loaded.source,
        params=loaded.params,
    )
    records = [StageRecord(name=n, status="ok", duration_s=0.0) for n in ("data", "pii", "train", "audit", "energy")]
    [result] = evaluate_controls([only], regression, records, [], TODAY)
    assert result.reason == "not applicable: applies to classification; this run's task is tabular-regression"


def test_a_false_when_skips_and_an_undecidable_one_fails_closed() -> None:
    doc = copy.deepcopy(base_document())
    doc["run"]["config"]["train"]["sensitive_attribute"] = None
    doc["training"]["groups"] = None
    assert status_of("FAIR-GAP-001", doc) == "skipped"
    crashed = copy.deepcopy(base_document())
    crashed["training"] = None
    stages = [
        StageRecord(
            name=n, status="error" if n == "train" else "ok", duration_s=0.0, error="boom" if n == "train" else None
        )
        for n in ("data", "pii", "train", "audit", "energy")
    ]
    # The task is unknown when the train stage crashed: applicability cannot be decided, so error.
    for control_id in ("FAIR-GAP-001", "GDPR-MIN-001", "EUAI-REG-001"):
        assert status_of(control_id, crashed, stages) == "error"


def test_applies_to_names_known_tasks_only(tmp_path: Path) -> None:
    pack = yaml.safe_load((Path(__file__).parents[1] / "policies" / "fairness.yaml").read_text())
    pack["controls"][0]["applies_to"] = ["tabular-ranking"]
    path = tmp_path / "pack.yaml"
    path.write_text(yaml.safe_dump(pack))
    result = CliRunner().invoke(app, ["policies", "validate", str(path)])
    assert result.exit_code == 2
    assert "applies_to: unknown task or task family 'tabular-ranking'" in result.stderr
