"""PAdES signatures over the whole report (pyHanko): ``--sign-key`` signs, ``audit verify`` checks.

The signature covers every byte of the PDF as written, pages included, so any
later change (a rewrite, replaced pages, or an incremental update appended
after ``%%EOF``) is detected by ``audit verify`` and by ordinary PDF readers.
Without ``--sign-cert`` the signer certificate is self-signed for the key:
readers then show "signer unknown" but still check integrity, and ``audit
verify --public-key`` ties the signature to the key.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from auditor.errors import InputError

FIELD = "AuditorSignature"
SigningKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def load_signing_key(pem: bytes, where: str | None = None) -> SigningKey:
    """An unencrypted PEM private key: Ed25519, ECDSA or RSA (2048 bits or more)."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise InputError("not an unencrypted PEM private key", where=where) from None
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size < 2048:
        raise InputError(f"an RSA signing key needs 2048 bits or more, not {key.key_size}", where=where)
    if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise InputError("the signing key must be an Ed25519, ECDSA or RSA private key", where=where)
    return key


def _public_der(key: object) -> bytes:
    if not hasattr(key, "public_bytes"):
        raise InputError("not a public key")
    der: bytes = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return der


def load_certificate(pem: bytes, key: SigningKey, where: str | None = None) -> x509.Certificate:
    """The signer certificate from ``--sign-cert``; its public key must be the signing key's."""
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise InputError("not a PEM X.509 certificate", where=where) from None
    if _public_der(cert.public_key()) != _public_der(key.public_key()):
        raise InputError("the certificate is not for the signing key (their public keys differ)", where=where)
    return cert


def self_signed(key: SigningKey, now: dt.datetime) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "auditor report signer")])
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(usage, critical=True)
    )
    return builder.sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())


def sign_pdf(pdf: bytes, key_pem: bytes, cert_pem: bytes | None = None) -> bytes:
    """The PDF with one PAdES signature (an incremental update) covering all of it."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key = load_signing_key(key_pem)
    cert = load_certificate(cert_pem, key) if cert_pem else self_signed(key, dt.datetime.now(dt.UTC))
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
        cert_registry=SimpleCertificateStore(),  # type: ignore[no-untyped-call]
    )
    meta = signers.PdfSignatureMetadata(field_name=FIELD, subfilter=fields.SigSeedSubFilter.PADES)
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer)
    signed: bytes = out.getvalue()
    return signed


@dataclass
class PdfSignature:
    status: Literal["valid", "invalid", "absent"]
    signer: str | None
    key_matches: bool | None
    problems: list[str]


def check_pdf_signature(pdf: bytes, public_key_pem: bytes | None) -> PdfSignature:
    """Integrity and coverage of the report's PAdES signature, and its signer against ``public_key_pem``."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        return PdfSignature("invalid", None, None, [f"the PDF signature could not be read ({exc})"])
    if not signatures:
        return PdfSignature("absent", None, None, [])
    problems = []
    if len(signatures) > 1:
        problems.append(f"the PDF holds {len(signatures)} signatures; auditor writes one")
    embedded = signatures[-1]
    cert = embedded.signer_cert
    signer = cert.subject.human_friendly
    matches = None
    if public_key_pem is not None:
        try:
            given = _public_der(serialization.load_pem_public_key(public_key_pem))
        except (ValueError, TypeError) as exc:
            raise InputError(f"not a PEM public key ({exc})") from None
        matches = bytes(cert.public_key.dump()) == given
        if not matches:
            problems.append("the PDF was signed with a different key than --public-key")
    try:
        # skip_diff: any byte after the signature fails below (coverage), so pyHanko's analysis of what an
        # appended update changed (slow: it walks the revision) would decide nothing here.
        status = validate_pdf_signature(
            embedded,
            ValidationContext(trust_roots=[cert], allow_fetching=False, revocation_mode="soft-fail"),
            skip_diff=True,
        )
    except (SignatureValidationError, PdfError, ValueError) as exc:
        return PdfSignature("invalid", signer, matches, [*problems, f"the PDF signature is broken ({exc})"])
    if not (status.intact and status.valid):
        problems.append("the PDF signature does not match the file: it was changed after signing")
    elif status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        problems.append("the file was changed after it was signed (an update appended after the signature)")
    return PdfSignature("invalid" if problems else "valid", signer, matches, problems)
