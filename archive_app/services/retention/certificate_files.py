"""The instance's certificate signing key and destruction certificate files.

Contract: the Ed25519 private key lives in ``<home>/keys/certificate-signing.pem`` (0600,
created by ``archive init`` or on first need, never over an existing file); its public key
beside it in ``certificate-signing.pub.pem`` (publish it to whoever verifies). Certificates
are written to ``<home>/certificates/<certificate id>.json`` exactly as signed and stored
byte for byte in ``destruction_certificates``. ``verify_file`` checks a file offline with the
engine, pinning the instance public key when one is at hand and saying whether it did.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_app.errors import NotFound
from archive_app.infra.config import Settings
from archive_app.infra.private_files import write_private_file
from archive_app.models import DestructionCertificate, DispositionBatch, User
from archive_app.permissions import Capability, require
from archive_app.services import audit
from archive_app.services.retention.batches import load, require_sight_of_every_item
from retention import (
    CertificateInvalid,
    VerifiedCertificate,
    generate_private_key_pem,
    public_key_pem,
    verify_certificate,
)

PRIVATE_KEY_NAME = "certificate-signing.pem"
PUBLIC_KEY_NAME = "certificate-signing.pub.pem"


def private_key_path(settings: Settings) -> Path:
    return settings.home / "keys" / PRIVATE_KEY_NAME


def public_key_path(settings: Settings) -> Path:
    return settings.home / "keys" / PUBLIC_KEY_NAME


def certificates_dir(settings: Settings) -> Path:
    return settings.home / "certificates"


def ensure_signing_key(settings: Settings) -> bool:
    """Create the signing key pair if it does not exist; True when created now."""
    private = private_key_path(settings)
    created = False
    if not private.exists():
        try:
            write_private_file(private, generate_private_key_pem())
            created = True
        except FileExistsError:  # another process created it first
            pass
    public = public_key_path(settings)
    if not public.exists():
        data = public_key_pem(private.read_bytes())
        tmp = public.with_name(public.name + f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(public)
    return created


def signing_key(settings: Settings) -> bytes:
    ensure_signing_key(settings)
    return private_key_path(settings).read_bytes()


def write_certificate_file(settings: Settings, certificate_id: str, signed: bytes) -> Path:
    folder = certificates_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{certificate_id}.json"
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    with tmp.open("wb") as handle:
        handle.write(signed)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    return path


@dataclass(frozen=True)
class Verification:
    ok: bool
    pinned: bool
    reason: str | None
    result: VerifiedCertificate | None

    def as_dict(self) -> dict[str, object]:
        result = self.result
        return {
            "valid": self.ok,
            "pinned": self.pinned,
            "reason": self.reason,
            "certificate_id": result.certificate_id if result else None,
            "batch": result.batch_id if result else None,
            "items": result.item_count if result else None,
            "skipped": result.skipped_count if result else None,
            "executor": result.executor if result else None,
            "approvers": list(result.approvers) if result else None,
            "signer_key_sha256": result.public_key_sha256 if result else None,
        }


def verify_bytes(data: bytes, public_key: bytes | None) -> Verification:
    try:
        result = verify_certificate(data, public_key)
    except CertificateInvalid as error:
        return Verification(False, public_key is not None, error.reason, None)
    return Verification(True, public_key is not None, None, result)


def instance_public_key(settings: Settings | None) -> bytes | None:
    if settings is None:
        return None
    path = public_key_path(settings)
    if path.exists():
        return path.read_bytes()
    private = private_key_path(settings)
    if private.exists():
        return public_key_pem(private.read_bytes())
    return None


def certificate_for_batch(
    session: Session, actor: User, batch_number: str
) -> DestructionCertificate:
    """The signed certificate of an executed list. It names every record of the list, so
    only a reader who may see all of them gets it (a count of the others otherwise)."""
    require(actor, Capability.READ_RETENTION)
    row = session.scalar(
        select(DestructionCertificate)
        .join(DispositionBatch)
        .where(DispositionBatch.number == batch_number)
    )
    if row is None:
        raise NotFound("destruction certificate of batch", batch_number)
    _batch_row, batch = load(session, batch_number)
    require_sight_of_every_item(session, actor, batch, "read the certificate of")
    audit.record(session, actor, "retention.certificate.view", "certificate", row.certificate_id)
    return row


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
