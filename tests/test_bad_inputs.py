"""The standing bad-input suite: every case exits 2 with one clear line, no traceback, nothing written.

Each case builds its inputs in a fresh directory and returns the command line. The
check is the same for all: exit code 2, exactly one non-empty line on stderr that
contains the expected fragment (what is wrong and where), no "Traceback", and no
file under ``out/`` (nor a findings file, nor a history database).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from auditor.cli import app

GOLDEN = Path(__file__).parent / "data" / "evidence.json"
MINIMAL = {
    "project": "bad-inputs",
    "data": {"path": "data.csv", "target": "label"},
    "train": {"epochs": 1, "batch_size": 16},
    "pii": {"workers": 1},
    "energy": {"country_iso_code": "FRA"},
}
GOOD_ROWS = "".join(f"{i},{i % 7},{i % 2}\n" for i in range(40))


def write_config(tmp: Path, config: dict | None = None, **changes: object) -> Path:
    data = json.loads(json.dumps(config or MINIMAL))
    for dotted, value in changes.items():
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    path = tmp / "audit.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def with_data(tmp: Path, content: bytes | str, name: str = "data.csv", **changes: object) -> list[str]:
    (tmp / name).write_bytes(content.encode() if isinstance(content, str) else content)
    config = write_config(tmp, **{"data.path": name, **changes})
    return ["run", str(config), "-o", str(tmp / "out")]


def run_config(tmp: Path, **changes: object) -> list[str]:
    (tmp / "data.csv").write_text("id,x,label\n" + GOOD_ROWS, encoding="utf-8")
    return ["run", str(write_config(tmp, **changes)), "-o", str(tmp / "out")]


def raw_config(tmp: Path, text: str | bytes) -> list[str]:
    path = tmp / "audit.yaml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    (tmp / "data.csv").write_text("id,x,label\n" + GOOD_ROWS, encoding="utf-8")
    return ["run", str(path), "-o", str(tmp / "out")]


def parquet_nested(tmp: Path) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"tags": [[1, 2], [3], []] * 10, "label": [0, 1, 0] * 10})
    pq.write_table(table, tmp / "data.parquet")
    return ["run", str(write_config(tmp, **{"data.path": "data.parquet"})), "-o", str(tmp / "out")]


def waivers(tmp: Path, body: str) -> list[str]:
    (tmp / "waivers.yaml").write_text(body, encoding="utf-8")
    return [*run_config(tmp), "--waivers", str(tmp / "waivers.yaml")]


def policy(tmp: Path, body: str) -> list[str]:
    (tmp / "pack.yaml").write_text(body, encoding="utf-8")
    return ["policies", "validate", str(tmp / "pack.yaml")]


PACK_HEAD = "id: custom\nversion: 1.0.0\ntitle: Custom pack\ndescription: A custom pack.\ncontrols:\n"
CONTROL = (
    "  - id: CUS-001\n    title: A control\n    description: What it checks.\n    severity: high\n"
    "    refs: [Art. 5]\n    remediation: Fix it.\n    expected: as expected\n    check:\n"
)


def evidence_file(tmp: Path, content: str | bytes) -> Path:
    path = tmp / "evidence.json"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def edited_evidence(tmp: Path, edit: Callable[[dict], None]) -> Path:
    doc = json.loads(GOLDEN.read_text(encoding="utf-8"))
    edit(doc)
    return evidence_file(tmp, json.dumps(doc))


def truncated_pdf(tmp: Path) -> list[str]:
    import datetime as dt

    from auditor.evidence import load_evidence
    from auditor.render import RenderContext
    from auditor.render.pdf import render_pdf

    pdf = render_pdf(load_evidence(GOLDEN), RenderContext(rendered_at=dt.datetime(2026, 11, 22, tzinfo=dt.UTC)))
    (tmp / "report.pdf").write_bytes(pdf[: len(pdf) // 2])
    return ["verify", str(tmp / "report.pdf")]


def foreign_pdf(tmp: Path) -> list[str]:
    # A minimal valid PDF with one empty page and no attachment.
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    (tmp / "other.pdf").write_bytes(bytes(out))
    return ["verify", str(tmp / "other.pdf")]


def evil_weights(tmp: Path) -> list[str]:
    import torch

    from tests.test_init_weights import RunsCode

    torch.save({"0.weight": RunsCode(tmp / "pwned")}, tmp / "evil.pt")
    return run_config(tmp, **{"train.init_weights": "evil.pt"})


def history_db(tmp: Path) -> str:
    from auditor.evidence import load_evidence
    from auditor.history import HistoryStore

    store = HistoryStore(f"sqlite:///{tmp / 'h.db'}")
    store.record(load_evidence(GOLDEN))
    store.close()
    return f"sqlite:///{tmp / 'h.db'}"


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Path], list[str]]
    fragment: str
    slow: bool = False  # renders a real report first


GARBAGE = zlib.compress(bytes(range(256)) * 64) + b"\x00\xff\xfe" * 100

CASES = [
    # --- audit run: the config ---------------------------------------------------------------
    Case("yaml-malformed", lambda t: raw_config(t, "project: x\ndata: [unclosed\n"), "malformed YAML"),
    Case("yaml-not-a-mapping", lambda t: raw_config(t, "- just\n- a list\n"), "mapping"),
    Case("yaml-empty", lambda t: raw_config(t, ""), "empty"),
    Case("yaml-binary", lambda t: raw_config(t, GARBAGE), "audit.yaml"),
    Case("key-unknown", lambda t: run_config(t, **{"train.epocs": 3}), "train.epocs"),
    Case(
        "key-missing-project",
        lambda t: raw_config(t, yaml.safe_dump({k: v for k, v in MINIMAL.items() if k != "project"})),
        "project",
    ),
    Case("key-missing-target", lambda t: run_config(t, data={"path": "data.csv"}), "data.target"),
    Case("type-epochs-text", lambda t: run_config(t, **{"train.epochs": "ten"}), "train.epochs"),
    Case(
        "range-epsilon-zero",
        lambda t: run_config(t, **{"train.privacy.target_epsilon": 0}),
        "train.privacy.target_epsilon",
    ),
    Case(
        "range-epsilon-negative",
        lambda t: run_config(t, **{"train.privacy.target_epsilon": -1}),
        "train.privacy.target_epsilon",
    ),
    Case("range-delta-one", lambda t: run_config(t, **{"train.privacy.delta": 1.0}), "train.privacy.delta"),
    Case("range-epochs-zero", lambda t: run_config(t, **{"train.epochs": 0}), "train.epochs"),
    Case("range-batch-zero", lambda t: run_config(t, **{"train.batch_size": 0}), "train.batch_size"),
    Case(
        "both-calibrations",
        lambda t: run_config(t, **{"train.privacy.target_epsilon": 2, "train.privacy.noise_multiplier": 1}),
        "not both",
    ),
    # Non-finite and degenerate hyperparameters: refused before any stage runs (.inf once hung the accountant).
    *(
        Case(
            f"nonfinite-{name}-{label}",
            lambda t, k=key, v=value: run_config(t, **{k: v}),
            f"{key}: Input should be a finite number",
        )
        for name, key in (
            ("noise", "train.privacy.noise_multiplier"),
            ("lr", "train.learning_rate"),
            ("clip", "train.privacy.max_grad_norm"),
            ("epsilon", "train.privacy.target_epsilon"),
            ("delta", "train.privacy.delta"),
            ("pue", "energy.pue"),
        )
        for label, value in (("inf", float("inf")), ("nan", float("nan")))
    ),
    Case(
        "noise-zero",
        lambda t: run_config(t, **{"train.privacy.noise_multiplier": 0}),
        "0 adds no noise, which is no DP",
    ),
    Case(
        "noise-huge",
        lambda t: run_config(t, **{"train.privacy.noise_multiplier": 1e9}),
        "train.privacy.noise_multiplier: Input should be less than or equal to 1000",
    ),
    Case(
        "task-unknown",
        lambda t: run_config(t, **{"train.task": "tabular-ranking"}),
        "unknown task 'tabular-ranking' (train.task)",
    ),
    Case("country-unknown", lambda t: run_config(t, **{"energy.country_iso_code": "XYZ"}), "XYZ"),
    Case("pack-unknown", lambda t: run_config(t, **{"policies.packs": ["nope"]}), "nope"),
    Case("config-is-directory", lambda t: ["run", str(t), "-o", str(t / "out")], "directory"),
    Case("config-missing", lambda t: ["run", str(t / "nope.yaml"), "-o", str(t / "out")], "nope.yaml"),
    # --- audit run: the data -----------------------------------------------------------------
    Case("data-missing", lambda t: run_config(t, **{"data.path": "absent.csv"}), "absent.csv"),
    Case("data-empty-file", lambda t: with_data(t, b""), "data.csv"),
    Case("data-header-only", lambda t: with_data(t, "id,x,label\n"), "no data rows"),
    Case(
        "data-single-class",
        lambda t: with_data(t, "id,x,label\n" + "".join(f"{i},{i},1\n" for i in range(40))),
        "a single class",
    ),
    Case("data-target-missing", lambda t: with_data(t, "id,x,y\n" + GOOD_ROWS), "label"),
    Case(
        "data-target-all-nan",
        lambda t: with_data(t, "id,x,label\n" + "".join(f"{i},{i},\n" for i in range(40))),
        "label",
    ),
    Case(
        "data-latin1",
        lambda t: with_data(t, ("id,x,label\n" + GOOD_ROWS + "41,café,1\n").encode("latin-1")),
        "not valid utf-8",
    ),
    Case(
        "data-mixed-encoding",
        lambda t: with_data(
            t, "id,x,label\n1,naïve,0\n".encode() + "2,naïve,1\n".encode("latin-1") + GOOD_ROWS.encode()
        ),
        "not valid utf-8",
    ),
    Case("data-ragged", lambda t: with_data(t, "id,x,label\n" + GOOD_ROWS + "41,1,0,extra,fields\n"), "line"),
    Case(
        "data-huge-cell",
        lambda t: with_data(t, "id,x,label\n" + GOOD_ROWS + "41," + "a" * 10_000_000 + ",1\n"),
        "max_cell_chars",
    ),
    Case("data-binary", lambda t: with_data(t, GARBAGE), "data.csv"),
    Case("data-parquet-nested", parquet_nested, "tags"),
    Case("data-too-many-rows", lambda t: run_config(t, **{"data.max_rows": 10}), "max_rows"),
    Case("data-too-many-columns", lambda t: run_config(t, **{"data.max_columns": 2}), "max_columns"),
    Case(
        "data-jsonl-broken",
        lambda t: with_data(t, '{"x": 1, "label": 0}\n{"x": 2, "label"\n', name="data.jsonl"),
        "data.jsonl",
    ),
    Case("data-unsupported-format", lambda t: with_data(t, b"PK\x03\x04", name="data.xlsx"), "data.xlsx"),
    Case("data-empty-directory", lambda t: (t / "d").mkdir() or run_config(t, **{"data.path": "d"}), "d"),
    Case("init-weights-missing", lambda t: run_config(t, **{"train.init_weights": "w.pt"}), "train.init_weights"),
    Case("init-weights-run-code", evil_weights, "refused: not a weights-only state_dict"),
    # --- audit run: options --------------------------------------------------------------------
    Case("waivers-missing", lambda t: [*run_config(t), "--waivers", str(t / "none.yaml")], "none.yaml"),
    Case(
        "waivers-invalid-date",
        lambda t: waivers(
            t, "waivers:\n  - {control: GDPR-DP-001, justification: j, approver: a, expires: 2026-02-30}\n"
        ),
        "expires",
    ),
    Case(
        "waivers-no-justification",
        lambda t: waivers(
            t, "waivers:\n  - {control: GDPR-DP-001, justification: ' ', approver: a, expires: 2027-01-01}\n"
        ),
        "justification",
    ),
    Case("format-unknown", lambda t: [*run_config(t), "--format", "pdf,docx"], "docx"),
    Case("fail-on-unknown", lambda t: [*run_config(t), "--fail-on", "severe"], "--fail-on"),
    Case(
        "output-is-a-file",
        lambda t: (t / "out.txt").write_text("x") and [*run_config(t)[:2], "-o", str(t / "out.txt")],
        "not a directory",
    ),
    Case(
        "sign-key-not-a-key",
        lambda t: (t / "k.pem").write_text("nope") and [*run_config(t), "--sign-key", str(t / "k.pem")],
        "k.pem",
    ),
    Case(
        "baseline-unknown-run",
        lambda t: [*run_config(t), "--baseline", "0123abcd", "--history", history_db(t)],
        "0123abcd",
    ),
    Case("baseline-missing-file", lambda t: [*run_config(t), "--baseline", str(t / "old.json")], "old.json"),
    Case("history-bad-url", lambda t: [*run_config(t), "--history", "nosuchdb://x"], "history database"),
    Case(
        "no-history-with-history",
        lambda t: [*run_config(t), "--no-history", "--history", "sqlite:///x.db"],
        "--no-history",
    ),
    # --- audit scan ----------------------------------------------------------------------------
    Case(
        "scan-missing",
        lambda t: ["scan", str(t / "absent.csv"), "--findings", str(t / "out" / "f.jsonl")],
        "absent.csv",
    ),
    Case(
        "scan-empty-directory",
        lambda t: (t / "d").mkdir() or ["scan", str(t / "d"), "--findings", str(t / "out" / "f.jsonl")],
        "d",
    ),
    Case(
        "scan-binary",
        lambda t: (
            (t / "g.csv").write_bytes(GARBAGE) and ["scan", str(t / "g.csv"), "--findings", str(t / "out" / "f.jsonl")]
        ),
        "g.csv",
    ),
    Case(
        "scan-header-only",
        lambda t: (
            (t / "h.csv").write_text("a,b\n") and ["scan", str(t / "h.csv"), "--findings", str(t / "out" / "f.jsonl")]
        ),
        "no data rows",
    ),
    Case(
        "scan-unknown-column",
        lambda t: (t / "s.csv").write_text("a,b\n1,2\n") and ["scan", str(t / "s.csv"), "--columns", "zzz"],
        "zzz",
    ),
    Case(
        "scan-bad-engine",
        lambda t: (t / "s.csv").write_text("a,b\n1,2\n") and ["scan", str(t / "s.csv"), "--engine", "spark"],
        "spark",
    ),
    Case(
        "scan-bad-format",
        lambda t: (t / "s.csv").write_text("a,b\n1,2\n") and ["scan", str(t / "s.csv"), "--output-format", "xml"],
        "xml",
    ),
    # --- audit report --------------------------------------------------------------------------
    Case("report-missing", lambda t: ["report", str(t / "none.json"), "-o", str(t / "out")], "none.json"),
    Case(
        "report-not-json",
        lambda t: ["report", str(evidence_file(t, "not json {")), "-o", str(t / "out")],
        "evidence.json",
    ),
    Case("report-binary", lambda t: ["report", str(evidence_file(t, GARBAGE)), "-o", str(t / "out")], "evidence.json"),
    Case(
        "report-missing-keys",
        lambda t: ["report", str(edited_evidence(t, lambda d: d.pop("run"))), "-o", str(t / "out")],
        "run",
    ),
    Case(
        "report-wrong-type",
        lambda t: ["report", str(edited_evidence(t, lambda d: d.update(verdict="maybe"))), "-o", str(t / "out")],
        "verdict",
    ),
    Case(
        "report-newer-schema",
        lambda t: ["report", str(edited_evidence(t, lambda d: d.update(schema_version="9.0"))), "-o", str(t / "out")],
        "schema_version",
    ),
    # --- audit verify --------------------------------------------------------------------------
    Case("verify-missing", lambda t: ["verify", str(t / "none.pdf")], "none.pdf"),
    Case("verify-truncated", truncated_pdf, "report.pdf", slow=True),
    Case("verify-foreign", foreign_pdf, "evidence.json"),
    Case("verify-not-a-pdf", lambda t: (t / "x.pdf").write_bytes(GARBAGE) and ["verify", str(t / "x.pdf")], "x.pdf"),
    # --- audit policies validate -----------------------------------------------------------------
    Case(
        "policy-bad-cel", lambda t: policy(t, PACK_HEAD + CONTROL + "      cel: training.privacy.epsilon <= (\n"), "CEL"
    ),
    Case(
        "policy-unknown-root", lambda t: policy(t, PACK_HEAD + CONTROL + "      cel: weather.rain < 1.0\n"), "weather"
    ),
    Case("policy-no-check", lambda t: policy(t, PACK_HEAD + CONTROL.replace("    check:\n", "")), "check"),
    Case("policy-duplicate-id", lambda t: policy(t, PACK_HEAD + (CONTROL + '      cel: "true"\n') * 2), "duplicate"),
    Case("policy-malformed", lambda t: policy(t, "id: [\n"), "malformed YAML"),
    Case("policy-missing", lambda t: ["policies", "validate", str(t / "none.yaml")], "none.yaml"),
    Case("policy-explain-unknown", lambda t: ["policies", "explain", "NOPE-001"], "NOPE-001"),
    # --- audit history -------------------------------------------------------------------------
    Case(
        "history-no-database", lambda t: ["history", "--history", f"sqlite:///{t / 'absent.db'}"], "no history database"
    ),
    Case("history-show-unknown", lambda t: ["history", "--history", history_db(t), "show", "ffff"], "ffff"),
    Case("history-trend-unknown", lambda t: ["history", "--history", history_db(t), "trend", "latency"], "latency"),
    Case("history-prune-nothing", lambda t: ["history", "--history", history_db(t), "prune"], "--keep"),
    Case(
        "history-not-a-database",
        lambda t: (t / "x.db").write_bytes(GARBAGE) and ["history", "--history", f"sqlite:///{t / 'x.db'}"],
        "x.db",
    ),
]


def test_there_are_at_least_40_distinct_cases() -> None:
    assert len({c.id for c in CASES}) == len(CASES) >= 40


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=[pytest.mark.slow] if c.slow else []) for c in CASES])
def test_bad_input(case: Case, tmp_path: Path) -> None:
    args = case.build(tmp_path)
    before = set(tmp_path.rglob("*"))
    result = CliRunner().invoke(app, args)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert len(lines) == 1, result.stderr
    assert case.fragment in lines[0], lines[0]
    assert not (tmp_path / "out").exists(), "output written for bad input"
    created = set(tmp_path.rglob("*")) - before
    assert not created, f"files created for bad input: {sorted(map(str, created))}"
