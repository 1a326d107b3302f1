"""Reading YAML safely, and pydantic validation errors as one line: shared by the config and the policy packs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from auditor.errors import InputError, require_regular_file


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def validation_message(exc: ValidationError) -> str:
    """One line for the first problem, with a count of the others."""
    errors = exc.errors()
    first = errors[0]
    msg = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return f"{_location(tuple(first['loc']))}: {msg}{more}"


class _DatesAsText(yaml.SafeLoader):
    """SafeLoader that leaves dates as text: pydantic then validates them, and a bad date
    (``2026-02-30``) is reported with the field's name instead of as a YAML crash."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(path: Path) -> Any:
    """Read YAML safely; every failure becomes one InputError line naming the file."""
    if not path.exists():
        raise InputError("file not found", where=str(path))
    if path.is_dir():
        raise InputError("is a directory, expected a YAML file", where=str(path))
    require_regular_file(path, "the YAML file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", where=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", where=str(path)) from None
    try:
        return yaml.load(text, Loader=_DatesAsText)  # a SafeLoader subclass
    except ValueError as exc:  # an explicitly tagged value that does not construct
        raise InputError(f"malformed YAML: {exc}", where=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "malformed YAML"
        at = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        raise InputError(f"malformed YAML: {problem}", where=at) from None
