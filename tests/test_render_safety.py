"""Untrusted column names and values stay inert; the renderer loads nothing but packaged assets."""

from __future__ import annotations

import csv
import datetime as dt
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pypdf import PdfReader

from auditor.config import load_config
from auditor.pipeline import run
from auditor.render import RenderContext, render_outputs
from auditor.render.fetcher import SafeFetcher
from auditor.render.pdf import render_pdf

HOSTILE_COLUMNS = [
    '<img src="file:///etc/hostname">',
    "x</td><style>@import url(http://evil.example/x.css);</style>",
    'y" style="background:url(file:///etc/passwd)',
]
HOSTILE_VALUE = (
    '<img src="http://evil.example/pixel.png"> call +1 202-555-0143 <link rel=stylesheet href=file:///etc/shadow>'
)

OPENED: list[str] = []
WATCHING = {"on": False}


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if WATCHING["on"] and event == "open" and isinstance(args[0], (str, bytes, Path)):
        OPENED.append(str(args[0]))


sys.addaudithook(_audit)


@pytest.fixture(scope="module")
def hostile_evidence(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("hostile")
    columns = [*HOSTILE_COLUMNS, "income", "notes", "label"]
    with (folder / "data.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for i in range(120):
            writer.writerow(
                [f"a{i % 3}", f"b{i % 2}", f"c{i % 4}", 30000 + 97 * i, HOSTILE_VALUE if i % 10 == 0 else "fine", i % 2]
            )
    config = {
        "project": "<script>alert(1)</script>",
        "data": {"path": "data.csv", "target": "label"},
        "pii": {"workers": 1},
        "train": {"epochs": 1, "batch_size": 32},
        "audit": {"enabled": False},
        "energy": {"country_iso_code": "FRA"},
        "policies": {"packs": ["gdpr"]},
    }
    (folder / "audit.yaml").write_text(yaml.safe_dump(config))
    return run(load_config(folder / "audit.yaml"))


@pytest.mark.slow
def test_hostile_names_render_as_inert_text_and_nothing_is_fetched(hostile_evidence: Any) -> None:
    fetcher = SafeFetcher()
    OPENED.clear()
    WATCHING["on"] = True
    try:
        pdf = render_pdf(hostile_evidence, RenderContext(rendered_at=dt.datetime.now(dt.UTC)), fetcher)
    finally:
        WATCHING["on"] = False
    assert fetcher.requests, "the report should at least load its packaged fonts"
    assert all(url.startswith("auditor-asset:fonts/") for url in fetcher.requests), fetcher.requests
    assert fetcher.served == fetcher.requests
    assert not [p for p in OPENED if p.startswith("/etc/") or "evil" in p], OPENED
    import io

    text = " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages)
    assert 'img src="file:///etc/hostname"' in text  # shown as the literal column name
    assert "<script>alert(1)</script>" in text
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""
    if len(hostname) >= 6:
        assert hostname not in text


def test_html_escapes_everything_from_the_data(hostile_evidence: Any) -> None:
    html = render_outputs(hostile_evidence, ["html"], RenderContext(rendered_at=dt.datetime.now(dt.UTC)))[
        "report.html"
    ].decode()
    assert '<img src="file:///etc/hostname">' not in html
    assert "&lt;img src=&#34;file:///etc/hostname&#34;&gt;" in html
    assert "<script>alert(1)</script>" not in html
    assert "evil.example/pixel.png" not in html  # the hostile value only ever appears masked
    assert "202-555-0143" not in html


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/hostname",
        "http://evil.example/x.css",
        "https://example.com/font.ttf",
        "data:text/css,body{}",
        "auditor-asset:fonts/../../../../../../etc/hostname",
        "auditor-asset:other/x.css",
        "auditor-asset:fonts/missing.ttf",
    ],
)
def test_fetcher_blocks_everything_but_packaged_assets(url: str) -> None:
    fetcher = SafeFetcher()
    with pytest.raises(ValueError, match="blocked"):
        fetcher.fetch(url)
    assert fetcher.served == []


def test_fetcher_serves_packaged_fonts() -> None:
    response = SafeFetcher().fetch("auditor-asset:fonts/DejaVuSans.ttf")
    assert response.read(4) == b"\x00\x01\x00\x00"
