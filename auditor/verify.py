"""``audit verify``: check a report's attached evidence against its printed and embedded digests."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from auditor.errors import InputError, require_regular_file
from auditor.evidence import parse_evidence
from auditor.signing import verify_digest

_PRINTED = re.compile(r"Evidence SHA-256:\s*([0-9a-f]{64})")
_META = re.compile(r"evidence-sha256:([0-9a-f]{64})")


@dataclass
class Verification:
    digest: str
    metadata_digest: str | None
    printed_digest: str | None
    verdict: str | None
    signature: Literal["valid", "invalid", "absent", "not checked"]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _attachments(path: Path) -> tuple[dict[str, bytes], str | None]:
    import pikepdf

    require_regular_file(path, "the report")
    try:
        with pikepdf.open(path) as pdf:
            files = {name: spec.get_file().read_bytes() for name, spec in pdf.attachments.items()}
            keywords = pdf.docinfo.get("/Keywords")
            return files, None if keywords is None else str(keywords)
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        raise InputError(f"not a readable PDF ({str(exc).splitlines()[0][:120]})", where=str(path)) from None


def _printed_digest(path: Path) -> str | None:
    from pypdf import PdfReader

    reader = PdfReader(path)
    for page in reversed(reader.pages):
        match = _PRINTED.search(" ".join((page.extract_text() or "").split()))
        if match:
            return match.group(1)
    return None


def verify_report(path: Path, public_key: bytes | None = None) -> Verification:
    if not path.is_file():
        raise InputError("file not found" if not path.exists() else "not a file", where=str(path))
    files, keywords = _attachments(path)
    if "evidence.json" not in files:
        raise InputError("no evidence.json attached; not an auditor report", where=str(path))
    data = files["evidence.json"]
    digest = hashlib.sha256(data).hexdigest()
    meta = _META.search(keywords or "")
    result = Verification(
        digest=digest,
        metadata_digest=meta.group(1) if meta else None,
        printed_digest=_printed_digest(path),
        verdict=None,
        signature="absent" if "evidence.sig" not in files else "not checked",
    )
    if result.metadata_digest != digest:
        result.problems.append("attached evidence does not match the digest in the PDF metadata")
    if result.printed_digest != digest:
        result.problems.append("attached evidence does not match the digest printed in the appendix")
    try:
        result.verdict = parse_evidence(data.decode("utf-8"), "evidence.json (attached)").verdict
    except (InputError, UnicodeDecodeError) as exc:
        result.problems.append(f"attached evidence is not valid: {exc}")
    if public_key is not None:
        if "evidence.sig" not in files:
            result.problems.append("no signature attached, but a public key was given")
        else:
            signature = base64.b64decode(files["evidence.sig"], validate=False)
            valid = verify_digest(public_key, bytes.fromhex(digest), signature)
            result.signature = "valid" if valid else "invalid"
            if not valid:
                result.problems.append("the Ed25519 signature does not match the evidence")
    return result
