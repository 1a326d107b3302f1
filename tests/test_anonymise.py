"""The anonymise stage: operators, pseudonym consistency, keys, the residual rescan and its control."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, text_config
from typer.testing import CliRunner

from auditor.anonymise.operators import Anonymiser, Pseudonyms, check_secret, load_secret
from auditor.cli import app
from auditor.config import AnonymiseConfig, PiiConfig
from auditor.errors import InputError
from auditor.pii.fast import Span

TEXT = "Call Anna Berg on 020 7946 0958 or anna.berg@example.org today."
SPANS = [Span("PERSON", 5, 14, 0.85), Span("PHONE_NUMBER", 18, 31, 0.9), Span("EMAIL_ADDRESS", 35, 56, 1.0)]
KEY = b"0123456789abcdef0123456789abcdef"


def _anonymise(operators: dict[str, str], default: str = "replace", secret: bytes | None = KEY) -> str:
    config = AnonymiseConfig(enabled=True, operators=operators, default=default)  # type: ignore[arg-type]
    return Anonymiser(config, secret).anonymise(TEXT, SPANS)


def test_replace_and_mask_anonymise() -> None:
    assert _anonymise({}) == "Call <PERSON> on <PHONE_NUMBER> or <EMAIL_ADDRESS> today."
    assert _anonymise({}, default="mask") == "Call ********* on ************* or ********************* today."


def test_hash_is_salted_by_the_key() -> None:
    first, again = _anonymise({}, default="hash"), _anonymise({}, default="hash")
    other = _anonymise({}, default="hash", secret=KEY[::-1])
    assert first == again != other
    assert "Anna" not in first and re.search(r"Call [0-9a-f]{64} on", first)


def test_encrypt_is_reversible_with_the_key() -> None:
    from presidio_anonymizer import DeanonymizeEngine
    from presidio_anonymizer.entities import OperatorConfig, OperatorResult

    config = AnonymiseConfig(enabled=True, default="encrypt")
    anonymiser = Anonymiser(config, KEY)
    out = anonymiser.anonymise(TEXT, SPANS[:1])
    assert "Anna Berg" not in out
    cipher = out[5 : out.index(" on ")]
    restored = DeanonymizeEngine().deanonymize(  # type: ignore[no-untyped-call]
        text=out,
        entities=[OperatorResult(start=5, end=5 + len(cipher), entity_type="PERSON")],  # type: ignore[no-untyped-call]
        operators={"DEFAULT": OperatorConfig("decrypt", {"key": KEY.decode()})},
    )
    assert restored.text == TEXT


def test_pseudonyms_are_consistent_within_a_run_and_keyed() -> None:
    pseudonyms = Pseudonyms(KEY)
    first = pseudonyms("PERSON", "Anna Berg")
    assert pseudonyms("PERSON", "Anna Berg") == first != "Anna Berg"
    assert pseudonyms("PERSON", "Olaf Berg") != first
    assert Pseudonyms(KEY)("PERSON", "Anna Berg") == first  # same key: same surrogate in another run
    assert Pseudonyms(KEY[::-1])("PERSON", "Anna Berg") != first
    assert re.fullmatch(r"<CUSTOM_ID-[0-9a-f]{8}>", pseudonyms("CUSTOM_ID", "X-12"))
    out = _anonymise({"PERSON": "pseudonymise", "EMAIL_ADDRESS": "pseudonymise"})
    assert "Anna" not in out and "<PHONE_NUMBER>" in out and "@" in out


def test_key_handling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InputError, match="key file not found"):
        load_secret(AnonymiseConfig(key_file="missing.key"), tmp_path)
    monkeypatch.delenv("AUDIT_TEST_KEY", raising=False)
    with pytest.raises(InputError, match=r"AUDIT_TEST_KEY \(anonymise.key_env\) is not set"):
        load_secret(AnonymiseConfig(key_env="AUDIT_TEST_KEY"), tmp_path)
    monkeypatch.setenv("AUDIT_TEST_KEY", "short")
    secret, source = load_secret(AnonymiseConfig(key_env="AUDIT_TEST_KEY"), tmp_path)
    assert (secret, source) == (b"short", "key_env")
    with pytest.raises(InputError, match="AES key of 16, 24 or 32 bytes; the key has 5"):
        check_secret(AnonymiseConfig(default="encrypt"), secret)
    with pytest.raises(InputError, match="operator hash needs a key"):
        check_secret(AnonymiseConfig(operators={"PERSON": "hash"}), None)
    check_secret(AnonymiseConfig(operators={"PERSON": "pseudonymise"}), None)  # a per-run random key is enough
    with pytest.raises(InputError, match="needs a text key"):
        check_secret(AnonymiseConfig(default="encrypt"), bytes(range(128, 160)))


def test_planted_identifiers_do_not_survive(text_example: Path) -> None:
    """Emails and IBANs planted in the tickets are all gone from the text the model trains on."""
    from auditor.pii.scanner import Scanner

    texts = list(pd.read_csv(text_example / "tickets.csv")["text"].astype(str))[:120]
    planted = {m for t in texts for m in re.findall(r"[\w.]+@[\w.]+\w|GB\d\d[A-Z]{4}\d{14}", t)}
    assert len(planted) > 20
    scanner = Scanner(PiiConfig(workers=1))
    anonymiser = Anonymiser(AnonymiseConfig(enabled=True, operators={"EMAIL_ADDRESS": "pseudonymise"}), None)
    out = [anonymiser.anonymise(t, s) for t, s in zip(texts, scanner.text_spans("text", texts), strict=True)]
    assert not [value for value in planted if any(value in t for t in out)]


def test_no_planted_value_of_any_kind_survives(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15: on the support-tickets example (its own seed), the anonymised text holds none of the planted
    names, first names, emails, phones, postal addresses or IBANs (each person's values recorded as the
    generator draws them)."""
    import importlib.util

    from auditor.pii.scanner import Scanner

    spec = importlib.util.spec_from_file_location("tickets_generate", REPO / "examples/support-tickets/generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    people: list[dict[str, str]] = []
    draw = generate.new_person
    monkeypatch.setattr(generate, "new_person", lambda fake: people.append(draw(fake)) or people[-1])
    texts = [row["text"] for row in generate.generate(600, 2026)]
    spans = Scanner(PiiConfig(workers=1)).text_spans("text", texts)
    anonymiser = Anonymiser(AnonymiseConfig(enabled=True), None)
    out = [anonymiser.anonymise(t, s) for t, s in zip(texts, spans, strict=True)]
    planted = [
        (kind, value, o) for t, o, p in zip(texts, out, people, strict=True) for kind, value in p.items() if value in t
    ]
    assert len({kind for kind, _, _ in planted}) == 6 and len(planted) > 1200
    assert [(kind, value) for kind, value, o in planted if value in o] == []


def _run(config: Path, out: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["run", str(config), "-o", str(out), "--force", *args])
    return result.exit_code, result.stderr


@pytest.mark.slow
def test_anonymised_run_rescans_and_gates(text_example: Path, tmp_path: Path, history_db: str) -> None:
    shutil.copy(text_example / "tickets.csv", tmp_path / "tickets.csv")
    secret = "k3y-that-must-never-leak-0123456"
    (tmp_path / "anon.key").write_text(secret + "\n", encoding="utf-8")
    config = text_config(
        tmp_path,
        pii={"enabled": True, "workers": 1},
        anonymise={
            "enabled": True,
            "key_file": "anon.key",
            "operators": {"PERSON": "pseudonymise", "IBAN_CODE": "hash", "EMAIL_ADDRESS": "encrypt"},
        },
        train={"model": {"hf": str(text_example / "bert")}, "epochs": 1},
        audit={"enabled": False},
    )
    code, stderr = _run(config, tmp_path / "out", "--write-anonymised", str(tmp_path / "anonymised"))
    assert code in (0, 1), stderr
    ev = json.loads((tmp_path / "out" / "evidence.json").read_text(encoding="utf-8"))
    an = ev["anonymisation"]
    # --write-anonymised: the text the model trained on, and the target; a manifest without the key.
    import pandas as pd

    written = pd.read_parquet(tmp_path / "anonymised" / "anonymised.parquet")
    assert list(written.columns) == ["text", "category"] and len(written) == ev["data"]["rows"]
    raw_emails = set(re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", (tmp_path / "tickets.csv").read_text()))
    assert raw_emails and not [e for e in raw_emails if written["text"].str.contains(e, regex=False).any()]
    manifest = json.loads((tmp_path / "anonymised" / "manifest.json").read_text())
    assert manifest["source_sha256"] == ev["data"]["sha256"] and manifest["replaced"] == an["replaced"]
    assert {o["entity"]: o["operator"] for o in manifest["operators"]}["EMAIL_ADDRESS"] == "encrypt"
    assert (
        secret not in json.dumps(manifest)
        and secret.encode() not in (tmp_path / "anonymised").joinpath("anonymised.parquet").read_bytes()
    )
    used = {o["entity"]: o for o in an["operators"]}
    assert used["PERSON"]["effect"] == "pseudonymised" and used["PERSON"]["replaced"] > 100
    assert used["EMAIL_ADDRESS"]["operator"] == "encrypt" and used["EMAIL_ADDRESS"]["residual"] == 0
    assert an["key_source"] == "key_file" and an["pseudonymised"] is True
    assert an["residual"] >= an["residual_direct"] >= 0
    assert an["residual"] == sum(o["residual"] for o in used.values())
    control = next(c for c in ev["controls"] if c["id"] == "GDPR-ANON-001")
    assert control["status"] == ("pass" if an["residual_direct"] == 0 else "fail")
    assert next(c for c in ev["controls"] if c["id"] == "GDPR-MIN-002")["status"] == "skipped"
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    with sqlite3.connect(history_db.removeprefix("sqlite:///")) as db:
        assert not any(secret in str(row) for row in db.execute("SELECT * FROM runs"))


@pytest.mark.parametrize(
    ("anonymise", "message"),
    [
        ({"enabled": True, "key_file": "nowhere.key", "default": "hash"}, "key file not found (anonymise.key_file)"),
        ({"enabled": True, "default": "scramble"}, "anonymise.default: Input should be"),
        ({"enabled": True, "operators": {"SHOE_SIZE": "replace"}}, "unknown entity 'SHOE_SIZE'"),
        ({"enabled": True, "default": "encrypt", "key_env": "AUDIT_SHORT_KEY"}, "AES key of 16, 24 or 32 bytes"),
    ],
)
def test_bad_anonymise_settings_exit_2(
    text_example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, anonymise: dict[str, object], message: str
) -> None:
    monkeypatch.setenv("AUDIT_SHORT_KEY", "abc")
    shutil.copy(text_example / "tickets.csv", tmp_path / "tickets.csv")
    config = text_config(tmp_path, anonymise=anonymise, train={"model": {"hf": str(text_example / "bert")}})
    code, stderr = _run(config, tmp_path / "out")
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert "abc" not in stderr


def test_write_anonymised_needs_anonymisation(text_example: Path, tmp_path: Path) -> None:
    config = text_config(tmp_path, train={"model": {"hf": str(text_example / "bert")}})
    code, stderr = _run(config, tmp_path / "out", "--write-anonymised", str(tmp_path / "anonymised"))
    assert code == 2 and "needs anonymise.enabled: true" in stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "anonymised").exists()
