"""The data subject as the privacy unit: rows per person, group privacy, and user-level DP-SGD."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from conftest import write_small_example
from torch import nn
from typer.testing import CliRunner

from auditor.train.bk import clipped_grads
from auditor.train.loop import cross_entropy
from auditor.train.subjects import group_privacy, with_canary_subjects


def test_group_privacy_by_hand() -> None:
    assert group_privacy(2.0, 1e-5, 1) == (2.0, 1e-5)
    epsilon, delta = group_privacy(1.0, 1e-6, 3)
    assert epsilon == 3.0
    assert delta == pytest.approx(3 * math.exp(2.0) * 1e-6)
    assert group_privacy(3.0, 1e-5, 30) == (90.0, 1.0)  # k e^((k-1) eps) delta above 1: capped, no guarantee


def test_canaries_are_people_of_their_own() -> None:
    codes = np.array([0, 0, 1, 2, 2, 2])
    trained = with_canary_subjects(codes, np.array([1]), included_canaries=2)
    assert trained.tolist() == [0, 1, 2, 2, 2, 3, 4]


def test_per_person_clipping_matches_autograd_person_by_person() -> None:
    """Book-keeping with groups equals clipping each person's summed gradient computed separately."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))
    x, y = torch.randn(12, 5) * 3, torch.randint(0, 3, (12,))
    person = torch.tensor([0, 0, 1, 2, 2, 2, 3, 4, 4, 5, 6, 6])
    clipped_grads(model, x, y, 0.5, loss_fn=cross_entropy, groups=person)
    got = [p.grad.clone() for p in model.parameters() if p.grad is not None]
    expected = [torch.zeros_like(p) for p in model.parameters()]
    for who in person.unique():
        rows = person == who
        model.zero_grad()
        cross_entropy(model(x[rows]), y[rows]).sum().backward()
        grads = [p.grad.clone() for p in model.parameters() if p.grad is not None]
        norm = torch.sqrt(sum(g.pow(2).sum() for g in grads))  # type: ignore[arg-type]
        for total, g in zip(expected, grads, strict=True):
            total.add_(g * min(1.0, 0.5 / (float(norm) + 1e-6)))
    for a, b in zip(got, expected, strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def _with_people(directory: Path, rows: int = 800, per_person: int = 4) -> Path:
    """The small example with a customer_id column: people with ``per_person`` rows each."""
    config = write_small_example(directory, rows=rows)
    data = directory / "loans.csv"
    with data.open(newline="", encoding="utf-8") as src:
        table = list(csv.reader(src))
    table[0].append("customer_id")
    for i, row in enumerate(table[1:]):
        row.append(f"C{i // per_person:05d}")
    with data.open("w", newline="", encoding="utf-8") as dst:
        csv.writer(dst, lineterminator="\n").writerows(table)
    return config


def _configure(path: Path, **privacy: object) -> Path:
    config = yaml.safe_load(path.read_text())
    config["data"]["subject_id"] = "customer_id"
    config["train"]["privacy"] = {"noise_multiplier": 1.2, "max_grad_norm": 1.0, "accountant": "rdp", **privacy}
    config["audit"] = {"canaries": 40, "gradient_canaries": 0, "membership_inference": False}
    config["energy"]["enabled"] = False
    out = path.with_name(f"audit-{privacy.get('unit', 'example')}.yaml")
    out.write_text(yaml.safe_dump(config))
    return out


@pytest.mark.slow
def test_per_person_guarantee_by_group_privacy_and_by_user_level_training(tmp_path: Path) -> None:
    from auditor.config import load_config
    from auditor.pipeline import run

    base = _with_people(tmp_path / "people")
    example = run(load_config(_configure(base)))
    assert example.training is not None and example.training.privacy is not None
    subjects = example.training.subjects
    assert subjects is not None and subjects.source == "config" and subjects.column == "customer_id"
    assert subjects.max_rows_per_subject == 4 and subjects.unit == "example"
    assert "customer_id" in {e.name for e in example.training.excluded_columns}
    epsilon, delta = example.training.privacy.epsilon, example.training.privacy.delta
    assert subjects.per_person_epsilon == pytest.approx(4 * epsilon, abs=1e-5)
    assert subjects.per_person_delta == pytest.approx(min(1.0, 4 * math.exp(3 * epsilon) * delta))

    person = run(load_config(_configure(base, unit="subject")))
    training = person.training
    assert training is not None and training.privacy is not None and training.subjects is not None
    assert all(s.status in ("ok", "skipped") for s in person.stages), person.stages
    assert training.privacy.clipping == "per-person" and "one person" in training.privacy.unit
    assert training.subjects.unit == "subject"
    # epsilon is per person: people are sampled, so the same sigma gives a per-person epsilon far below
    # what group privacy gives a person under example-level training.
    assert training.subjects.per_person_epsilon == training.privacy.epsilon
    assert training.privacy.epsilon < subjects.per_person_epsilon
    people = training.subjects.subjects + 20  # plus the included canaries, each a person (about half of 40)
    assert training.privacy.sample_rate == pytest.approx(training.privacy.expected_batch_size / people, rel=0.2)
    assert training.utility.value is not None and training.utility.value > 0.5


def test_unit_subject_needs_a_subject_column(tmp_path: Path) -> None:
    from auditor.cli import app

    config = write_small_example(tmp_path, rows=200)
    data = yaml.safe_load(config.read_text())
    data["data"].pop("subject_id", None)
    data["train"]["privacy"]["unit"] = "subject"
    config.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(app, ["run", str(config), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "needs data.subject_id" in result.stderr
    data["data"]["subject_id"] = "no_such_column"
    config.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(app, ["run", str(config), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "subject column 'no_such_column' (data.subject_id) not found" in result.stderr
    data["data"]["subject_id"] = "defaulted"
    config.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(app, ["run", str(config), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "cannot be the target" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_subject_column_is_proposed_from_the_scan(e2e: object) -> None:
    import json

    import pandas as pd

    from auditor.evidence import PiiSection
    from auditor.train.subjects import propose

    out: Path = e2e.out  # type: ignore[attr-defined]
    evidence = json.loads((out / "evidence.json").read_text())
    subjects = evidence["training"]["subjects"]
    assert subjects["source"] == "config" and subjects["column"] == "email" and subjects["unit"] == "subject"
    assert subjects["rows"] >= subjects["subjects"] >= 1
    # Without data.subject_id, the scan's email column is proposed.
    frame = pd.read_csv(e2e.config.parent / "loans.csv")  # type: ignore[attr-defined]
    proposal = propose(PiiSection.model_validate(evidence["pii"]), frame)
    assert proposal is not None and proposal[0] == "email" and "email addresses" in proposal[1]
    assert propose(None, frame) is None
    html = (out / "report.html").read_text()
    assert "set in data.subject_id" in html and "Per person" in html
