"""Renderers: SARIF and JUnit validity, tamper evidence and signing, re-rendering from evidence."""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pikepdf
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from auditor.cli import app
from auditor.evidence import Evidence, load_evidence
from auditor.render import RenderContext, render_outputs, write_outputs
from tests.conftest import E2E

pytestmark = pytest.mark.slow  # full runs and PDF rendering

DATA = Path(__file__).parent / "data"
WHEN = RenderContext(rendered_at=dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC))


@pytest.fixture(scope="module")
def evidence() -> Evidence:
    return load_evidence(DATA / "evidence.json")


@pytest.fixture(scope="module")
def rendered(evidence: Evidence, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rendered")
    write_outputs(
        render_outputs(evidence, ["pdf", "sarif", "junit", "markdown", "html", "json", "modelcard"], WHEN), out
    )
    return out


def test_sarif_validates_against_the_oasis_schema(rendered: Path, evidence: Evidence) -> None:
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    log = json.loads((rendered / "results.sarif").read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    run = log["runs"][0]
    rule_ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert {c.id for c in evidence.controls} <= rule_ids
    reported = {c.id for c in evidence.controls if c.status in {"fail", "error", "inconclusive"}}
    assert reported == {r["ruleId"] for r in run["results"] if not r["ruleId"].startswith("PII-")}
    pii = [r for r in run["results"] if r["ruleId"] == "PII-EMAIL_ADDRESS"]
    assert pii and pii[0]["locations"][0]["logicalLocations"][0]["name"] == "email"
    assert pii[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == evidence.data.path


def test_junit_has_one_testcase_per_control(rendered: Path, evidence: Evidence) -> None:
    root = ET.parse(rendered / "junit.xml").getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == len(evidence.controls) == int(root.get("tests", "0"))
    failures = {c.get("name", "").split()[0] for c in cases if c.find("failure") is not None}
    # A <failure> is a control that blocks the gate; a failure below --fail-on is <skipped>.
    assert failures == {c.id for c in evidence.controls if c.status == "fail" and c.id in evidence.summary.blocking}
    assert int(root.get("failures", "0")) == len(failures)


def test_markdown_summary_is_short_and_names_failures(rendered: Path, evidence: Evidence) -> None:
    text = (rendered / "summary.md").read_text()
    assert len(text.splitlines()) < 40
    for c in evidence.controls:
        if c.status in {"fail", "error", "waived"}:
            assert c.id in text


def test_model_card_metadata_parses_as_yaml(rendered: Path, evidence: Evidence) -> None:
    import yaml

    text = (rendered / "README.md").read_text()
    front = yaml.safe_load(text.split("---")[1])
    assert front["co2_eq_emissions"]["source"].startswith("CodeCarbon")
    assert front["co2_eq_emissions"]["emissions"] >= 0
    assert front["differential_privacy"]["epsilon"] == pytest.approx(evidence.training.privacy.epsilon, abs=1e-4)


def verify(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["verify", *args])
    return result.exit_code, result.stderr


def test_verify_passes_on_a_fresh_report(rendered: Path, evidence: Evidence) -> None:
    code, err = verify(str(rendered / "report.pdf"))
    assert code == 0, err
    assert "report, its pages and attached evidence match" in err and f"verdict in evidence: {evidence.verdict}" in err


def test_verify_fails_on_a_tampered_attachment(rendered: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "tampered.pdf"
    with pikepdf.open(rendered / "report.pdf") as pdf:
        doc = json.loads(pdf.attachments["evidence.json"].get_file().read_bytes())
        doc["verdict"] = "pass" if doc["verdict"] == "fail" else "fail"
        pdf.attachments["evidence.json"] = pikepdf.AttachedFileSpec(
            pdf, json.dumps(doc).encode(), filename="evidence.json"
        )
        pdf.save(tampered)
    code, err = verify(str(tampered))
    assert code == 1
    assert "does not match the digest in the PDF metadata" in err and "printed in the appendix" in err


@pytest.mark.parametrize("content", [b"", b"%PDF-1.7\n1 0 obj\n<<", b"not a pdf at all"])
def test_verify_rejects_broken_files_with_exit_2(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.pdf"
    path.write_bytes(content)
    code, err = verify(str(path))
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_verify_rejects_a_foreign_pdf(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.pdf"
    pikepdf.new().save(foreign)
    code, err = verify(str(foreign))
    assert code == 2 and "no evidence.json attached" in err


def _keys(tmp_path: Path) -> tuple[Path, Path, Path]:
    paths = []
    for name in ("a", "b"):
        key = Ed25519PrivateKey.generate()
        private = tmp_path / f"{name}.pem"
        private.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        public = tmp_path / f"{name}.pub.pem"
        public.write_bytes(
            key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        paths += [private, public]
    return paths[0], paths[1], paths[3]


def test_signed_report_verifies_with_the_right_key_only(tmp_path: Path) -> None:
    private, public, other_public = _keys(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["report", str(DATA / "evidence.json"), "-o", str(out), "--format", "pdf", "--sign-key", str(private)]
    )
    assert result.exit_code == 0, result.stderr
    code, err = verify(str(out / "report.pdf"), "--public-key", str(public))
    assert code == 0 and "signature: valid" in err
    code, err = verify(str(out / "report.pdf"), "--public-key", str(other_public))
    assert code == 1 and "signature does not match" in err


def test_sign_key_must_be_a_private_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    result = CliRunner().invoke(
        app, ["report", str(DATA / "evidence.json"), "-o", str(tmp_path / "o"), "--sign-key", str(bad)]
    )
    assert result.exit_code == 2 and not (tmp_path / "o").exists()


def _strip_render_time(text: str) -> str:
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", "<time>", text)


def test_report_command_rebuilds_the_same_outputs(e2e: E2E, tmp_path: Path) -> None:
    out = tmp_path / "again"
    result = CliRunner().invoke(app, ["report", str(e2e.out / "evidence.json"), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    for name in ("evidence.json", "junit.xml", "results.sarif", "summary.md", "README.md"):
        assert (out / name).read_bytes() == (e2e.out / name).read_bytes(), name
    original = (e2e.out / "report.html").read_text()
    again = (out / "report.html").read_text()
    assert _strip_render_time(original) == _strip_render_time(again)
    with pikepdf.open(e2e.out / "report.pdf") as a, pikepdf.open(out / "report.pdf") as b:
        assert (
            a.attachments["evidence.json"].get_file().read_bytes()
            == b.attachments["evidence.json"].get_file().read_bytes()
        )
        assert len(a.pages) == len(b.pages)


def test_pdf_has_title_language_tags_and_embedded_fonts(rendered: Path) -> None:
    with pikepdf.open(rendered / "report.pdf") as pdf:
        assert str(pdf.docinfo["/Title"]).startswith("Compliance audit")
        assert str(pdf.Root.Lang) == "en"
        assert "/StructTreeRoot" in pdf.Root
        fonts = {str(f.get("/BaseFont")) for page in pdf.pages for f in page.Resources.Font.values()}
        for font in pdf.pages[0].Resources.Font.values():
            descriptor = font.get("/FontDescriptor") or font.DescendantFonts[0].FontDescriptor
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), fonts
