"""Signing keys: Ed25519 over the evidence digest (``evidence.sig``); the PAdES signature is in ``pdfsig``."""

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


def is_ed25519(pem: bytes) -> bool:
    try:
        return isinstance(load_pem_private_key(pem, password=None), Ed25519PrivateKey)
    except (ValueError, TypeError):
        return False


def is_ed25519_public(pem: bytes) -> bool:
    try:
        return isinstance(load_pem_public_key(pem), Ed25519PublicKey)
    except (ValueError, TypeError):
        raise InputError("not a PEM public key") from None


def check_signing_files(key: bytes, cert: bytes | None, key_where: str | None, cert_where: str | None) -> None:
    """``--sign-key`` (Ed25519, ECDSA or RSA) and the optional ``--sign-cert`` for it, before any work."""
    from auditor.pdfsig import load_certificate, load_signing_key

    private = load_signing_key(key, key_where)
    if cert is not None:
        load_certificate(cert, private, cert_where)


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
