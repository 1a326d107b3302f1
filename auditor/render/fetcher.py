"""The only way WeasyPrint may load anything: packaged assets, by an internal scheme.

Column names and values in the report come from the data and are untrusted.
Autoescaping keeps them inert as HTML; this fetcher keeps any URL that still
reaches WeasyPrint (CSS ``url()``, ``<img src>``, ``@import``) from reading a
file or touching the network. Every request is recorded for tests.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
from weasyprint.urls import URLFetcher, URLFetcherResponse

from auditor._assets import asset_dir

SCHEME = "auditor-asset:"
MIME = {".ttf": "font/ttf", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}


def asset_roots() -> dict[str, Path]:
    return {
        "static": asset_dir("templates") / "static",
        "fonts": Path(matplotlib.get_data_path()) / "fonts" / "ttf",
    }


class SafeFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint is untyped
    def __init__(self) -> None:
        super().__init__(allowed_protocols=())
        self.requests: list[str] = []
        self.served: list[str] = []
        self._roots = asset_roots()

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        self.requests.append(url)
        if not url.startswith(SCHEME):
            raise ValueError(f"blocked: only packaged assets may be loaded, not {url[:80]!r}")
        root_name, _, relative = url[len(SCHEME) :].lstrip("/").partition("/")
        root = self._roots.get(root_name)
        if root is None:
            raise ValueError(f"blocked: unknown asset folder in {url[:80]!r}")
        path = (root / relative).resolve()
        if not path.is_file() or root.resolve() not in path.parents:
            raise ValueError(f"blocked: {url[:80]!r} is not a packaged asset")
        self.served.append(url)
        return URLFetcherResponse(
            url, body=path.read_bytes(), headers={"Content-Type": MIME.get(path.suffix, "application/octet-stream")}
        )
