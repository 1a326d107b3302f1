"""``audit verify``: does a report show, unchanged, the evidence attached to it?

Four checks: the attached evidence against the digests in the metadata and the
appendix; the Ed25519 evidence signature (``--public-key``); the PAdES
signature over the whole file, which catches any change to the pages; and a
re-render of the attached evidence compared page by page, which catches pages
that disagree with the evidence even in an unsigned report.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from auditor._version import __version__
from auditor.errors import InputError, require_regular_file
from auditor.evidence import Evidence, parse_evidence
from auditor.pdfsig import check_pdf_signature
from auditor.signing import is_ed25519_public, verify_digest
from auditor.verify_pages import compare_pages, page_digests, rendered_at

MAX_ATTACHMENT_BYTES = 64 * 1024 * 1024  # evidence.json is about 100 kB; docs/security.md
_PRINTED = re.compile(r"Evidence SHA-256:\s*([0-9a-f]{64})")
_META = re.compile(r"evidence-sha256:([0-9a-f]{64})")


@dataclass
class Verification:
    digest: str
    metadata_digest: str | None
    printed_digest: str | None
    verdict: str | None
    signature: Literal["valid", "invalid", "absent", "not checked"]
    pdf_signature: Literal["valid", "invalid", "absent"] = "absent"
    pages: Literal["match", "differ", "not compared"] = "not compared"
    problems: list[str] = field(default_factory=list)
    limits: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _read(path: Path) -> tuple[bytes, dict[str, bytes], dict[str, str]]:
    """The file's bytes (read once: every check sees the same bytes), its attachments and its document info."""
    import io

    import pikepdf

    require_regular_file(path, "the report")
    data = path.read_bytes()
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            files = {name: _attachment(spec) for name, spec in pdf.attachments.items()}
            info = {str(k): str(v) for k, v in pdf.docinfo.items()}
            return data, files, info
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        raise InputError(f"not a readable PDF ({str(exc).splitlines()[0][:120]})", where=str(path)) from None


def _attachment(spec: Any) -> bytes:
    """An attachment's bytes, inflated at most to ``MAX_ATTACHMENT_BYTES`` (a zip bomb stops there)."""
    stream = spec.get_file().obj
    raw: bytes = stream.read_raw_bytes()
    filters = stream.get("/Filter")
    if filters is None:
        data = raw
    elif str(filters) == "/FlateDecode" and "/DecodeParms" not in stream:
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(raw, MAX_ATTACHMENT_BYTES + 1)
        except zlib.error:
            raise InputError("an attachment is not valid compressed data; not an auditor report") from None
    else:
        raise InputError(f"an attachment uses the filter {filters}; auditor writes FlateDecode only")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise InputError(f"an attachment inflates past {MAX_ATTACHMENT_BYTES // 2**20} MiB; not an auditor report")
    return data


def _printed_digest(data: bytes) -> str | None:
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    for page in reversed(reader.pages):
        match = _PRINTED.search(" ".join((page.extract_text() or "").split()))
        if match:
            return match.group(1)
    return None


def verify_report(path: Path, public_key: bytes | None = None) -> Verification:
    if not path.is_file():
        raise InputError("file not found" if not path.exists() else "not a file", where=str(path))
    pdf, files, info = _read(path)
    if "evidence.json" not in files:
        raise InputError("no evidence.json attached; not an auditor report", where=str(path))
    data = files["evidence.json"]
    digest = hashlib.sha256(data).hexdigest()
    meta = _META.search(info.get("/Keywords", ""))
    result = Verification(
        digest=digest,
        metadata_digest=meta.group(1) if meta else None,
        printed_digest=_printed_digest(pdf),
        verdict=None,
        signature="absent" if "evidence.sig" not in files else "not checked",
    )
    if result.metadata_digest != digest:
        result.problems.append("attached evidence does not match the digest in the PDF metadata")
    if result.printed_digest != digest:
        result.problems.append("attached evidence does not match the digest printed in the appendix")
    evidence = None
    try:
        evidence = parse_evidence(data.decode("utf-8"), "evidence.json (attached)")
        result.verdict = evidence.verdict
    except (InputError, UnicodeDecodeError) as exc:
        result.problems.append(f"attached evidence is not valid: {exc}")
    _check_evidence_signature(result, files, public_key)
    pades = check_pdf_signature(pdf, public_key)
    result.pdf_signature = pades.status
    result.problems += pades.problems
    if public_key is not None and pades.status == "absent":
        result.problems.append("the PDF carries no signature, but a public key was given")
    if evidence is not None:
        _check_pages(result, pdf, evidence, info, signed=("evidence.sig" in files, pades.status != "absent"))
    if pades.status == "absent":
        result.limits.append(
            "unsigned: pages are checked against the attached evidence, but a forger who rewrites the evidence, "
            "both digests and the pages together is not detected; sign reports with --sign-key"
        )
    elif public_key is None:
        result.limits.append("the signer was not checked: give --public-key to tie the signature to your key")
    return result


def _check_evidence_signature(result: Verification, files: dict[str, bytes], public_key: bytes | None) -> None:
    if public_key is None or "evidence.sig" not in files:
        return
    if not is_ed25519_public(public_key):
        return  # an ECDSA or RSA key signs the PDF only; its PAdES signature covers the evidence
    signature = base64.b64decode(files["evidence.sig"], validate=False)
    valid = verify_digest(public_key, bytes.fromhex(result.digest), signature)
    result.signature = "valid" if valid else "invalid"
    if not valid:
        result.problems.append("the Ed25519 signature does not match the evidence")


@functools.lru_cache(maxsize=4)
def _rendered_pages(evidence_json: str, when: dt.datetime, signed: tuple[bool, bool]) -> tuple[str, ...]:
    """Page digests of a fresh render (a few seconds); kept for repeated checks of the same report."""
    from auditor.render.base import RenderContext
    from auditor.render.pdf import render_pdf

    evidence = Evidence.model_validate_json(evidence_json)
    return tuple(page_digests(render_pdf(evidence, RenderContext(rendered_at=when, states_signatures=signed))))


def _check_pages(
    result: Verification, pdf: bytes, evidence: Evidence, info: dict[str, str], signed: tuple[bool, bool]
) -> None:
    creator = info.get("/Creator", "")
    if creator != f"auditor {__version__}":
        result.limits.append(
            f"pages not compared: the report was rendered by {creator or 'an unknown tool'}, this is "
            f"auditor {__version__} (re-render it with that version, or verify with it)"
        )
        return
    when = rendered_at(info.get("/CreationDate"))
    if when is None:
        result.problems.append("the PDF has no creation date, so its pages cannot be re-rendered to compare")
        result.pages = "differ"
        return
    problems = compare_pages(page_digests(pdf), list(_rendered_pages(evidence.model_dump_json(), when, signed)))
    result.pages = "differ" if problems else "match"
    result.problems += problems
