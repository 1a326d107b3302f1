"""Ed25519 signing of the evidence digest (``audit run --sign-key``, ``audit verify --public-key``)."""

from __future__ import annotations

from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from auditor.errors import InputError


def read_key_file(path: Path) -> bytes:
    if not path.is_file():
        raise InputError("key file not found", where=str(path))
    return path.read_bytes()


def _private(pem: bytes, where: str | None = None) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise InputError("not an unencrypted PEM private key", where=where) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError("the signing key must be an Ed25519 private key", where=where)
    return key


def check_private_key(pem: bytes, where: str | None = None) -> None:
    _private(pem, where)


def sign_digest(pem: bytes, digest: bytes) -> bytes:
    return _private(pem).sign(digest)


def verify_digest(pem: bytes, digest: bytes, signature: bytes) -> bool:
    try:
        key = load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise InputError(f"not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError("the public key must be an Ed25519 key")
    try:
        key.verify(signature, digest)
    except InvalidSignature:
        return False
    return True
