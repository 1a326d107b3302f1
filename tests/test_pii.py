"""The column-aware PII scanner: kinds, recognizers, masking, findings, options, engines, bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.config import CustomRecognizer, PiiConfig
from auditor.data import ReadOptions, get_loader
from auditor.errors import InputError
from auditor.pii.fast import FAST_RECOGNIZERS, iban_ok, luhn_ok, nhs_ok, phone_ok, resolve_overlaps, ssn_ok
from auditor.pii.findings import Finding
from auditor.pii.kanon import k_anonymity
from auditor.pii.masking import mask
from auditor.pii.partitioned import scan_dataset
from auditor.pii.profile import classify
from auditor.pii.scanner import Scanner

ROWS = 120


def table() -> pd.DataFrame:
    names = ["Andrea Horton", "Maurice Farrell", "Kerry Wyatt", "John Smith", "Maria Garcia", "Chen Wei"]
    frame = pd.DataFrame(
        {
            "customer_name": [names[i % 6] + f" {chr(65 + i % 26)}" * 0 for i in range(ROWS)],
            "email": [f"user{i}@example.com" for i in range(ROWS)],
            "order_id": [str(4_000_000_000 + 7919 * i) for i in range(ROWS)],
            "amount": [f"{10 + i * 1.25:.2f}" for i in range(ROWS)],
            "product_code": [f"{200 + i % 700}-{300 + i % 600}-{1000 + i}" for i in range(ROWS)],
            "age": [str(20 + i % 50) for i in range(ROWS)],
            "gender": ["female" if i % 2 else "male" for i in range(ROWS)],
            "comment": ["Order shipped on time." for _ in range(ROWS)],
            "notes": [f"Customer called about invoice {i}, nothing to add." for i in range(ROWS)],
        }
    )
    frame.loc[7, "comment"] = "Please write to hidden.person@example.org instead."
    frame.loc[50, "comment"] = "Alternative contact: other.one@example.net, thanks."
    frame.loc[3, "notes"] = "Spoke with Andrea Horton about her diabetes treatment."
    return frame


def scan(frame: pd.DataFrame, tmp_path: Path, config: PiiConfig | None = None) -> tuple[list[Finding], object]:
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    findings: list[Finding] = []
    chunks = get_loader(path).iter_text_chunks(path, ReadOptions(chunk_rows=50))
    section = Scanner(config or PiiConfig()).scan(chunks, findings.extend)
    return findings, section


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Finding], object]:
    return scan(table(), tmp_path_factory.mktemp("scan"))


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (["1", "2.5", "-3e4"], "numeric"),
        (["yes", "no", "yes"], "boolean"),
        (["2024-01-05", "1999-12-31T10:00:00"], "datetime"),
        (["red", "blue", "red", "green"] * 10, "categorical"),
        (["Andrea Horton", "John Smith", "x@y.com"] + [f"id-{i}" for i in range(50)], "structured"),
        (["The customer asked us to call back next week about the loan."] * 3, "free_text"),
        (["\x00\x01\x02binary"] * 5, "binary"),
        ([], "empty"),
        ([str(4111111111111111 + i) for i in range(20)], "structured"),
    ],
)
def test_column_kinds(values: list[str], kind: str) -> None:
    series = pd.Series(values, dtype="str")
    assert classify(series, len(series), max(len(series), 1)) == kind


def test_validators() -> None:
    assert luhn_ok("4111 1111 1111 1111") and not luhn_ok("4111 1111 1111 1112")
    assert not luhn_ok("503820979600") and luhn_ok("503820979600", in_context=True)  # 12 digits need context
    assert iban_ok("DE89 3704 0044 0532 0130 00") and not iban_ok("DE89 3704 0044 0532 0130 01")
    assert ssn_ok("078-05-1120") and not ssn_ok("666-05-1120") and not ssn_ok("078-00-1120")
    assert nhs_ok("943 476 5919") and not nhs_ok("943 476 5918")
    for phone in ["(890)283-0166x131", "+44(0)1632 960 123", "001-909-737-8657", "0161 496 0123"]:
        assert phone_ok(phone), phone
    for decoy in ["2024-01-05", "192.168.1.20", "1234567", "11111111111"]:
        assert not phone_ok(decoy), decoy


def test_overlaps_keep_the_checksummed_entity() -> None:
    spans = [s for r in FAST_RECOGNIZERS for s in r.find("078-05-1120", in_context=False)]
    assert [s.entity for s in resolve_overlaps(spans)] == ["US_SSN"]


def test_short_card_numbers_need_context() -> None:
    card = next(r for r in FAST_RECOGNIZERS if r.entity == "CREDIT_CARD")
    assert card.find("ref 676272529097 for the order", in_context=False) == []
    assert card.find("my card 676272529097 expires", in_context=False)[0].entity == "CREDIT_CARD"


@pytest.mark.parametrize(
    ("value", "entity", "masked"),
    [
        ("john.smith@example.com", "EMAIL_ADDRESS", "j***@e***.c**"),
        ("+44(0)1632 960 123", "PHONE_NUMBER", "***23"),
        ("DE89 3704 0044 0532 0130 00", "IBAN_CODE", "DE***00"),
        ("4111 1111 1111 1111", "CREDIT_CARD", "***11"),
        ("Andrea Horton", "PERSON", "A*** H***"),
        ("abc", "PERSON", "***"),
    ],
)
def test_masking(value: str, entity: str, masked: str) -> None:
    assert mask(value, entity) == masked


def test_findings_are_sorted_0_based_and_never_hold_the_value(scanned: tuple[list[Finding], object]) -> None:
    findings, _ = scanned
    line = json.loads(findings[0].to_json())
    assert list(line) == ["row", "column", "entity", "start", "end", "score"]
    assert [f.row for f in findings] == sorted(f.row for f in findings)
    assert min(f.row for f in findings) == 0 and max(f.row for f in findings) == ROWS - 1
    assert all("@" not in f.to_json() for f in findings)


def test_sparse_emails_in_an_innocuous_column_are_all_found(scanned: tuple[list[Finding], object]) -> None:
    findings, _ = scanned
    hits = {(f.row, f.entity) for f in findings if f.column == "comment"}
    assert hits == {(7, "EMAIL_ADDRESS"), (50, "EMAIL_ADDRESS")}


def test_decoys_stay_clean(scanned: tuple[list[Finding], object]) -> None:
    findings, _ = scanned
    assert not [f for f in findings if f.column in {"order_id", "amount", "product_code", "age", "gender"}]


def test_column_summary(scanned: tuple[list[Finding], object]) -> None:
    _, section = scanned
    columns = {c.name: c for c in section.columns}
    assert columns["customer_name"].dominant_entity == "PERSON" and columns["customer_name"].identifier == "direct"
    assert columns["email"].entities == {"EMAIL_ADDRESS": ROWS} and columns["email"].share == 1.0
    assert columns["email"].masked_examples[0] == "EMAIL_ADDRESS: u***@e***.c**"
    assert columns["age"].identifier == "quasi" and columns["gender"].identifier == "quasi"
    assert columns["order_id"].kind == "structured" and columns["amount"].kind == "numeric"
    assert columns["notes"].kind == "free_text" and columns["notes"].entities.get("PERSON") == 1
    assert [(s.column, s.category) for s in section.special_categories] == [("notes", "HEALTH")]
    assert section.rows_scanned == ROWS and section.k_anonymity.quasi_identifiers == ["age", "gender"]


def test_k_anonymity_reports_group_sizes_only() -> None:
    frame = pd.DataFrame({"zip": ["1", "1", "2", "2", "2", "3"], "sex": ["f", "f", "m", "m", "m", "f"]})
    result = k_anonymity(frame, ["zip", "sex"], threshold=3, source="config")
    assert result.k == 1 and result.smallest_groups == [1, 2, 3] and result.rows_in_groups_below_threshold == 3


def test_options_allow_deny_custom_threshold_entities(tmp_path: Path) -> None:
    config = PiiConfig(
        allow_list=["user0@example.com"],
        deny_lists={"PROJECT_NAME": ["Bluebird"]},
        custom_recognizers=[CustomRecognizer(name="member", entity="MEMBER_ID", pattern=r"MBR-\d{6}", score=0.9)],
        entities=["EMAIL_ADDRESS", "PERSON"],
    )
    frame = table()
    frame.loc[9, "notes"] = "Member MBR-123456 joined project Bluebird."
    findings, _ = scan(frame, tmp_path, config)
    entities = {(f.row, f.column, f.entity) for f in findings}
    assert (0, "email", "EMAIL_ADDRESS") not in entities and (1, "email", "EMAIL_ADDRESS") in entities
    assert (9, "notes", "MEMBER_ID") in entities and (9, "notes", "PROJECT_NAME") in entities
    assert not [f for f in findings if f.entity == "HEALTH"]  # deny lists still run, but HEALTH is not selected
    strict, _ = scan(table(), tmp_path, PiiConfig(score_threshold=0.99))
    assert not [f for f in strict if f.column == "notes" and f.entity == "PERSON"]  # NER scores 0.85
    assert [f for f in strict if f.column == "customer_name"]  # column-level score: the sampled share, here 1.0


def test_columns_option_and_unknown_columns(tmp_path: Path) -> None:
    findings, section = scan(table(), tmp_path, PiiConfig(columns=["email"]))
    assert {f.column for f in findings} == {"email"}
    assert {c.name: c.method for c in section.columns}["customer_name"] == "not selected (pii.columns)"
    with pytest.raises(InputError, match="unknown column"):
        scan(table(), tmp_path, PiiConfig(columns=["nope"]))


def test_unknown_spacy_model_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not installed"):
        scan(table(), tmp_path, PiiConfig(spacy_model="xx_no_such_model"))


@pytest.mark.slow
def test_dask_engine_matches_the_local_engine(tmp_path: Path) -> None:
    from auditor.pii.parallel import DaskRunner, InlineRunner

    frame = table()
    names = frame["customer_name"]
    frame["notes"] = [f"Call {n} on +1 202-555-0{100 + i} about order {i}." for i, n in enumerate(names)]
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)

    def run(runner: object) -> list[Finding]:
        out: list[Finding] = []
        chunks = get_loader(path).iter_text_chunks(path, ReadOptions(chunk_rows=40))
        Scanner(PiiConfig(), runner=runner).scan(chunks, out.extend)  # type: ignore[arg-type]
        return out

    local = run(InlineRunner())
    local_section = Scanner(PiiConfig()).scan(get_loader(path).iter_text_chunks(path, ReadOptions(chunk_rows=40)))
    parquet = tmp_path / "data.parquet"
    frame.astype("str").to_parquet(parquet, row_group_size=37, index=False)  # several row groups
    csv_dir = tmp_path / "parts"
    csv_dir.mkdir()
    for i, start in enumerate(range(0, len(frame), 50)):
        frame.iloc[start : start + 50].to_csv(csv_dir / f"part-{i:02d}.csv", index=False)
    dask = DaskRunner(2, None)
    try:
        assert dask.workers == 2
        distributed = run(dask)
        for source in (parquet, csv_dir):
            loader = get_loader(source)
            read: list[int] = []
            original = type(loader).iter_text_chunks

            def counted(
                self: object, p: Path, o: ReadOptions, original: Any = original, read: list[int] = read
            ) -> Iterator[pd.DataFrame]:
                for chunk in original(self, p, o):
                    read.append(len(chunk))
                    yield chunk

            found: list[Finding] = []
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(type(loader), "iter_text_chunks", counted)
                section = scan_dataset(
                    Scanner(PiiConfig(), runner=dask), loader, source, ReadOptions(chunk_rows=40), found.extend
                )
            assert len(loader.partitions(source)) >= 3
            assert read == [40], f"the client read {read} rows: only the first chunk, to profile, is allowed"
            assert found == local, f"{source.name}: the workers' findings differ from the local scan's"
            assert section.columns == local_section.columns and section.k_anonymity == local_section.k_anonymity
            assert (section.rows_scanned, section.rows_with_pii) == (
                local_section.rows_scanned,
                local_section.rows_with_pii,
            )
            assert section.scan.engine == "dask" and section.findings == len(local)
            if source == parquet:  # without a findings file, only counts travel back
                counted = scan_dataset(Scanner(PiiConfig(), runner=dask), loader, source, ReadOptions(chunk_rows=40))
                assert counted.columns == section.columns and counted.findings == len(local)
    finally:
        dask.close()
    assert distributed == local and len(local) > ROWS


def test_scan_command_writes_findings_and_json(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    table().to_csv(path, index=False)
    findings = tmp_path / "findings.jsonl"
    result = CliRunner().invoke(
        app, ["scan", str(path), "--findings", str(findings), "--output-format", "json", "--workers", "1"]
    )
    assert result.exit_code == 0, result.stderr
    section = json.loads(result.stdout)
    lines = findings.read_text().splitlines()
    assert len(lines) == section["findings"] > 0
    assert all(set(json.loads(line)) == {"row", "column", "entity", "start", "end", "score"} for line in lines)
    assert "user0@example.com" not in findings.read_text() and "user0@example.com" not in result.stdout


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty file"),
        ("header.csv", b"a,b\n", "no data rows"),
        ("binary.csv", b"\x00\x01\x02\x03garbage\xff", "binary"),
        ("latin1.csv", "name\nJos\xe9\n".encode("latin-1"), "not valid utf-8"),
        ("ragged.csv", b"a,b\n1,2\n3,4,5\n", "malformed CSV"),
        ("bad.jsonl", b'{"a": 1}\n{not json}\n', "line 2"),
        ("nested.jsonl", b'{"a": {"b": 1}}\n', "nested"),
    ],
)
def test_scan_rejects_bad_input_with_exit_2(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = CliRunner().invoke(app, ["scan", str(path), "--findings", str(tmp_path / "f.jsonl"), "--workers", "1"])
    assert result.exit_code == 2, result.stderr
    assert message.lower() in result.stderr.lower() and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "f.jsonl").exists()


def test_huge_cells_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    pd.DataFrame({"text": ["x" * 50, "y" * 5000]}).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"row 1: cell of 5000 characters"):
        list(get_loader(path).iter_text_chunks(path, ReadOptions(max_cell_chars=1000)))


def test_a_directory_of_csv_files_is_one_dataset(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    table().iloc[:60].to_csv(folder / "a.csv", index=False)
    table().iloc[60:].to_csv(folder / "b.csv", index=False)
    chunks = list(get_loader(folder).iter_text_chunks(folder, ReadOptions(chunk_rows=25)))
    assert sum(len(c) for c in chunks) == ROWS and max(len(c) for c in chunks) <= 25


def test_an_email_with_a_non_ascii_local_part_is_found_whole() -> None:
    from auditor.pii.fast import FAST_RECOGNIZERS

    [email] = [r for r in FAST_RECOGNIZERS if r.entity == "EMAIL_ADDRESS"]
    text = "Bitte an marcela.kučerová@example.org oder jürgen.müller@web.de schreiben."
    found = [text[s.start : s.end] for s in email.find(text, in_context=False)]
    assert found == ["marcela.kučerová@example.org", "jürgen.müller@web.de"]


def test_k_anonymity_counts_merge_and_compact(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks, merged parts and the folding of many chunks give the group sizes of the whole table."""
    from auditor.pii import kanon

    monkeypatch.setattr(kanon, "COMPACT_AFTER", 3)
    frame = pd.DataFrame({"zip": [str(i % 7) for i in range(200)], "age": [str(i % 5) for i in range(200)]})
    whole = kanon.KAnonymityCounter(["zip", "age"], "config", 5)
    whole.add(frame)
    first, second = (kanon.KAnonymityCounter(["zip", "age"], "config", 5) for _ in range(2))
    for start in range(0, 120, 20):
        first.add(frame.iloc[start : start + 20])
    for start in range(120, 200, 10):
        second.add(frame.iloc[start : start + 10])
    first.merge(second)
    assert len(first._hashes) < 3  # folded
    assert first.group_sizes().tolist() == whole.group_sizes().tolist()
    assert first.result() == whole.result()


def test_scan_max_rows(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("name,city\nAda,Paris\nBob,Lyon\nCy,Nice\n", encoding="utf-8")
    refused = CliRunner().invoke(app, ["scan", str(path), "--max-rows", "2", "--workers", "1"])
    assert refused.exit_code == 2 and "more than 2 rows (data.max_rows)" in refused.output
    allowed = CliRunner().invoke(
        app, ["scan", str(path), "--max-rows", "3", "--workers", "1", "--output-format", "json"]
    )
    assert allowed.exit_code == 0 and json.loads(allowed.stdout)["rows_scanned"] == 3


@pytest.mark.parametrize(
    ("scheduler", "message"),
    [("tcp://127.0.0.1:9", "cannot reach dask scheduler"), ("tcp://127.0.0.1:notaport", "has an invalid port")],
)
def test_unreachable_scheduler_is_one_line(tmp_path: Path, scheduler: str, message: str) -> None:
    path = tmp_path / "data.csv"
    path.write_text("name,city\nAda,Paris\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["scan", str(path), "--engine", "dask", "--scheduler", scheduler])
    assert result.exit_code == 2 and message in result.output
    assert len(result.output.strip().splitlines()) == 1
