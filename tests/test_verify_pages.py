"""``audit verify`` checks what a reviewer reads: PAdES signatures over the whole PDF, and pages re-rendered.

Each forgery from the issue is tried on a signed and on an unsigned report:
text overpainted in an incremental update after %%EOF, text overpainted by a
full rewrite, a white box drawn over the verdict, and a page replaced while the
attachment is kept.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zlib
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from auditor.cli import app
from auditor.pdfsig import self_signed

pytestmark = pytest.mark.slow  # PDF rendering

DATA = Path(__file__).parent / "data"
OVERPAINT = b"q 1 1 1 rg 40 700 520 90 re f Q BT /AuditorForgery 40 Tf 60 730 Td (COMPLIANT - PASS) Tj ET"


def _pem(key: Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, where: Path) -> tuple[Path, Path]:
    private, public = where.with_suffix(".pem"), where.with_suffix(".pub")
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stderr


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An unsigned report and one signed with ECDSA P-256."""
    base = tmp_path_factory.mktemp("reports")
    key, public = _pem(ec.generate_private_key(ec.SECP256R1()), base / "ec")
    paths = {"key": key, "public": public}
    for name, extra in (("unsigned", []), ("signed", ["--sign-key", str(key)])):
        code, err = _invoke("report", str(DATA / "evidence.json"), "-o", str(base / name), "-f", "pdf", *extra)
        assert code == 0, err
        paths[name] = base / name / "report.pdf"
    return paths


def _font(pdf: pikepdf.Pdf) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)


def overpaint_incremental(src: Path, dst: Path, _: Path) -> None:
    """Append an update after %%EOF that draws over page 1 (the original bytes are kept as they were)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(src.read_bytes()))
    font = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Font"),
            generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
            generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica"),
        }
    )
    resources = generic.DictionaryObject(
        {
            generic.NameObject("/Font"): generic.DictionaryObject(
                {generic.NameObject("/AuditorForgery"): writer.add_object(font)}
            )
        }
    )
    stream = writer.add_object(generic.StreamObject(stream_data=OVERPAINT))
    writer.add_stream_to_page(0, stream, resources=resources)
    out = io.BytesIO()
    writer.write(out)
    assert out.getvalue().startswith(src.read_bytes())  # a true incremental update
    dst.write_bytes(out.getvalue())


def overpaint_rewrite(src: Path, dst: Path, _: Path) -> None:
    with pikepdf.open(src) as pdf:
        page = pdf.pages[0]
        page.add_resource(_font(pdf), pikepdf.Name.Font, pikepdf.Name("/AuditorForgery"))
        page.contents_add(pikepdf.Stream(pdf, OVERPAINT), prepend=False)
        pdf.save(dst)


def white_box(src: Path, dst: Path, _: Path) -> None:
    """Hide a line with a white rectangle: the text layer is unchanged, the page is not."""
    with pikepdf.open(src) as pdf:
        pdf.pages[0].contents_add(pikepdf.Stream(pdf, b"q 1 1 1 rg 40 600 520 120 re f Q"), prepend=False)
        pdf.save(dst)


def replace_page(src: Path, dst: Path, _: Path) -> None:
    """Page 1 replaced by another page (here the report's own page 3); the attachment and metadata are kept."""
    with pikepdf.open(src) as pdf:
        pdf.pages[0] = pdf.pages[2]
        pdf.save(dst)


FORGERIES: dict[str, Callable[[Path, Path, Path], None]] = {
    "overpainted in an update after %%EOF": overpaint_incremental,
    "overpainted by a rewrite": overpaint_rewrite,
    "white box over the verdict": white_box,
    "page replaced, attachment kept": replace_page,
}


@pytest.mark.parametrize("kind", ["unsigned", "signed"])
def test_genuine_reports_verify(reports: dict[str, Path], kind: str) -> None:
    args = ["--public-key", str(reports["public"])] if kind == "signed" else []
    code, err = _invoke("verify", str(reports[kind]), *args)
    assert code == 0, err
    assert "pages: match" in err
    assert ("PDF signature: valid" if kind == "signed" else "PDF signature: absent") in err
    if kind == "unsigned":
        assert "note: unsigned" in err  # says what it cannot detect


@pytest.mark.parametrize("forgery", list(FORGERIES))
@pytest.mark.parametrize("kind", ["unsigned", "signed"])
def test_forged_pages_are_detected(reports: dict[str, Path], tmp_path: Path, kind: str, forgery: str) -> None:
    forged = tmp_path / "forged.pdf"
    FORGERIES[forgery](reports[kind], forged, reports[kind])
    args = ["--public-key", str(reports["public"])] if kind == "signed" else []
    code, err = _invoke("verify", str(forged), *args)
    assert code == 1, err
    # Page 1 at least; a forgery that adds its font to resources the pages share changes them all.
    assert re.search(r"page 1\b[^\n]* from the attached evidence", err), err
    if kind == "signed":
        assert "PDF signature: invalid" in err
        assert "changed after" in err


def test_a_stripped_signature_fails_with_the_public_key(reports: dict[str, Path], tmp_path: Path) -> None:
    stripped = tmp_path / "stripped.pdf"
    with pikepdf.open(reports["signed"]) as pdf:
        del pdf.Root["/AcroForm"]
        del pdf.pages[0].obj["/Annots"]
        pdf.save(stripped)
    code, err = _invoke("verify", str(stripped), "--public-key", str(reports["public"]))
    assert code == 1 and "the PDF carries no signature, but a public key was given" in err
    # Without the key the pages still give it away: they state a PAdES signature the file no longer has.
    code, err = _invoke("verify", str(stripped))
    assert code == 1 and "page" in err and "differs" in err


def test_a_signature_from_another_key_is_refused(reports: dict[str, Path], tmp_path: Path) -> None:
    _, other_public = _pem(ec.generate_private_key(ec.SECP256R1()), tmp_path / "other")
    code, err = _invoke("verify", str(reports["signed"]), "--public-key", str(other_public))
    assert code == 1 and "signed with a different key" in err


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="poppler-utils' pdfsig is not installed")
def test_an_ordinary_pdf_tool_validates_the_signature_and_sees_the_change(
    reports: dict[str, Path], tmp_path: Path
) -> None:
    """poppler's pdfsig (NSS), a validator independent of pyHanko."""
    good = subprocess.run(["pdfsig", str(reports["signed"])], capture_output=True, text=True, check=False).stdout
    assert "Signature is Valid" in good and "Total document signed" in good
    forged = tmp_path / "forged.pdf"
    overpaint_incremental(reports["signed"], forged, reports["signed"])
    bad = subprocess.run(["pdfsig", str(forged)], capture_output=True, text=True, check=False).stdout
    assert "Total document signed" not in bad


def test_sign_cert_must_match_the_key_and_is_embedded(tmp_path: Path) -> None:
    import datetime as dt

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private, public = _pem(key, tmp_path / "rsa")
    cert = tmp_path / "cert.pem"
    cert.write_bytes(self_signed(key, dt.datetime.now(dt.UTC)).public_bytes(serialization.Encoding.PEM))
    other = ec.generate_private_key(ec.SECP256R1())
    wrong = tmp_path / "wrong.pem"
    wrong.write_bytes(self_signed(other, dt.datetime.now(dt.UTC)).public_bytes(serialization.Encoding.PEM))
    evidence = str(DATA / "evidence.json")
    code, err = _invoke("report", evidence, "-o", str(tmp_path / "w"), "-f", "pdf", "--sign-key", str(private),
                        "--sign-cert", str(wrong))  # fmt: skip
    assert code == 2 and "not for the signing key" in err and not (tmp_path / "w").exists()
    code, err = _invoke("report", evidence, "-o", str(tmp_path / "c"), "-f", "pdf", "--sign-cert", str(cert))
    assert code == 2 and "--sign-cert needs --sign-key" in err
    code, err = _invoke("report", evidence, "-o", str(tmp_path / "r"), "-f", "pdf", "--sign-key", str(private),
                        "--sign-cert", str(cert))  # fmt: skip
    assert code == 0, err
    with pikepdf.open(tmp_path / "r" / "report.pdf") as pdf:
        assert "evidence.sig" not in pdf.attachments  # only Ed25519 keys sign the evidence digest
    code, err = _invoke("verify", str(tmp_path / "r" / "report.pdf"), "--public-key", str(public))
    assert code == 0, err


def test_a_small_rsa_key_is_refused(tmp_path: Path) -> None:
    private, _ = _pem(rsa.generate_private_key(public_exponent=65537, key_size=1024), tmp_path / "small")
    code, err = _invoke("report", str(DATA / "evidence.json"), "-o", str(tmp_path / "o"), "--sign-key", str(private))
    assert code == 2 and "2048 bits" in err


def test_an_inflating_attachment_is_refused_within_bounded_memory(reports: dict[str, Path], tmp_path: Path) -> None:
    """A zip bomb as evidence.json: 128 MiB of zeros stored as about 128 kB; verify stops at its limit."""
    bomb = tmp_path / "bomb.pdf"
    with pikepdf.open(reports["unsigned"]) as pdf:
        spec = pdf.attachments["evidence.json"].get_file().obj
        spec.write(zlib.compress(b"\0" * (128 * 2**20), 9), filter=pikepdf.Name.FlateDecode)
        pdf.save(bomb)
    assert bomb.stat().st_size < 2 * 2**20
    code, err = _invoke("verify", str(bomb))
    assert code == 2 and "inflates past 64 MiB" in err and len(err.strip().splitlines()) == 1


def test_the_catalog_lists_each_attachment_once(reports: dict[str, Path]) -> None:
    with pikepdf.open(reports["signed"]) as pdf:
        names = [str(spec.get("/F")) for spec in pdf.Root.AF]
    assert sorted(names) == sorted(set(names)) == ["evidence.json"]
