"""The policy engine: packs + waivers + evidence -> one verdict per control, and the gate.

It reads only the evidence document (never a stage). Fail-closed rules:
- a control whose stage errored, or whose evidence is missing, is ``error``;
- an ``error`` always blocks the gate, whatever its severity;
- a stage error blocks the gate even if no control depends on it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import cel

from auditor.config import SEVERITIES, Severity
from auditor.evidence import STATUSES, ControlResult, ControlStatus, StageRecord, Summary, Waiver
from auditor.policy.loader import LoadedPack
from auditor.policy.model import CelCheck, Control, MetricCheck, WaiverEntry
from auditor.policy.paths import MissingEvidence, lookup


def _root_use(stage_of: dict[str, str]) -> re.Pattern[str]:
    return re.compile(r"(?<![\w.\"'])(" + "|".join(map(re.escape, stage_of)) + r")\b")


def _as_doubles(value: Any) -> Any:
    """CEL does not mix int and double; every evidence number is a double in policy expressions."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {k: _as_doubles(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_doubles(v) for v in value]
    return value


def _stages_used(control: Control, stage_of: dict[str, str]) -> list[str]:
    check = control.check
    text = check.metric if isinstance(check, MetricCheck) else f"{check.cel} {check.observed or ''}"
    text += f" {control.when or ''}"
    return sorted({stage_of[root] for root in _root_use(stage_of).findall(text)})


def _unreliable(control: Control, document: dict[str, Any], stage_of: dict[str, str]) -> str | None:
    """Why evidence this control reads is marked unreliable (a section's ``unreliable``), or None."""
    check = control.check
    text = check.metric if isinstance(check, MetricCheck) else f"{check.cel} {check.observed or ''}"
    for root in sorted(set(_root_use(stage_of).findall(text))):
        section = document.get(root)
        if isinstance(section, dict) and section.get("unreliable"):
            return f"{root} evidence is unreliable: {section['unreliable']}"
    return None


def _not_applicable(control: Control, document: dict[str, Any]) -> str | None:
    """Why the control does not apply to this run, or None when it does.

    Applicability that cannot be decided (the train stage failed, so the task is unknown;
    a ``when`` that cannot be evaluated) is not a skip: the control goes on to its own
    evaluation, which fails closed."""
    task = (document.get("training") or {}).get("task")
    applies_to = control.applies_to
    if applies_to is not None and task is not None and not {task["name"], task["family"]} & set(applies_to):
        return f"not applicable: applies to {', '.join(applies_to)}; this run's task is {task['name']}"
    if control.when is not None:
        try:
            applies = cel.evaluate(control.when, _as_doubles(document))
        except (TypeError, ValueError, KeyError, RuntimeError):
            return None
        if applies is False:
            return f"not applicable: {' '.join(control.when.split())} is false"
    return None


def _resolve(value: Any, params: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        return params[value[1:]]
    return value


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} is {value!r}, not a number")
    return float(value)


def _compare(op: str, observed: Any, target: Any) -> bool:
    if op in {"<=", "<", ">=", ">"}:
        a, b = _number(observed, "observed value"), _number(target, "threshold")
        return {"<=": a <= b, "<": a < b, ">=": a >= b, ">": a > b}[op]
    if op == "==":
        return bool(observed == target)
    if op == "!=":
        return bool(observed != target)
    if op in {"in", "not in"}:
        inside = observed in target if isinstance(target, list) else False
        return inside if op == "in" else not inside
    if op in {"empty", "not empty"}:
        empty = len(observed) == 0
        return empty if op == "empty" else not empty
    if op == "present":
        return True
    if op in {"true", "false"}:
        return observed is (op == "true")
    raise ValueError(f"unknown operator {op}")


def _expected(control: Control, params: dict[str, Any]) -> str:
    if control.expected:
        return re.sub(r"\$(\w+)", lambda m: str(params.get(m.group(1), m.group(0))), control.expected)
    check = control.check
    assert isinstance(check, MetricCheck)
    if check.op in {"empty", "not empty", "present", "true", "false"}:
        return check.op
    return f"{check.op} {_resolve(check.value, params)}"


def _sampled(check: MetricCheck, params: dict[str, Any], document: dict[str, Any]) -> tuple[ControlStatus, str]:
    """Decide on a measured sample: its whole interval must meet the limit to pass, and miss it to fail."""
    rule = check.sample
    assert rule is not None
    if rule.n is not None and rule.min_n is not None:
        n, minimum = _number(lookup(document, rule.n), "n"), _number(_resolve(rule.min_n, params), "minimum n")
        if n < minimum:
            return "inconclusive", f"n = {n:g} is below the {minimum:g} this control needs to decide"
    low_value, high_value = document_value(document, rule.low), document_value(document, rule.high)
    if low_value is None or high_value is None:
        return "inconclusive", "no interval: too little data (a sample too small, or an energy within its noise floor)"
    low, high = _number(low_value, "interval low"), _number(high_value, "interval high")
    target = _resolve(check.value, params)
    interval = f"{rule.method} interval [{low:.4g}, {high:.4g}]"
    if check.op in {"<=", "<"}:
        if _compare(check.op, high, target):
            return "pass", f"target met: {interval}"
        if not _compare(check.op, low, target):
            return "fail", f"target not met: {interval}"
    else:
        if _compare(check.op, low, target):
            return "pass", f"target met: {interval}"
        if not _compare(check.op, high, target):
            return "fail", f"target not met: {interval}"
    estimate = document_value(document, check.metric)
    size = None if rule.n is None else document_value(document, rule.n)
    more = _more_data(estimate, low, high, target, size, (rule.n or "").rsplit(".", 1)[-1].replace("_", " "))
    return "inconclusive", f"{interval} contains the limit {target}: {more}"


def _more_data(estimate: Any, low: float, high: float, target: Any, n: Any, label: str) -> str:
    """What sample would decide, if the estimate held and the interval narrowed as 1/sqrt(n)."""
    if not isinstance(estimate, int | float) or not isinstance(n, int | float) or n <= 0:
        return "more data would decide"
    gap = abs(float(target) - float(estimate))
    side = (high - estimate) if estimate < target else (estimate - low)
    if gap == 0 or side <= 0:
        return "more data would decide"
    needed = math.ceil(round(n * (side / gap) ** 2, 6))
    return f"about {needed:,} rather than {n:,.0f} ({label}) would decide, if the estimate {estimate:.4g} held"


def document_value(document: dict[str, Any], path: str) -> Any:
    """A value at ``path``, or None when it is null (an interval that could not be computed)."""
    try:
        return lookup(document, path)
    except MissingEvidence:
        node: Any = document
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                raise
            node = node[part]
        return None


def _evaluate(control: Control, params: dict[str, Any], document: dict[str, Any]) -> tuple[ControlStatus, Any, str]:
    check = control.check
    try:
        if isinstance(check, MetricCheck) and check.sample is not None and check.op in {"<=", "<", ">=", ">"}:
            observed = lookup(document, check.metric)
            status, reason = _sampled(check, params, document)
            return status, observed, reason
        if isinstance(check, MetricCheck):
            observed = lookup(document, check.metric)
            passed = _compare(check.op, observed, _resolve(check.value, params))
        else:
            assert isinstance(check, CelCheck)
            context = {**_as_doubles(document), "params": _as_doubles(params)}
            result = cel.evaluate(check.cel, context)
            if not isinstance(result, bool):
                return "error", None, f"CEL check returned {type(result).__name__}, not a boolean"
            passed = result
            observed = cel.evaluate(check.observed, context) if check.observed else None
    except MissingEvidence as exc:
        return "error", None, str(exc)
    except (TypeError, ValueError, KeyError, RuntimeError) as exc:
        return "error", None, f"check could not be evaluated: {exc}"
    return ("pass" if passed else "fail"), observed, "target met" if passed else "target not met"


def _findings(observed: Any) -> list[str] | None:
    """A control's findings, when its observed value lists them ('column' or 'column:ENTITY' strings)."""
    if isinstance(observed, list) and all(isinstance(item, str) for item in observed):
        return list(observed)
    return None


def _waiver_for(
    control_id: str, waivers: list[WaiverEntry], today: dt.date, observed: Any = None
) -> tuple[WaiverEntry | None, str, list[str]]:
    """The waiver that covers this control's failure, a note when none does, and the findings it covered.

    A waiver scoped to a column or an entity covers the control only when every finding is in its scope
    (or in the scope of another valid waiver of the same control): a new finding is never waived silently."""
    matching = [w for w in waivers if w.control == control_id]
    valid = [w for w in matching if w.expires >= today]
    if not valid:
        if matching:
            return None, f"; waiver expired on {max(w.expires for w in matching).isoformat()}", []
        return None, "", []
    findings = _findings(observed)
    unscoped = [w for w in valid if not w.scoped]
    if unscoped:
        return unscoped[0], "", findings or []
    if findings is None:
        return None, "; the waiver is scoped to a column or entity, and this control lists no findings to match", []
    outside = [f for f in findings if not any(w.covers(f) for w in valid)]
    if outside:
        return None, f"; not waived: {', '.join(outside[:5])} is outside every waiver's scope", []
    return valid[0], "", findings


def evaluate_controls(
    packs: list[LoadedPack],
    document: dict[str, Any],
    stages: list[StageRecord],
    waivers: list[WaiverEntry],
    today: dt.date,
) -> list[ControlResult]:
    from auditor.stages import stage_of_section

    stage_of = stage_of_section()
    by_stage = {s.name: s for s in stages}
    results = []
    for loaded in packs:
        for control in loaded.pack.controls:
            observed: Any = None
            status: ControlStatus
            problem = next(
                (by_stage[s] for s in _stages_used(control, stage_of) if s in by_stage and by_stage[s].status != "ok"),
                None,
            )
            not_applicable = _not_applicable(control, document)
            if not_applicable is not None:
                status, reason = "skipped", not_applicable
            elif problem is not None and problem.status == "error":
                status, reason = "error", f"stage {problem.name} failed: {problem.error}"
            elif problem is not None and problem.disabled:
                status, reason = (
                    "error",
                    f"stage {problem.name} was turned off ({problem.error}), but pack {loaded.pack.id} needs its "
                    "evidence: turn it on, or waive this control",
                )
            elif problem is not None:
                status, reason = (
                    "skipped",
                    f"stage {problem.name} was skipped: {problem.error or 'disabled in the config'}",
                )
            elif (doubt := _unreliable(control, document, stage_of)) is not None:
                status, reason = "error", doubt
            else:
                status, observed, reason = _evaluate(control, loaded.params, document)
            waiver, note, covered = (
                _waiver_for(control.id, waivers, today, observed) if status in {"fail", "error"} else (None, "", [])
            )
            if waiver is not None:
                until = waiver.expires.isoformat()
                reason = f"{status} ({reason}), waived until {until} by {waiver.approver}: {waiver.justification}"
                status = "waived"
            results.append(
                ControlResult(
                    id=control.id,
                    pack=loaded.pack.id,
                    pack_version=loaded.pack.version,
                    title=control.title,
                    description=control.description.strip(),
                    severity=control.severity,
                    refs=list(control.refs),
                    status=status,
                    observed=observed,
                    expected=_expected(control, loaded.params),
                    reason=reason + note,
                    remediation=control.remediation.strip(),
                    waiver=None
                    if waiver is None
                    else Waiver(
                        control=waiver.control,
                        justification=waiver.justification,
                        approver=waiver.approver,
                        expires=waiver.expires.isoformat(),
                        column=waiver.column,
                        entity=waiver.entity,
                        covered=covered,
                    ),
                )
            )
    return results


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity)


def gate(
    controls: list[ControlResult],
    stages: list[StageRecord],
    fail_on: Severity,
    warn_on: Severity,
    notes: list[str] | None = None,
    fail_on_inconclusive: bool = False,
) -> tuple[Summary, str]:
    counts = {status: sum(1 for c in controls if c.status == status) for status in STATUSES}
    inconclusive = [c.id for c in controls if c.status == "inconclusive"]
    blocking = [
        c.id
        for c in controls
        if c.status == "error"
        or (c.status == "fail" and _rank(c.severity) >= _rank(fail_on))
        or (c.status == "inconclusive" and fail_on_inconclusive)
    ]
    blocking += [f"stage:{s.name}" for s in stages if s.status == "error"]
    warnings = [c.id for c in controls if c.status == "fail" and _rank(warn_on) <= _rank(c.severity) < _rank(fail_on)]
    line = (
        f"{counts['pass']} passed, {counts['fail']} failed, {counts['waived']} waived, "
        f"{counts['error']} error{'s' if counts['error'] != 1 else ''}, {counts['skipped']} skipped"
        + (f", {counts['inconclusive']} inconclusive" if counts["inconclusive"] else "")
    )
    summary = Summary(
        counts=counts,
        line=line,
        fail_on=fail_on,
        warn_on=warn_on,
        blocking=blocking,
        warnings=warnings,
        inconclusive=inconclusive,
        fail_on_inconclusive=fail_on_inconclusive,
    )
    return summary, "fail" if blocking else "pass"
