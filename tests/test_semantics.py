"""Art. 9 signals beyond the text scan: declarations, column names, the sensitive attribute and the target."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from auditor.config import AuditConfig
from auditor.pii.semantics import extra_special_categories


def _config(**data: Any) -> AuditConfig:
    train = data.pop("train", {})
    return AuditConfig.model_validate(
        {"project": "p", "data": {"path": "x.csv", **data}, "train": train, "energy": {"country_iso_code": "FRA"}}
    )


def _found(config: AuditConfig, frame: pd.DataFrame) -> dict[tuple[str, str], str]:
    return {(s.column, s.category): s.signal for s in extra_special_categories(config, frame)}


def test_anes96_party_identification_declared_and_vote_not_a_category() -> None:
    frame = pd.DataFrame({"PID": [0, 1, 6, 3] * 10, "vote": ["Clinton", "Dole"] * 20, "age": range(40)})
    config = _config(target="vote", columns={"PID": {"special_category": "POLITICAL_OPINION"}})
    found = _found(config, frame)
    assert found == {("PID", "POLITICAL_OPINION"): "declared in data.columns.PID"}


def test_la_riots_race_is_flagged_by_its_name_even_as_codes() -> None:
    frame = pd.DataFrame({"race": [1, 2, 3, 1] * 5, "age": range(20), "killed": [0, 1] * 10})
    found = _found(_config(target="killed"), frame)
    assert ("race", "ETHNIC_ORIGIN") in found and found[("race", "ETHNIC_ORIGIN")] == "column name"


def test_fair_religious_sensitive_attribute_is_a_review_item() -> None:
    frame = pd.DataFrame({"religious": [1, 2, 3, 4] * 5, "affairs": [0, 1] * 10, "age": range(20)})
    found = _found(_config(target="affairs", train={"sensitive_attribute": "religious"}), frame)
    assert ("religious", "RELIGION") in found


def test_breast_cancer_is_health_data_by_its_target_and_by_declaration() -> None:
    frame = pd.DataFrame({"mean radius": [1.0, 2.0] * 10, "target": ["malignant", "benign"] * 10})
    found = _found(_config(target="target", special_categories=["HEALTH"]), frame)
    assert found[("(dataset)", "HEALTH")] == "declared in data.special_categories"
    assert "target (data.target): its values indicate HEALTH" in found[("target", "HEALTH")]


def test_a_plain_table_has_none() -> None:
    frame = pd.DataFrame({"income": [1.0, 2.0] * 10, "gender": ["female", "male"] * 10, "defaulted": [0, 1] * 10})
    assert _found(_config(target="defaulted", train={"sensitive_attribute": "gender"}), frame) == {}


def test_labels_and_groups_that_are_personal_data_are_coded() -> None:
    import json
    from pathlib import Path

    import torch

    from auditor.evidence import parse_evidence
    from auditor.stages.train import coded_labels

    evidence = parse_evidence((Path(__file__).parent / "data" / "evidence.json").read_text())
    assert evidence.training is not None and evidence.pii is not None and evidence.training.groups is not None
    document = json.loads(evidence.pii.model_dump_json())
    for column in document["columns"]:
        if column["name"] in ("defaulted", "gender"):
            column["rows_with_pii"] = 7  # as if the labels and the groups were names
    pii = type(evidence.pii).model_validate(document)
    training = evidence.training.model_copy(
        update={"model": evidence.training.model.model_copy(update={"classes": ["Ann Smith", "Bob Jones"]})}
    )
    labels = torch.tensor([0, 1, 1, 0, 1])
    coded = coded_labels(training, pii, "defaulted", "gender", labels)
    assert coded.model.classes == ["class 1 (2 training rows)", "class 2 (3 training rows)"]
    assert coded.groups is not None and [r.group for r in coded.groups.rows][:2] == ["group 1", "group 2"]
    text = coded.model_dump_json()
    assert "Ann Smith" not in text and "female" not in text
    # The real scan found nothing in either column: the names are still coded, because the values are checked too.
    by_value = coded_labels(training, evidence.pii, "defaulted", "gender", labels)
    assert by_value.model.classes == ["class 1 (2 training rows)", "class 2 (3 training rows)"]
    plain = training.model_copy(update={"model": training.model.model_copy(update={"classes": ["no", "yes"]})})
    untouched = coded_labels(plain, evidence.pii, "defaulted", "gender", labels)
    assert untouched.model.classes == ["no", "yes"]
    assert [r.group for r in untouched.groups.rows] == [r.group for r in evidence.training.groups.rows]


def test_a_two_value_column_of_names_is_not_a_direct_identifier() -> None:
    from auditor.pii.profile import ColumnProfile
    from auditor.pii.summary import ColumnStats, _identifier

    profile = ColumnProfile(name="vote", kind="categorical")
    stats = ColumnStats(3)
    stats.non_null, stats.distinct, stats.direct_rows = 1000, 2, 1000
    assert _identifier(profile, stats, "PERSON", 1.0) == "none"
    stats.distinct = 950
    assert _identifier(profile, stats, "PERSON", 1.0) == "direct"


@pytest.mark.parametrize(
    ("values", "personal"),
    [
        (["good", "bad"], False),
        (["female", "male", "other"], False),
        (["Christian", "Muslim", "none"], False),
        (["18-25", "26-40", "41+"], False),
        (["0", "1"], False),
        (["a.b@example.org", "c.d@example.org"], True),
        (["+44 20 7946 0958", "other"], True),
        (["Margaret Thompson", "Rajesh Kumar"], True),
    ],
)
def test_labels_are_checked_for_direct_identifiers(values: list[str], personal: bool) -> None:
    from auditor.pii.labels import personal_values

    assert personal_values(values) is personal
