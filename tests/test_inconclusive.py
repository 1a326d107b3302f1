"""Controls that measure a sample decide on an interval, and say 'inconclusive' when it cannot decide."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from auditor.evidence import parse_evidence
from auditor.policy.engine import evaluate_controls, gate
from auditor.policy.loader import load_packs
from auditor.privacy_audit.mia import advantage_interval, attack
from auditor.render.junit import junit_xml
from auditor.train.groups import proportion_interval

FIXTURE = Path(__file__).parent / "data" / "evidence.json"


def _status(pack: str, control_id: str, patch: dict[str, Any]) -> tuple[str, str]:
    document = json.loads(FIXTURE.read_text())
    for path, value in patch.items():
        node = document
        *parents, leaf = path.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = value
    for stage in document["stages"]:
        if stage["name"] == "previous" and document.get("previous") is not None:
            stage.update(status="ok", error=None)
    evidence = parse_evidence(json.dumps(document))
    results = evaluate_controls(load_packs([pack], {}), document, evidence.stages, [], _today())
    control = next(c for c in results if c.id == control_id)
    return control.status, control.reason


def _today() -> Any:
    import datetime as dt

    return dt.date(2026, 12, 2)


def test_a_membership_attack_on_36_and_36_rows_is_not_a_verdict() -> None:
    """The wine case: advantage 0.111 on 36 members and 36 non-members failed a blocking control."""
    rng = np.random.default_rng(0)
    members, non_members = rng.normal(0.0, 1.0, 36), rng.normal(0.0, 1.0, 36)
    result = attack("DP model", members, non_members, members + 1, non_members + 1)
    assert result.advantage_low is not None and result.advantage_high is not None
    assert result.advantage_low == 0.0 and result.advantage_high > 0.5  # the interval says how little 36 rows show
    patch = {
        "audit.mia_dp.advantage": 0.111,
        "audit.mia_dp.advantage_low": result.advantage_low,
        "audit.mia_dp.advantage_high": result.advantage_high,
        "audit.mia_dp.non_members": 36,
    }
    status, reason = _status("gdpr", "GDPR-AUDIT-002", patch)
    assert status == "inconclusive" and "n = 36 is below the 100" in reason
    status, reason = _status("gdpr", "GDPR-AUDIT-002", {**patch, "audit.mia_dp.non_members": 400})
    assert status == "inconclusive" and "contains the limit" in reason


def test_the_interval_decides_pass_and_fail() -> None:
    base = {"audit.mia_dp.non_members": 2000}
    passing = {
        **base,
        "audit.mia_dp.advantage": 0.03,
        "audit.mia_dp.advantage_low": 0.0,
        "audit.mia_dp.advantage_high": 0.09,
    }
    failing = {
        **base,
        "audit.mia_dp.advantage": 0.3,
        "audit.mia_dp.advantage_low": 0.23,
        "audit.mia_dp.advantage_high": 0.37,
    }
    assert _status("gdpr", "GDPR-AUDIT-002", passing)[0] == "pass"
    assert _status("gdpr", "GDPR-AUDIT-002", failing)[0] == "fail"


def test_dkw_interval_by_hand() -> None:
    # Massart's DKW: each ECDF within sqrt(ln(4 / 0.05) / (2 n)); two samples of 2,000 give 2 x 0.0331.
    low, high = advantage_interval(0.04, 2000, 2000)
    assert high == pytest.approx(0.04 + 2 * np.sqrt(np.log(80) / 4000))
    assert low == 0.0
    assert advantage_interval(0.5, 2000, 2000) == pytest.approx((0.5 - 0.0662, 0.5 + 0.0662), abs=1e-4)


def test_a_three_row_group_cannot_fail_the_fairness_gate() -> None:
    """The anes96 case: a 3-row test group failed FAIR-GAP-001."""
    low, high = proportion_interval(1 / 3, 3, 0.05 / 4)
    assert low < 0.01 and high > 0.95
    patch = {
        "training.groups.gap_dp": 0.4,
        "training.groups.gap_low": 0.0,
        "training.groups.gap_high": 0.95,
        "training.groups.smallest_group": 3,
    }
    status, reason = _status("fairness", "FAIR-GAP-001", patch)
    assert status == "inconclusive" and "n = 3 is below the 30" in reason


def test_inconclusive_does_not_block_unless_asked() -> None:
    evidence = parse_evidence(FIXTURE.read_text())
    controls = [
        c.model_copy(update={"status": "inconclusive", "reason": "interval [0, 0.2] contains the limit 0.1"})
        if c.id == "GDPR-AUDIT-002"
        else c
        for c in evidence.controls
    ]
    summary, _ = gate(controls, evidence.stages, "critical", "info")
    assert "GDPR-AUDIT-002" in summary.inconclusive and "GDPR-AUDIT-002" not in summary.blocking
    assert "inconclusive" in summary.line
    strict, verdict = gate(controls, evidence.stages, "critical", "info", fail_on_inconclusive=True)
    assert "GDPR-AUDIT-002" in strict.blocking and verdict == "fail"
    rendered = evidence.model_copy(update={"controls": controls, "summary": summary})
    case = next(
        c for c in ET.fromstring(junit_xml(rendered)).iter("testcase") if c.get("name", "").startswith("GDPR-AUDIT-002")
    )
    skipped = case.find("skipped")
    assert skipped is not None and skipped.get("message", "").startswith("inconclusive, does not block")
    assert case.find("failure") is None


def test_energy_comparisons_within_the_noise_floor_do_not_flip() -> None:
    """Identical reruns gave 6.3e-5, 9.1e-5 and 2.4e-5 kWh; SUS-REG-001 and SUS-DP-001 flipped on them."""
    from auditor.energy.analysis import ratio_interval

    floor = 1e-4
    for now, before in ((9.1e-5, 6.3e-5), (2.4e-5, 9.1e-5), (6.3e-5, 2.4e-5)):
        low, high = ratio_interval(now, before, floor)
        assert low == 0.0 and high is None  # nothing can be said about ratios of numbers this small
    low, high = ratio_interval(0.03, 0.01, floor)  # large runs decide
    assert high is not None and 2.9 < low < 3.0 < high < 3.1
    previous = {
        "source": "test",
        "metrics": {
            "run_id": "b",
            "started_at": "2026-11-01T00:00:00+00:00",
            "verdict": "pass",
            "epsilon": 3.0,
            "accuracy": 0.8,
            "utility_metric": "accuracy",
            "utility": 0.8,
            "pii_rows": 700,
            "pii_columns": [],
            "energy_kwh": 6.3e-5,
            "emissions_kg": 0.0,
        },
        "energy_increase": 0.44,
        "energy_increase_low": -1.0,
        "energy_increase_high": None,
    }
    status, reason = _status("sustainability", "SUS-REG-001", {"previous": previous})
    assert status == "inconclusive" and "too little data" in reason
    tiny = {"energy.dp_energy_ratio": 2.91, "energy.dp_energy_ratio_low": 0.0, "energy.dp_energy_ratio_high": None}
    assert _status("sustainability", "SUS-DP-001", tiny)[0] == "inconclusive"


def test_the_new_settings_change_behaviour() -> None:
    """gradient_canaries, gpu_ids, noise_floor_kwh and --fail-on-inconclusive each change what happens."""
    import time

    import torch

    from auditor.cli.run import _with_gate
    from auditor.config import AuditConfig, EnergyConfig
    from auditor.energy import EnergyMeter, energy_section
    from auditor.energy.meter import _tracker_kwargs
    from auditor.privacy_audit.gradient import gradient_probe
    from auditor.train.accounting import plan_privacy

    base = {"project": "p", "data": {"path": "x.csv", "target": "y"}, "energy": {"country_iso_code": "FRA"}}
    config = AuditConfig.model_validate(base)
    plan = plan_privacy(1000, 100, 2, config.train.privacy)
    off = AuditConfig.model_validate({**base, "audit": {"gradient_canaries": 0}})
    assert gradient_probe(off, plan, 0, False) == (None, "audit.gradient_canaries is 0")
    assert gradient_probe(config, plan, 0, True)[0] is None  # DDP: no white-box audit, and it says why
    hundred = AuditConfig.model_validate({**base, "audit": {"gradient_canaries": 100}})
    probe, _ = gradient_probe(hundred, plan, 0, False)
    assert probe is not None

    class Optimizer:
        def __init__(self) -> None:
            self.params = [torch.nn.Parameter(torch.zeros(30, 30))]

        def _add_noise(self, summed: list[torch.Tensor]) -> None:
            return None

    probe(Optimizer())
    assert probe.canaries is not None and probe.canaries.count == 100

    assert _tracker_kwargs(EnergyConfig(country_iso_code="FRA", gpu_ids=[3]))["gpu_ids"] == [3]
    assert "gpu_ids" not in _tracker_kwargs(EnergyConfig(country_iso_code="FRA"))

    meter = EnergyMeter(EnergyConfig(country_iso_code="FRA", measure_power_secs=0.2))
    for stage in ("train.baseline", "train.dp"):
        with meter.track(stage):
            time.sleep(0.05)
    exact = energy_section(meter, EnergyConfig(country_iso_code="FRA", noise_floor_kwh=0.0), 1, [])
    assert exact.dp_energy_ratio_low == exact.dp_energy_ratio_high == exact.dp_energy_ratio
    floored = energy_section(meter, EnergyConfig(country_iso_code="FRA", noise_floor_kwh=1.0), 1, [])
    assert floored.dp_energy_ratio_high is None and floored.noise_floor_kwh == 1.0

    assert not config.policies.fail_on_inconclusive
    assert _with_gate(config, None, None, fail_on_inconclusive=True).policies.fail_on_inconclusive


def test_an_inconclusive_control_says_what_sample_would_decide() -> None:
    """Estimate 0.05, interval [0, 0.15] on 400 non-members, limit 0.1: the upper half-width 0.10 must shrink
    to the gap 0.05, so (0.10 / 0.05)^2 = 4 times the sample, 1,600."""
    patch = {
        "audit.mia_dp.advantage": 0.05,
        "audit.mia_dp.advantage_low": 0.0,
        "audit.mia_dp.advantage_high": 0.15,
        "audit.mia_dp.non_members": 400,
    }
    status, reason = _status("gdpr", "GDPR-AUDIT-002", patch)
    assert status == "inconclusive"
    assert "about 1,600 rather than 400 (non members) would decide, if the estimate 0.05 held" in reason
    # Above the limit the lower half-width decides: estimate 0.2, interval [0.05, 0.35] → (0.15 / 0.1)^2 → 900.
    patch.update(
        {"audit.mia_dp.advantage": 0.2, "audit.mia_dp.advantage_low": 0.05, "audit.mia_dp.advantage_high": 0.35}
    )
    status, reason = _status("gdpr", "GDPR-AUDIT-002", patch)
    assert status == "inconclusive" and "about 900 rather than 400" in reason
