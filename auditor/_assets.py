"""Locate packaged assets (templates, policies, static files).

In a wheel they live in ``auditor/_data``; in a source checkout (editable
install) they are the top-level ``templates/`` and ``policies/`` folders.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def asset_dir(name: str) -> Path:
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"packaged asset folder {name!r} is missing from the installation")
