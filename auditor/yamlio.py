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


# Limits for hostile files (docs/security.md): raw size, values after alias expansion, nesting depth.
MAX_YAML_CHARS = 16 * 2**20
MAX_YAML_VALUES = 1_000_000
MAX_YAML_DEPTH = 64


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
    if len(text) > MAX_YAML_CHARS:
        raise InputError(f"larger than {MAX_YAML_CHARS // 2**20} MiB of YAML", where=str(path))
    try:
        data = yaml.load(text, Loader=_DatesAsText)  # a SafeLoader subclass
    except RecursionError:
        raise InputError(f"YAML nested too deeply (limit {MAX_YAML_DEPTH} levels)", where=str(path)) from None
    except ValueError as exc:  # an explicitly tagged value that does not construct
        raise InputError(f"malformed YAML: {exc}", where=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "malformed YAML"
        at = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        raise InputError(f"malformed YAML: {problem}", where=at) from None
    _check_size(data, str(path))
    return data


def _check_size(data: Any, where: str) -> None:
    """Refuse a document whose aliases expand past ``MAX_YAML_VALUES`` (a "billion laughs") or that nests too deeply.

    Sizes are memoised per object, so a shared subtree is counted as often as it is referenced without
    ever being expanded: the check costs one visit per distinct node."""
    sizes: dict[int, int] = {}

    def size(node: Any, depth: int) -> int:
        if depth > MAX_YAML_DEPTH:
            raise InputError(f"YAML nested too deeply (limit {MAX_YAML_DEPTH} levels)", where=where)
        if not isinstance(node, dict | list):
            return 1
        key = id(node)
        if key not in sizes:
            children = list(node.values()) if isinstance(node, dict) else node
            sizes[key] = 1 + sum(size(child, depth + 1) for child in children)
            if sizes[key] > MAX_YAML_VALUES:
                raise InputError(
                    f"YAML expands to more than {MAX_YAML_VALUES:,} values through aliases; refused", where=where
                )
        return sizes[key]

    size(data, 0)
