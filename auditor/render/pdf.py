"""``report.pdf``: PDF/A-3b, tagged, with ``evidence.json`` attached (relationship Data)."""

from __future__ import annotations

import base64
import io
import logging
from typing import Any

from auditor.evidence import Evidence, dump_evidence
from auditor.pdfsig import sign_pdf
from auditor.render.base import RenderContext, Renderer, register
from auditor.render.fetcher import SafeFetcher
from auditor.render.html import evidence_digest, render_html
from auditor.signing import sign_digest

ATTACHMENT = "evidence.json"
SIGNATURE = "evidence.sig"


def render_pdf(ev: Evidence, context: RenderContext, fetcher: SafeFetcher | None = None) -> bytes:
    from weasyprint import HTML, Attachment

    # WeasyPrint logs each blocked URL as a warning; the fetcher already records them.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    fetcher = fetcher or SafeFetcher()
    attachments = [
        Attachment(
            string=dump_evidence(ev), name=ATTACHMENT, relationship="Data", description="auditor evidence (JSON)"
        )
    ]
    if context.evidence_signed and context.sign_key is not None:
        signature = sign_digest(context.sign_key, bytes.fromhex(evidence_digest(ev)))
        attachments.append(
            Attachment(
                string=base64.b64encode(signature).decode("ascii"),
                name=SIGNATURE,
                relationship="Supplement",
                description="Ed25519 signature of the evidence SHA-256 (base64)",
            )
        )
    document = HTML(
        string=render_html(ev, context, for_pdf=True), url_fetcher=fetcher, base_url="auditor-asset:static/"
    )
    data = _one_entry_per_attachment(document.write_pdf(pdf_variant="pdf/a-3b", pdf_tags=True, attachments=attachments))
    if context.sign_key is not None:
        data = sign_pdf(data, context.sign_key, context.sign_cert)
    return data


def _one_entry_per_attachment(data: bytes) -> bytes:
    """WeasyPrint lists each attachment twice in the catalog's ``/AF``; keep the ones the name tree holds."""
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        empty = pikepdf.Dictionary()
        names: Any = pdf.Root.get("/Names", empty).get("/EmbeddedFiles", empty).get("/Names", pikepdf.Array())
        specs = [names[i] for i in range(1, len(names), 2)]
        if "/AF" not in pdf.Root or len(pdf.Root.AF) == len(specs):
            return data
        pdf.Root.AF = pikepdf.Array(specs)
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
        return out.getvalue()


class PdfRenderer(Renderer):
    name = "pdf"
    filename = "report.pdf"

    def render(self, evidence: Evidence, context: RenderContext) -> bytes:
        return render_pdf(evidence, context)


register(PdfRenderer())
