"""The CI recipes in examples/ci parse, and every command they run exists with the options they pass."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from auditor.cli import app

REPO = Path(__file__).resolve().parents[1]
CI = REPO / "examples" / "ci"
OPERATORS = {";", "&&", "||", "|", ">", ">>", "2>&1", "<"}
KNOWN_ACTIONS = {
    "actions/checkout@v4",
    "actions/setup-python@v5",
    "actions/cache@v4",
    "actions/upload-artifact@v4",
    "github/codeql-action/upload-sarif@v3",
}


def workflow() -> dict[object, object]:
    document = yaml.safe_load((CI / "github-actions.yml").read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def steps() -> list[dict[str, object]]:
    jobs = workflow()["jobs"]
    assert isinstance(jobs, dict)
    return [step for job in jobs.values() for step in job["steps"]]


def commands(script: str) -> list[list[str]]:
    """Each simple command of a shell snippet, as tokens (GitHub expressions replaced by a word)."""
    script = re.sub(r"\$\{\{.*?\}\}", "EXPR", script).replace("\\\n", " ")
    found: list[list[str]] = []
    for line in script.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        current: list[str] = []
        for token in shlex.split(line, comments=True):
            if token in OPERATORS:
                found.append(current)
                current = []
            else:
                current.append(token)
        found.append(current)
    return [c for c in found if c]


def audit_invocations(script: str) -> list[list[str]]:
    calls = []
    for tokens in commands(script):
        for i, token in enumerate(tokens):
            if token == "audit" or token.endswith("/audit"):
                calls.append(tokens[i + 1 :])
                break
    return calls


def check_audit_call(args: list[str]) -> None:
    """The subcommands exist and each option is one the (sub)command accepts."""
    command: Any = typer.main.get_command(app)  # typer vendors click: its groups are not click.Group
    accepted = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
    rest = list(args)
    while hasattr(command, "commands") and rest:
        if rest[0] in command.commands:
            command = command.commands[rest.pop(0)]
            accepted |= {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        elif rest[0].startswith("-"):
            rest.pop(0)  # a group option; its value (if any) is checked below as part of rest
        else:
            break
    options = [a.split("=", 1)[0] for a in args if a.startswith("-")]
    unknown = [o for o in options if o not in accepted]
    assert not unknown, f"audit {' '.join(args)}: unknown options {unknown}"
    for arg in args:
        if arg.startswith("examples/"):
            assert (REPO / arg).exists(), f"audit {' '.join(args)}: {arg} does not exist"


def makefile_targets() -> set[str]:
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][\w-]*):", text, flags=re.M))


def test_workflow_triggers_and_permissions() -> None:
    document = workflow()
    triggers = document[True]  # YAML 1.1 reads the key `on` as true
    assert isinstance(triggers, dict)
    assert "pull_request" in triggers
    schedule = triggers["schedule"]
    assert isinstance(schedule, list) and len(schedule[0]["cron"].split()) == 5
    jobs = document["jobs"]
    assert isinstance(jobs, dict)
    for job in jobs.values():
        config = job.get("env", {}).get("CONFIG")
        assert config is None or (REPO / config).is_file(), config
    permissions = document["permissions"]
    assert isinstance(permissions, dict) and permissions["security-events"] == "write"


def test_workflow_steps_use_known_actions_and_real_commands() -> None:
    audit_calls, make_calls = [], []
    for step in steps():
        if "uses" in step:
            assert step["uses"] in KNOWN_ACTIONS, step["uses"]
        script = step.get("run")
        if isinstance(script, str):
            check = subprocess.run(["bash", "-n"], input=re.sub(r"\$\{\{.*?\}\}", "x", script), text=True)
            assert check.returncode == 0, f"shell syntax error in step {step.get('name')}"
            audit_calls += audit_invocations(script)
            make_calls += [c for c in commands(script) if c[0] in {"make", "sudo"} and "make" in c]
    assert [c[:1] for c in audit_calls] == [["run"], ["history"]]
    for call in audit_calls:
        check_audit_call(call)
    targets = makefile_targets()
    for call in make_calls:
        target = call[call.index("make") + 1]
        assert target in targets, f"make {target} is not a Makefile target"


def test_workflow_uploads_the_outputs_audit_writes() -> None:
    from auditor.render.base import RENDERERS

    written = {r.filename for r in RENDERERS.values()}
    paths: list[str] = []
    for step in steps():
        with_ = step.get("with")
        if isinstance(with_, dict):
            for key in ("path", "sarif_file"):
                value = with_.get(key)
                if isinstance(value, str):
                    paths += [p.strip() for p in value.splitlines() if p.strip().startswith("out/")]
        script = step.get("run")
        if isinstance(script, str):
            paths += re.findall(r"out/[\w.]+", script)
    assert paths
    for path in paths:
        assert path.removeprefix("out/") in written, f"{path} is not an output of audit run"
    assert {"out/report.pdf", "out/results.sarif", "out/summary.md"} <= set(paths)


@pytest.mark.parametrize("name", ["crontab", "auditor-nightly.service"])
def test_cron_and_systemd_commands_exist(name: str) -> None:
    text = (CI / name).read_text(encoding="utf-8")
    if name == "crontab":
        lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#") and "=" not in ln.split()[0]]
        scripts = [" ".join(ln.split()[5:]) for ln in lines]
        for line in lines:
            assert len(line.split()) > 5 and all(re.fullmatch(r"[\d*/,-]+", f) for f in line.split()[:5])
    else:
        scripts = [ln.split("=", 1)[1] for ln in text.splitlines() if ln.startswith(("ExecStart", "ExecStop"))]
    calls = [c for s in scripts for c in audit_invocations(s)]
    assert {c[0] for c in calls} == {"run", "history"}
    for call in calls:
        check_audit_call(call)


def test_timer_names_its_schedule() -> None:
    text = (CI / "auditor-nightly.timer").read_text(encoding="utf-8")
    assert re.search(r"^OnCalendar=\S", text, flags=re.M)
    assert "WantedBy=timers.target" in text


def test_the_checker_catches_a_wrong_option() -> None:
    with pytest.raises(AssertionError, match="unknown options"):
        check_audit_call(["run", "examples/credit-scoring/audit.yaml", "--basline", "latest"])
    with pytest.raises(AssertionError, match="does not exist"):
        check_audit_call(["run", "examples/nope/audit.yaml"])
