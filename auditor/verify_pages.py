"""Do the report's pages show its attached evidence? Re-render and compare every page.

WeasyPrint's output is deterministic for a given evidence, render time and
auditor version, so each page of a genuine report equals the same page of a
fresh render. A page is compared by a digest of everything that draws it: the
content streams as stored, and recursively its resources (fonts, images,
forms) and visible annotations. Overpainted text, a shape or image drawn over
a verdict, a swapped font, replaced or added pages all change it. Only the
stored bytes are hashed, never inflated, so a hostile file cannot exhaust
memory here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from typing import Any

from auditor.errors import InputError

# Bounds for hostile files (docs/security.md): objects visited and stream bytes hashed per report.
MAX_OBJECTS = 200_000
MAX_HASHED_BYTES = 512 * 1024 * 1024
_SKIP_KEYS = {"/Parent", "/P", "/Length", "/StructParents", "/StructParent"}
_PDF_DATE = re.compile(r"D:(\d{14})([+-])(\d\d)'?(\d\d)")


class _Budget:
    def __init__(self) -> None:
        self.objects = 0
        self.bytes = 0

    def spend(self, objects: int = 1, data: int = 0) -> None:
        self.objects += objects
        self.bytes += data
        if self.objects > MAX_OBJECTS or self.bytes > MAX_HASHED_BYTES:
            raise InputError(
                f"the report's pages are too large to compare (limits: {MAX_OBJECTS:,} objects, "
                f"{MAX_HASHED_BYTES // 2**20} MiB of streams)"
            )


def _invisible_signature_widget(obj: Any) -> bool:
    import pikepdf

    if not isinstance(obj, pikepdf.Dictionary) or obj.get("/FT") != "/Sig":
        return False
    rect = [float(v) for v in obj.get("/Rect", [])]
    return len(rect) == 4 and rect[0] == rect[2] and rect[1] == rect[3]


def _feed(obj: Any, h: Any, seen: dict[tuple[int, int], int], budget: _Budget, depth: int = 0) -> None:
    import pikepdf

    if depth > 64:
        raise InputError("the report's page objects are nested too deeply to compare (limit 64)")
    budget.spend()
    if isinstance(obj, pikepdf.Object) and obj.is_indirect:
        key = obj.objgen
        if key in seen:
            h.update(b"R%d;" % seen[key])
            return
        seen[key] = len(seen)
    if isinstance(obj, pikepdf.Stream):
        data = obj.read_raw_bytes()
        budget.spend(0, len(data))
        h.update(b"S%d:" % len(data) + data)
    if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
        for name in sorted(set(obj.keys()) - _SKIP_KEYS):
            h.update(name.encode("latin-1") + b"=")
            _feed(obj[name], h, seen, budget, depth + 1)
        h.update(b"}")
    elif isinstance(obj, pikepdf.Array):
        items = [item for item in obj if not _invisible_signature_widget(item)]
        h.update(b"[%d" % len(items))
        for item in items:
            _feed(item, h, seen, budget, depth + 1)
    elif isinstance(obj, pikepdf.Object):
        h.update(obj.unparse(resolved=True) + b";")
    else:
        h.update(repr(obj).encode("utf-8", "replace") + b";")


def page_digests(pdf: bytes) -> list[str]:
    """One digest per page of everything that draws it."""
    import pikepdf

    budget = _Budget()
    digests = []
    try:
        with pikepdf.open(io.BytesIO(pdf)) as doc:
            for page in doc.pages:
                h = hashlib.sha256()
                for key in ("/MediaBox", "/CropBox", "/Rotate", "/Contents", "/Resources", "/Annots"):
                    value = page.obj.get(key)
                    if key == "/Annots" and value is not None and all(map(_invisible_signature_widget, value)):
                        value = None  # signing adds an invisible widget; nothing else may differ
                    h.update(key.encode() + b"=")
                    if value is not None:
                        _feed(value, h, {}, budget)
                digests.append(h.hexdigest())
    except pikepdf.PdfError as exc:
        raise InputError(f"not a readable PDF ({str(exc).splitlines()[0][:120]})") from None
    return digests


def rendered_at(creation_date: str | None) -> dt.datetime | None:
    """The render time WeasyPrint wrote as ``/CreationDate`` (``D:YYYYMMDDHHmmSS+HH'mm``)."""
    match = _PDF_DATE.match(creation_date or "")
    if not match:
        return None
    stamp, sign, hours, minutes = match.groups()
    offset = dt.timedelta(hours=int(hours), minutes=int(minutes)) * (1 if sign == "+" else -1)
    return dt.datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=dt.timezone(offset))


def compare_pages(shown: list[str], expected: list[str]) -> list[str]:
    """Problems, one line each, where the report's pages differ from a fresh render."""
    problems = []
    if len(shown) != len(expected):
        problems.append(f"the report has {len(shown)} pages; its attached evidence renders to {len(expected)}")
    differing = [str(i + 1) for i, (a, b) in enumerate(zip(shown, expected, strict=False)) if a != b]
    if differing:
        listed = ", ".join(differing[:10]) + (f" and {len(differing) - 10} more" if len(differing) > 10 else "")
        problems.append(f"page {listed} differ{'s' if len(differing) == 1 else ''} from the attached evidence")
    return problems
