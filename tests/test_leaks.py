"""Canary values planted in the data must never reach any of our outputs.

A copy of the example gets one row of unmistakable personal data (a name, an email,
a phone number, a street address, and a card number, an IBAN and an SSN in the free
text). ``audit --verbose run`` then records into its own history, and ``audit scan``
writes a findings file. Every output is searched for every canary, in its raw form
and with separators stripped: the files, the PDF's text layer, stderr with verbose
logging on, and the bytes of the history database.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from auditor.cli import app
from auditor.evidence import load_evidence
from tests.conftest import write_small_example

pytestmark = pytest.mark.slow  # a full run with planted canaries

CANARIES = {
    "full_name": "Quintessa Zebulon-Marchbanks",
    "email": "quintessa.zebulon@canary-mail.org",
    "phone": "(415) 555-0199",
    "street_address": "742 Evergreen Terrace",
}
CARD, IBAN, SSN = "4111 1111 1111 1111", "GB82 WEST 1234 5698 7654 32", "078-05-1120"
HEADER = "header.canary@leak-mail.org"  # personal data used as a column name
NOTE = f"Customer paid with card {CARD}, refund to IBAN {IBAN}, SSN {SSN} on file."


@dataclass
class Leaks:
    texts: dict[str, str]
    evidence_path: Path


def _forms(value: str) -> set[str]:
    """The value as written, and with spaces, dashes, dots and brackets removed."""
    return {value, re.sub(r"[\s\-().]", "", value)}


def _plant(config: Path) -> None:
    path = config.parent / "loans.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows[1].update(CANARIES)
    rows[2]["notes"] = NOTE
    for i, row in enumerate(rows):
        row[HEADER] = f"segment {i % 3}"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def leaks(tmp_path_factory: pytest.TempPathFactory) -> Leaks:
    work = tmp_path_factory.mktemp("leaks")
    config = write_small_example(work / "example", rows=300, **{"train.epochs": 2})
    _plant(config)
    out, history = work / "out", work / "history.db"
    run = CliRunner().invoke(
        app, ["--verbose", "run", str(config), "-o", str(out), "--history", f"sqlite:///{history}"]
    )
    assert run.exit_code in (0, 1), run.output
    scan = CliRunner().invoke(
        app,
        [
            "--verbose",
            "scan",
            str(config.parent / "loans.csv"),
            "--output-format",
            "json",
            "--findings",
            str(work / "f.jsonl"),
        ],
    )
    assert scan.exit_code == 0, scan.output
    texts = {"run stderr": run.stderr, "run stdout": run.stdout, "scan stdout": scan.stdout, "scan stderr": scan.stderr}
    for path in sorted(out.iterdir()):
        if path.suffix == ".pdf":
            texts[f"{path.name} (text)"] = "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
        else:
            texts[path.name] = path.read_text(encoding="utf-8")
    texts["findings.jsonl"] = (work / "f.jsonl").read_text(encoding="utf-8")
    for path in sorted(work.glob("history.db*")):
        texts[path.name] = path.read_bytes().decode("latin-1")
    return Leaks(texts, out / "evidence.json")


def test_the_canaries_were_seen(leaks: Leaks) -> None:
    """Without this, a run that never read the planted row would pass the leak check."""
    evidence = load_evidence(leaks.evidence_path)
    assert evidence.pii is not None
    found = {c.name: set(c.entities) for c in evidence.pii.columns}
    assert "EMAIL_ADDRESS" in found["email"]
    assert "h***@l***.o**" in found, "the column named with an email was not scanned under its masked name"
    assert {"CREDIT_CARD", "IBAN_CODE"} <= found["notes"]
    assert "pii: column email" in leaks.texts["run stderr"], "verbose logging printed nothing"
    assert "history.db" in leaks.texts, "the run was not recorded"
    json.loads(leaks.texts["scan stdout"])


@pytest.mark.parametrize(
    "value", [*CANARIES.values(), CARD, IBAN, SSN, HEADER], ids=[*CANARIES, "card", "iban", "ssn", "column-name"]
)
def test_no_canary_in_any_output(leaks: Leaks, value: str) -> None:
    for name, text in leaks.texts.items():
        for form in _forms(value):
            assert form not in text, f"{name} contains the raw value {form!r}"


# Labels and groups that are personal data (#21 class 2): emails as the target's classes, and person names as the
# sensitive attribute's groups. Both runs must print neither, with the scan on and with it off.
LABEL_EMAILS = ("desk.alpha@canary-corp.org", "desk.omega@canary-corp.org")
GROUP_NAMES = ("Ottoline Featherstonehaugh", "Bartholomew Quigglesworth", "Perpetua Underhill-Smythe")


@pytest.fixture(scope="module", params=[True, False], ids=["scan on", "scan off"])
def label_leaks(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    work = tmp_path_factory.mktemp("labels")
    rows = ["amount,tenure,handler,routed_to"]
    for i in range(240):
        amount = (i * 37) % 100
        rows.append(f"{amount},{(i * 11) % 9},{GROUP_NAMES[i % 3]},{LABEL_EMAILS[int(amount >= 50)]}")
    (work / "d.csv").write_text("\n".join(rows) + "\n")
    config = {
        "project": "labels",
        "data": {"path": "d.csv", "target": "routed_to"},
        "train": {
            "epochs": 1,
            "batch_size": 32,
            "sensitive_attribute": "handler",
            "privacy": {"noise_multiplier": 1.0, "accountant": "rdp"},
        },
        "pii": {"workers": 1, "enabled": request.param},
        "energy": {"country_iso_code": "FRA"},
    }
    import yaml

    (work / "audit.yaml").write_text(yaml.safe_dump(config))
    out = work / "out"
    run = CliRunner().invoke(
        app, ["--verbose", "run", str(work / "audit.yaml"), "-o", str(out), "--history", f"sqlite:///{work / 'h.db'}"]
    )
    assert run.exit_code in (0, 1), run.output
    texts = {"stderr": run.stderr, "stdout": run.stdout}
    for path in sorted(out.iterdir()):
        if path.suffix == ".pdf":
            texts[path.name] = "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
        else:
            texts[path.name] = path.read_text(encoding="utf-8")
    for path in sorted(work.glob("h.db*")):
        texts[path.name] = path.read_bytes().decode("latin-1")
    evidence = load_evidence(out / "evidence.json")
    assert evidence.training is not None and evidence.training.groups is not None, "the groups were not computed"
    assert evidence.data is not None and list(evidence.data.classes or {}) == ["class 1", "class 2"]
    assert [r.group for r in evidence.training.groups.rows] == ["group 1", "group 2", "group 3"]
    return texts


@pytest.mark.parametrize("value", [*LABEL_EMAILS, *GROUP_NAMES, "canary-corp", "Featherstonehaugh"])
def test_no_label_or_group_name_in_any_output(label_leaks: dict[str, str], value: str) -> None:
    for name, text in label_leaks.items():
        assert value not in text, f"{name} contains the raw value {value!r}"
