"""Property tests (hypothesis): loaders and the config never fail with anything but InputError,
masking never leaks a run of four characters, findings files are always well-formed."""

from __future__ import annotations

import json
import string
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.config import load_config
from auditor.data import ReadOptions, get_loader
from auditor.errors import InputError
from auditor.pii.findings import Finding, FindingsWriter
from auditor.pii.masking import WINDOW, mask

# Derandomized, with no example database: CI sees the same examples on every run, so a red
# build means a change broke something, not that a new random draw found an old bug. Explore
# further by hand with a larger max_examples and derandomize=False.
_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow], "derandomize": True, "database": None}
FAST = settings(max_examples=150, **_COMMON)
SLOW = settings(max_examples=60, **_COMMON)

# --- the config loader ------------------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.floats(allow_nan=True), st.text(max_size=20)
)
KEYS = ["project", "data", "path", "target", "train", "epochs", "privacy", "target_epsilon", "delta", "energy"]
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), children, max_size=5),
    ),
    max_leaves=20,
)


def _load(text: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.yaml"
        path.write_bytes(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
        try:
            load_config(path)
        except InputError as exc:
            assert "\n" not in exc.one_line()


@FAST
@given(values)
def test_config_loader_on_any_structure(document: object) -> None:
    _load(yaml.safe_dump(document, allow_unicode=True))


@FAST
@given(st.text(max_size=300))
def test_config_loader_on_any_text(text: str) -> None:
    _load(text)


@FAST
@given(st.binary(max_size=300))
def test_config_loader_on_any_bytes(data: bytes) -> None:
    _load(data)


# --- the CSV and JSONL loaders ----------------------------------------------------------------


def _read_all(name: str, data: bytes, loader_name: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        options = ReadOptions(max_cell_chars=200, chunk_rows=7)
        try:
            loader = get_loader(path)
            loader.load(path, options)
            for _ in loader.iter_text_chunks(path, options):
                pass
        except InputError as exc:
            assert "\n" not in exc.one_line()


cells = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)
rows = st.lists(st.lists(cells, min_size=1, max_size=5), min_size=0, max_size=12)


@SLOW
@given(rows)
def test_csv_loader_on_any_table(table: list[list[str]]) -> None:
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer).writerows(table)
    _read_all("data.csv", buffer.getvalue().encode("utf-8"))


@SLOW
@given(st.binary(max_size=400))
def test_csv_loader_on_any_bytes(data: bytes) -> None:
    _read_all("data.csv", data)


@SLOW
@given(st.lists(st.one_of(values.map(lambda v: json.dumps(v, allow_nan=True)), st.text(max_size=30)), max_size=10))
def test_jsonl_loader_on_any_lines(lines: list[str]) -> None:
    _read_all("data.jsonl", "\n".join(lines).encode("utf-8", "surrogatepass"))


# --- masking ----------------------------------------------------------------------------------

alnum = string.ascii_letters + string.digits
emails = st.builds(
    lambda local, domain, tld: f"{local}@{domain}.{tld}",
    st.text(alnum + "._+-", min_size=1, max_size=20),
    st.text(alnum + "-", min_size=1, max_size=15),
    st.text(string.ascii_lowercase, min_size=2, max_size=6),
)
phones = st.from_regex(r"\A\+?[0-9]{1,3}[ .-]?\(?[0-9]{2,4}\)?[ .-]?[0-9]{3,4}[ .-]?[0-9]{3,5}\Z")
cards = st.from_regex(r"\A[0-9]{4}([ -]?[0-9]{4}){3}\Z")
ibans = st.from_regex(r"\A[A-Z]{2}[0-9]{2}( ?[A-Z0-9]{4}){3,7}( ?[A-Z0-9]{1,3})?\Z")
ssns = st.from_regex(r"\A[0-9]{3}-?[0-9]{2}-?[0-9]{4}\Z")
ENTITY_VALUES = [
    ("EMAIL_ADDRESS", emails),
    ("PHONE_NUMBER", phones),
    ("CREDIT_CARD", cards),
    ("IBAN_CODE", ibans),
    ("US_SSN", ssns),
]


def _assert_no_window(masked: str, original: str) -> None:
    for i in range(len(masked) - WINDOW + 1):
        assert masked[i : i + WINDOW] not in original, (masked, original)


@FAST
@given(st.one_of(*[st.tuples(st.just(entity), strategy) for entity, strategy in ENTITY_VALUES]))
def test_masking_never_keeps_four_characters(pair: tuple[str, str]) -> None:
    entity, value = pair
    masked = mask(value, entity)
    _assert_no_window(masked, value)
    assert masked != value


@FAST
@given(st.text(max_size=60), st.sampled_from([e for e, _ in ENTITY_VALUES] + ["PERSON", "LOCATION", "OTHER"]))
def test_masking_any_text_as_any_entity(value: str, entity: str) -> None:
    _assert_no_window(mask(value, entity), value)


# --- the findings writer ----------------------------------------------------------------------

findings = st.lists(
    st.builds(
        Finding,
        row=st.integers(0, 10**9),
        column=st.text(max_size=30),
        start=st.integers(0, 10**6),
        end=st.integers(0, 10**6),
        entity=st.sampled_from(["EMAIL_ADDRESS", "PERSON", "PHONE_NUMBER"]),
        score=st.floats(0, 1),
    ),
    max_size=30,
)


@FAST
@given(st.lists(findings, max_size=4))
def test_findings_file_is_always_well_formed(batches: list[list[Finding]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "findings.jsonl"
        with FindingsWriter(path) as writer:
            for batch in batches:
                writer.write(batch)
        lines = path.read_text(encoding="utf-8").splitlines()
        expected = [f for batch in batches for f in batch]
        assert len(lines) == len(expected) == writer.count
        for line, finding in zip(lines, expected, strict=True):
            record = json.loads(line)
            assert list(record) == ["row", "column", "entity", "start", "end", "score"]
            assert (record["row"], record["column"], record["entity"]) == (finding.row, finding.column, finding.entity)
        assert not [p for p in Path(tmp).iterdir() if p.name != "findings.jsonl"], "temporary file left behind"


def test_findings_writer_leaves_nothing_when_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "findings.jsonl"
    try:
        with FindingsWriter(path) as writer:
            writer.write([Finding(0, "c", 0, 1, "PERSON", 0.9)])
            raise InputError("stop")
    except InputError:
        pass
    assert list(tmp_path.iterdir()) == []
