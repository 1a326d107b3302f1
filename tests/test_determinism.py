"""The same config and seed give the same evidence, apart from timings and energy.

Two runs of a small copy of the example are compared field by field. What may differ
is listed here, with its reason; everything else must be equal, including the
findings counts, the masked samples, ε, the trained model's metrics, the privacy
audit's guesses, and every control that does not read a timing or an energy figure.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import auditor
from auditor.config import load_config
from auditor.evidence import dump_evidence
from auditor.policy.loader import load_packs
from auditor.policy.model import CelCheck
from tests.conftest import write_small_example

pytestmark = pytest.mark.slow  # two full runs

VOLATILE_KEYS = {
    "id",  # run.id: a fresh identifier per run
    "started_at",  # wall-clock times
    "finished_at",
    "duration_s",  # timings
    "seconds",
    "seconds_per_epoch",
    "training_seconds",
    "rows_per_second",
    "time_ratio",  # seconds per epoch, DP over non-private
}
VOLATILE_SECTIONS = {"energy"}  # measured, so it varies run to run
DERIVED = {"summary", "verdict"}  # follow from the controls, some of which read energy or time
TIMING_OR_ENERGY = re.compile(r"\benergy\b|seconds|duration|time_ratio")


def _strip(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in VOLATILE_KEYS}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def _volatile_controls(config: Path) -> set[str]:
    """Controls whose check reads a timing or an energy figure."""
    volatile = set()
    policies = load_config(config).policies
    for loaded in load_packs(policies.packs, policies.params, config.parent):
        for control in loaded.pack.controls:
            check = control.check
            text = f"{check.cel} {check.observed or ''}" if isinstance(check, CelCheck) else check.metric
            if TIMING_OR_ENERGY.search(text):
                volatile.add(control.id)
    return volatile


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any], Path]:
    # secure_rng off: the DP noise then follows from the seed too, so the whole evidence must repeat.
    overrides = {"train.epochs": 2, "train.privacy": {"target_epsilon": 3.0, "secure_rng": False}}
    config = write_small_example(tmp_path_factory.mktemp("det"), rows=300, **overrides)
    first, second = (json.loads(dump_evidence(auditor.run(config, seed=11))) for _ in range(2))
    return first, second, config


def test_same_seed_same_evidence(two_runs: tuple[dict[str, Any], dict[str, Any], Path]) -> None:
    first, second, config = two_runs
    volatile = _volatile_controls(config)
    assert {"SUS-ENERGY-001", "EUAI-XI-002"} <= volatile  # the filter finds what it should
    for key in sorted(set(first) | set(second)):
        if key in VOLATILE_SECTIONS | DERIVED:
            continue
        if key == "controls":
            for a, b in zip(first[key], second[key], strict=True):
                if a["id"] in volatile:
                    assert (a["id"], a["severity"]) == (b["id"], b["severity"])
                else:
                    assert _strip(a) == _strip(b), a["id"]
            continue
        assert _strip(first.get(key)) == _strip(second.get(key)), key


def test_the_run_did_real_work(two_runs: tuple[dict[str, Any], dict[str, Any], Path]) -> None:
    """Equal evidence is only meaningful if the figures come from training and scanning."""
    first, _, _ = two_runs
    assert first["pii"]["findings"] > 0
    assert first["training"]["privacy"]["epsilon"] > 0
    assert 0.0 < first["training"]["metrics"]["accuracy"] < 1.0
    assert first["audit"]["canary"]["guesses"] > 0
    assert set(first["energy"]) and first["stages"]


def test_a_different_seed_changes_the_model(two_runs: tuple[dict[str, Any], dict[str, Any], Path]) -> None:
    """The comparison can fail: another seed trains another model."""
    first, _, config = two_runs
    other = json.loads(dump_evidence(auditor.run(config, seed=12)))
    assert _strip(other["training"]["metrics"]) != _strip(first["training"]["metrics"])
