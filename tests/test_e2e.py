"""``audit run`` end to end on a small copy of the bundled example."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from auditor.evidence import dump_evidence, load_evidence
from tests.conftest import E2E

pytestmark = pytest.mark.slow  # every test reads one full audit run

OUTPUTS = ["evidence.json", "report.pdf", "report.html", "junit.xml", "results.sarif", "summary.md", "README.md"]


def test_run_writes_every_output_and_exits_with_the_verdict(e2e: E2E) -> None:
    evidence = load_evidence(e2e.out / "evidence.json")
    assert e2e.exit_code == (0 if evidence.verdict == "pass" else 1), e2e.stderr
    statuses = {stage.name: stage.status for stage in evidence.stages}
    skipped = {"previous": "skipped", "anonymise": "skipped"}  # no --baseline; the example has no text to anonymise
    assert statuses == {**dict.fromkeys(["data", "pii", "train", "audit", "energy"], "ok"), **skipped}
    for name in OUTPUTS:
        assert (e2e.out / name).stat().st_size > 0, name
    assert not list(e2e.out.glob(".*.tmp")), "temporary files left behind"


def test_no_network_connection_attempted(e2e: E2E) -> None:
    assert e2e.exit_code in (0, 1), e2e.stderr
    assert e2e.network.attempts == []


def test_evidence_has_the_contract_keys(e2e: E2E) -> None:
    doc = json.loads((e2e.out / "evidence.json").read_text(encoding="utf-8"))
    run = doc["run"]
    for key in ("id", "started_at", "config_sha256", "dataset_sha256", "seed", "versions"):
        assert key in run
    assert set(run["versions"]) >= {
        "python",
        "torch",
        "opacus",
        "presidio_analyzer",
        "codecarbon",
        "weasyprint",
        "auditor",
    }
    pii = doc["pii"]
    assert pii["rows_scanned"] == 800
    assert {"name", "entities", "rows_with_pii", "masked_examples"} <= set(pii["columns"][0])
    assert "special_categories" in pii
    assert {"quasi_identifiers", "k"} <= set(pii["k_anonymity"])
    privacy = doc["training"]["privacy"]
    for key in (
        "accountant",
        "epsilon",
        "delta",
        "noise_multiplier",
        "sample_rate",
        "steps",
        "epochs",
        "max_grad_norm",
        "poisson_sampling",
    ):
        assert key in privacy
    training = doc["training"]
    for key in ("metrics", "seconds_per_epoch", "features", "excluded_columns"):
        assert key in training
    assert {"metrics", "seconds_per_epoch"} <= set(training["baseline"])
    energy = doc["energy"]
    assert {"energy_kwh", "emissions_kg", "duration_s"} <= set(energy["total"])
    assert {"cpu", "gpu", "ram"} == set(energy["method"])
    for key in ("country_iso_code", "carbon_intensity_g_per_kwh", "pue"):
        assert key in energy
    control = doc["controls"][0]
    assert {"id", "title", "severity", "refs", "status", "observed", "expected"} <= set(control)
    assert doc["verdict"] in {"pass", "fail"}


def test_direct_identifiers_are_excluded_from_features(e2e: E2E) -> None:
    evidence = load_evidence(e2e.out / "evidence.json")
    assert evidence.pii is not None and evidence.training is not None
    for column in ("full_name", "email", "phone", "application_id"):
        assert column in evidence.pii.direct_identifiers
        assert column not in evidence.training.features
    excluded = {x.name for x in evidence.training.excluded_columns}
    assert {"full_name", "email", "phone", "notes"} <= excluded


def test_evidence_round_trips_byte_for_byte(e2e: E2E) -> None:
    path = e2e.out / "evidence.json"
    assert dump_evidence(load_evidence(path)) == path.read_text(encoding="utf-8")


def _raw_values(config: Path) -> list[str]:
    with (config.parent / "loans.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    values = [r["email"] for r in rows] + [r["full_name"] for r in rows] + [r["phone"] for r in rows]
    return [v for v in values if len(v) >= 6]


def _output_texts(out: Path) -> dict[str, str]:
    texts = {
        p.name: p.read_text(encoding="utf-8")
        for p in out.iterdir()
        if p.suffix in {".json", ".html", ".xml", ".sarif", ".md"}
    }
    texts["report.pdf (text)"] = "\n".join(page.extract_text() or "" for page in PdfReader(out / "report.pdf").pages)
    return texts


def test_no_raw_personal_data_in_any_output(e2e: E2E) -> None:
    values = _raw_values(e2e.config)
    for name, text in _output_texts(e2e.out).items():
        leaked = [v for v in values if v in text]
        assert not leaked, f"{name} contains raw values such as {leaked[0]!r}"
    assert not [v for v in values if v in e2e.stderr]


def test_pdf_is_pdfa3_with_evidence_attached(e2e: E2E) -> None:
    import pikepdf

    with pikepdf.open(e2e.out / "report.pdf") as pdf:
        attached = pdf.attachments["evidence.json"].get_file().read_bytes()
        meta = pdf.open_metadata()
        assert meta.get("pdfaid:part") == "3"
        assert meta.get("pdfaid:conformance") == "B"
    assert attached == (e2e.out / "evidence.json").read_bytes()
