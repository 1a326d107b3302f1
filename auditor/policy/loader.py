"""Loading and validating policy packs, parameters and waivers.

Every problem is an InputError that names the file, the control and, for
CEL, the position, so ``audit policies validate`` answers in one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cel
from pydantic import ValidationError

from auditor._assets import asset_dir
from auditor.errors import InputError
from auditor.policy.model import CelCheck, MetricCheck, Pack, WaiverEntry, WaiverFile
from auditor.policy.paths import path_exists, roots
from auditor.yamlio import read_yaml, validation_message

_BOUND = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")


def _paths(known: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?<![\w.\"'])((?:" + "|".join(known) + r")(?:\.[A-Za-z_]\w*)+)")


@dataclass(frozen=True)
class LoadedPack:
    pack: Pack
    source: str
    params: dict[str, Any]


def builtin_packs() -> dict[str, Path]:
    return {p.stem: p for p in sorted(asset_dir("policies").glob("*.yaml"))}


def _pack_files(spec: str, base_dir: Path | None) -> list[Path]:
    builtins = builtin_packs()
    if spec in builtins:
        return [builtins[spec]]
    path = Path(spec)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if path.is_dir():
        files = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml"))
        if not files:
            raise InputError("no .yaml policy packs in directory", where=str(path))
        return files
    if not path.exists():
        raise InputError(f"unknown policy pack {spec!r}; built-in packs are {', '.join(builtins)}")
    return [path]


# Limits for hostile packs (docs/security.md): CEL text and bracket nesting, checked before the parser sees it.
MAX_CEL_CHARS = 4_000
MAX_CEL_DEPTH = 32


def _cel_depth(expression: str) -> int:
    depth = deepest = 0
    for char in expression:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    return deepest


def _check_cel(expression: str, where: str, field: str) -> None:
    if len(expression) > MAX_CEL_CHARS:
        raise InputError(
            f"{field}: CEL expression of {len(expression):,} characters; the limit is {MAX_CEL_CHARS:,}", where=where
        )
    if _cel_depth(expression) > MAX_CEL_DEPTH:
        raise InputError(f"{field}: CEL expression nested deeper than {MAX_CEL_DEPTH} brackets", where=where)
    try:
        program = cel.compile(expression)
    except ValueError as exc:
        detail = str(exc).split("ERROR: ", 1)[-1].splitlines()[0]
        raise InputError(f"{field}: invalid CEL: {detail}", where=where) from None
    bound = set(_BOUND.findall(expression))
    known = roots()
    unknown = sorted(set(program.variables()) - set(known) - bound)
    if unknown:
        raise InputError(
            f"{field}: unknown name(s) {', '.join(unknown)}; evidence roots are {', '.join(known)}", where=where
        )
    for match in _paths(known).finditer(expression):
        path = match.group(1)
        if expression[match.end() :].lstrip().startswith("("):
            path = path.rsplit(".", 1)[0]  # a method call such as .all(...) or .map(...)
        if not path.startswith("params.") and not path_exists(path):
            raise InputError(f"{field}: unknown evidence path {path!r}", where=where)


def _check_applies_to(names: list[str], where: str) -> None:
    from auditor.tasks import TASKS

    known = {*TASKS, *(t.family for t in TASKS.values())}
    for name in names:
        if name not in known:
            raise InputError(
                f"applies_to: unknown task or task family {name!r}; known: {', '.join(sorted(known))}", where=where
            )


def validate_pack(pack: Pack, where: str) -> None:
    for control in pack.controls:
        at = f"{where}: control {control.id}"
        if control.applies_to is not None:
            _check_applies_to(control.applies_to, at)
        if control.when is not None:
            _check_cel(control.when, at, "when")
        check = control.check
        if isinstance(check, MetricCheck):
            if not path_exists(check.metric):
                raise InputError(f"unknown evidence path {check.metric!r}", where=at)
            if isinstance(check.value, str) and check.value.startswith("$") and check.value[1:] not in pack.params:
                raise InputError(f"value {check.value} names no parameter of pack {pack.id!r}", where=at)
            rule = check.sample
            if rule is not None:
                for path in (rule.low, rule.high, *([rule.n] if rule.n else [])):
                    if not path_exists(path):
                        raise InputError(f"unknown evidence path {path!r} in check.sample", where=at)
                if isinstance(rule.min_n, str) and rule.min_n.startswith("$") and rule.min_n[1:] not in pack.params:
                    raise InputError(f"min_n {rule.min_n} names no parameter of pack {pack.id!r}", where=at)
        elif isinstance(check, CelCheck):
            _check_cel(check.cel, at, "check.cel")
            if check.observed:
                _check_cel(check.observed, at, "check.observed")
            if not control.expected:
                raise InputError("a CEL check needs an 'expected' description", where=at)
        for name in re.findall(r"params\.([A-Za-z_]\w*)", check.cel if isinstance(check, CelCheck) else ""):
            if name not in pack.params:
                raise InputError(f"params.{name} is not a parameter of pack {pack.id!r}", where=at)


def read_pack(path: Path) -> Pack:
    data = read_yaml(path)
    try:
        pack = Pack.model_validate(data)
    except ValidationError as exc:
        raise InputError(validation_message(exc), where=str(path)) from None
    validate_pack(pack, str(path))
    return pack


def _params(pack: Pack, overrides: dict[str, Any], source: str) -> dict[str, Any]:
    values = {name: spec.default for name, spec in pack.params.items()}
    for key, value in overrides.items():
        pack_id, _, name = key.partition(".")
        if pack_id != pack.id:
            continue
        if name not in pack.params:
            raise InputError(f"policies.params: {key!r} is not a parameter of pack {pack.id!r}", where=source)
        default = pack.params[name].default
        numeric = isinstance(default, (int, float)) and not isinstance(default, bool)
        if numeric and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise InputError(f"policies.params: {key!r} must be a number", where=source)
        if isinstance(default, bool) and not isinstance(value, bool):
            raise InputError(f"policies.params: {key!r} must be true or false", where=source)
        values[name] = value
    return values


def load_packs(
    specs: list[str], overrides: dict[str, Any], base_dir: Path | None = None, source: str = "config"
) -> list[LoadedPack]:
    loaded: list[LoadedPack] = []
    seen: dict[str, str] = {}
    for spec in specs:
        for path in _pack_files(spec, base_dir):
            pack = read_pack(path)
            for control in pack.controls:
                if control.id in seen:
                    raise InputError(f"control {control.id} is defined twice ({seen[control.id]} and {path})")
                seen[control.id] = str(path)
            loaded.append(LoadedPack(pack=pack, source=str(path), params=_params(pack, overrides, source)))
    known = {p.pack.id for p in loaded}
    stray = sorted(k for k in overrides if k.partition(".")[0] not in known)
    if stray:
        raise InputError(f"policies.params: {stray[0]!r} names no loaded pack", where=source)
    return loaded


def load_waivers(path: Path) -> list[WaiverEntry]:
    data = read_yaml(path)
    try:
        return list(WaiverFile.model_validate(data).waivers)
    except ValidationError as exc:
        raise InputError(validation_message(exc), where=str(path)) from None
