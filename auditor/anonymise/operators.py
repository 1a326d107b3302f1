"""Operators that replace each detected span, with presidio-anonymizer.

Which operators anonymise and which only pseudonymise (GDPR Recital 26):
``replace`` and ``mask`` remove the value; ``pseudonymise``, ``hash`` and
``encrypt`` keep a link to the person for whoever holds the key, so their
output is still personal data.

The secret (key_file or key_env) is read once, kept in memory and never
written anywhere: not to the evidence, a log, a history row or an error.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from auditor.config import AnonymiseConfig
from auditor.errors import InputError, require_regular_file
from auditor.pii.fast import Span

EFFECT = {
    "replace": "anonymised",
    "mask": "anonymised",
    "pseudonymise": "pseudonymised",
    "hash": "pseudonymised",
    "encrypt": "pseudonymised",
}
KEYED = ("hash", "encrypt")
AES_KEY_BYTES = (16, 24, 32)
MIN_SECRET_BYTES = 16


def load_secret(config: AnonymiseConfig, base: Path) -> tuple[bytes | None, str]:
    """The configured secret and where it came from ('key_file', 'key_env' or 'none'); InputError when unusable."""
    if config.key_env is not None:
        value = os.environ.get(config.key_env)
        if not value:
            raise InputError(f"environment variable {config.key_env} (anonymise.key_env) is not set")
        return value.encode("utf-8"), "key_env"
    if config.key_file is not None:
        path = Path(config.key_file).expanduser()
        path = path if path.is_absolute() else base / path
        require_regular_file(path, "the key file (anonymise.key_file)")
        try:
            secret = path.read_bytes().rstrip(b"\r\n")
        except FileNotFoundError:
            raise InputError("key file not found (anonymise.key_file)", where=str(path)) from None
        except OSError as exc:
            raise InputError(
                f"cannot read the key file: {exc.strerror} (anonymise.key_file)", where=str(path)
            ) from None
        if not secret:
            raise InputError("the key file is empty (anonymise.key_file)", where=str(path))
        return secret, "key_file"
    return None, "none"


def operator_for(config: AnonymiseConfig, entity: str) -> str:
    return config.operators.get(entity, config.default)


def check_secret(config: AnonymiseConfig, secret: bytes | None) -> None:
    """Refuse, before anything runs, a keyed operator without a usable key."""
    used = {config.default, *config.operators.values()}
    needs = sorted(op for op in used if op in KEYED)
    if needs and secret is None:
        raise InputError(f"operator {needs[0]} needs a key: set anonymise.key_file or anonymise.key_env")
    if "encrypt" in used and secret is not None and not _is_text(secret):
        raise InputError("the encrypt operator needs a text key (UTF-8, as Presidio takes it): anonymise.key_file")
    if "encrypt" in used and secret is not None and len(secret) not in AES_KEY_BYTES:
        raise InputError(
            f"the encrypt operator needs an AES key of 16, 24 or 32 bytes; the key has {len(secret)} "
            "(anonymise.key_file or anonymise.key_env)"
        )
    if "hash" in used and secret is not None and len(secret) < MIN_SECRET_BYTES:
        raise InputError(f"the hash operator needs a salt of at least {MIN_SECRET_BYTES} bytes (the key)")


def _is_text(secret: bytes) -> bool:
    try:
        secret.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


SURROGATES: dict[str, Callable[[Any], str]] = {
    "PERSON": lambda f: f.name(),
    "EMAIL_ADDRESS": lambda f: f.email(),
    "PHONE_NUMBER": lambda f: f.phone_number(),
    "LOCATION": lambda f: f.city(),
    "ADDRESS": lambda f: f.address().replace("\n", ", "),
    "IBAN_CODE": lambda f: f.iban(),
    "CREDIT_CARD": lambda f: f.credit_card_number(),
    "DATE_TIME": lambda f: f.date(),
    "IP_ADDRESS": lambda f: f.ipv4(),
    "URL": lambda f: f.url(),
}


class Pseudonyms:
    """Consistent surrogates: the same (entity, value) always gets the same fake value within a run.

    The surrogate is drawn by Faker seeded with HMAC-SHA256(secret, entity, value): without the
    secret it cannot be linked back; with a per-run random secret, not even across runs."""

    def __init__(self, secret: bytes | None) -> None:
        from faker import Faker

        self.secret = secret if secret is not None else os.urandom(32)
        self.fake = Faker("en_GB")
        self.cache: dict[tuple[str, str], str] = {}

    def __call__(self, entity: str, value: str) -> str:
        key = (entity, value)
        if key not in self.cache:
            digest = hmac.new(self.secret, f"{entity}\0{value}".encode(), hashlib.sha256).digest()
            make = SURROGATES.get(entity)
            if make is None:
                surrogate = f"<{entity}-{digest[:4].hex()}>"
            else:
                self.fake.seed_instance(int.from_bytes(digest[:8], "big"))
                surrogate = make(self.fake)
            self.cache[key] = surrogate
        return self.cache[key]

    @property
    def surrogates(self) -> set[str]:
        return set(self.cache.values())


class Anonymiser:
    def __init__(self, config: AnonymiseConfig, secret: bytes | None) -> None:
        from presidio_anonymizer import AnonymizerEngine

        self.config = config
        self.secret = secret
        self.engine = AnonymizerEngine()  # type: ignore[no-untyped-call]
        self.pseudonyms = Pseudonyms(secret)
        self.outputs: set[str] = set()
        """Every value an operator wrote (placeholders, masks, pseudonyms, hashes, ciphertexts)."""

    def _operator(self, entity: str) -> Any:
        from presidio_anonymizer.entities import OperatorConfig

        name = operator_for(self.config, entity)
        if name == "replace":
            return OperatorConfig("replace", {"new_value": f"<{entity}>"})
        if name == "mask":
            return OperatorConfig("mask", {"masking_char": "*", "chars_to_mask": 10_000, "from_end": False})
        if name == "hash":
            return OperatorConfig("hash", {"hash_type": "sha256", "salt": self.secret})
        if name == "encrypt":
            assert self.secret is not None  # check_secret refused this before
            return OperatorConfig("encrypt", {"key": self.secret.decode("utf-8", errors="strict")})
        return OperatorConfig("custom", {"lambda": lambda value, entity=entity: self.pseudonyms(entity, value)})

    def anonymise(self, text: str, spans: list[Span]) -> str:
        from presidio_anonymizer.entities import RecognizerResult

        if not spans:
            return text
        results = [RecognizerResult(s.entity, s.start, s.end, s.score) for s in spans]
        operators = {entity: self._operator(entity) for entity in {s.entity for s in spans}}
        result = self.engine.anonymize(text=text, analyzer_results=results, operators=operators)
        self.outputs.update(item.text for item in result.items)
        anonymised: str = result.text
        return anonymised
