"""The report's structure (#20): figures with alternate text, one catalog entry per attachment, unique HTML ids,
plain-text tick labels, and the tamper-evidence block never split from its digest."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from pypdf import PdfReader

from auditor.evidence import load_evidence
from auditor.render import RenderContext, render_outputs

pytestmark = pytest.mark.slow  # PDF rendering

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def outputs() -> dict[str, bytes]:
    evidence = load_evidence(DATA / "evidence.json")
    context = RenderContext(rendered_at=dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC))
    return render_outputs(evidence, ["pdf", "html"], context)


def _figures(node: Any, found: list[Any], depth: int = 0) -> list[Any]:
    if depth < 200 and isinstance(node, pikepdf.Dictionary):
        if node.get("/S") == "/Figure":
            found.append(node)
        kids = node.get("/K")
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            _figures(kid, found, depth + 1)
    return found


def test_every_figure_has_alternate_text(outputs: dict[str, bytes]) -> None:
    with pikepdf.open(io.BytesIO(outputs["report.pdf"])) as pdf:
        figures = _figures(pdf.Root.StructTreeRoot, [])
        assert len(figures) >= 7  # the charts of the fixture, and the logo
        assert all(len(str(f.get("/Alt", ""))) > 10 for f in figures), [str(f.get("/Alt")) for f in figures]


def test_each_attachment_is_listed_once(outputs: dict[str, bytes]) -> None:
    with pikepdf.open(io.BytesIO(outputs["report.pdf"])) as pdf:
        listed = [str(spec.get("/F")) for spec in pdf.Root.AF]
        assert listed == ["evidence.json"]


def test_html_ids_are_unique(outputs: dict[str, bytes]) -> None:
    ids = re.findall(r'\sid="([^"]+)"', outputs["report.html"].decode())
    repeated = [i for i, n in Counter(ids).items() if n > 1]
    assert ids and not repeated, repeated[:10]
    # Every in-page reference of a chart points at an id that exists.
    refs = set(re.findall(r'(?:href="#|url\(#)([^")]+)', outputs["report.html"].decode()))
    assert refs <= set(ids), sorted(refs - set(ids))[:10]


def test_no_mathtext_markup_reaches_a_page(outputs: dict[str, bytes]) -> None:
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(outputs["report.pdf"])).pages)
    assert "mathdefault" not in text and "$" not in text.replace("US$", "")


def test_the_digest_shares_its_page_with_the_tamper_evidence_text(outputs: dict[str, bytes]) -> None:
    pages = [
        " ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(outputs["report.pdf"])).pages
    ]
    [page] = [p for p in pages if "Evidence SHA-256:" in p]
    assert "Tamper evidence" in page and "audit verify report.pdf" in page
