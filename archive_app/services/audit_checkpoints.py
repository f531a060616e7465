"""Signed checkpoints of the audit trail, kept outside the database.

The hash chain detects an edited, removed or reordered entry, but someone who can write
the database can also delete the newest entries and rewrite the head row to match. A
checkpoint closes that gap: the head (sequence number and entry hash) signed with the
instance's Ed25519 key (the destruction-certificate key, which is never in the database)
and written as a file under ``<home>/audit/checkpoints/``. :func:`verify_chain` then
finds the signed entry in the trail and reports a trail that ends before it.

Contract:

- :func:`write_checkpoint` signs the current head; it is idempotent (an unchanged head
  writes nothing new) and never rewrites a file. It runs after every destruction commits,
  on the worker's schedule, and on ``archive audit checkpoint``.
- A checkpoint file is canonical JSON ``{"algorithm", "checkpoint", "public_key",
  "signature"}``; :func:`read_checkpoint` verifies one offline against a pinned public key
  (the instance's, or one given), so an exported copy can be checked anywhere.
- :func:`newest_checkpoint` returns the highest valid checkpoint of the instance and the
  files that failed verification (a forged or damaged checkpoint is itself a finding).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from sqlalchemy.orm import Session

from archive_app.infra.config import Settings
from archive_app.infra.db import Database, after_commit
from archive_app.infra.private_files import write_private_file
from archive_app.models import AuditHead
from archive_app.models.base import utcnow
from archive_app.services.audit import ChainReport, verify_chain
from archive_app.services.retention.certificate_files import instance_public_key, signing_key
from retention.certificate import canonical_json
from retention.keys import load_private_key, load_public_key, raw_public_key

KIND = "archive-audit-checkpoint"
ALGORITHM = "Ed25519"


class CheckpointInvalid(Exception):
    """A checkpoint file that does not verify; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    entry_hash: str
    signed_at: datetime
    signer_key_sha256: str
    path: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "entry_hash": self.entry_hash,
            "signed_at": self.signed_at.isoformat(),
            "signer_key_sha256": self.signer_key_sha256,
            "file": str(self.path) if self.path else None,
        }


def checkpoints_dir(settings: Settings) -> Path:
    return settings.home / "audit" / "checkpoints"


def sign_checkpoint(seq: int, entry_hash: str, at: datetime, private_key_pem: bytes) -> bytes:
    key = load_private_key(private_key_pem)
    public = raw_public_key(key.public_key())
    body = {
        "kind": KIND,
        "seq": seq,
        "entry_hash": entry_hash,
        "signed_at": at.astimezone(UTC).isoformat(),
        "signer_key_sha256": hashlib.sha256(public).hexdigest(),
    }
    return canonical_json(
        {
            "algorithm": ALGORITHM,
            "checkpoint": body,
            "public_key": base64.b64encode(public).decode("ascii"),
            "signature": base64.b64encode(key.sign(canonical_json(body))).decode("ascii"),
        }
    )


def read_checkpoint(data: bytes, public_key: bytes, path: Path | None = None) -> Checkpoint:
    """Verify a checkpoint file's signature against the pinned ``public_key`` (PEM or raw)."""
    try:
        document = json.loads(data.decode("utf-8"))
        body = document["checkpoint"]
        signature = base64.b64decode(document["signature"], validate=True)
        if document.get("algorithm") != ALGORITHM or body.get("kind") != KIND:
            raise CheckpointInvalid("not an audit checkpoint")
        seq, entry_hash = int(body["seq"]), str(body["entry_hash"])
        signed_at = datetime.fromisoformat(body["signed_at"])
    except CheckpointInvalid:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise CheckpointInvalid(f"unreadable checkpoint ({error})") from None
    pinned = load_public_key(public_key)
    try:
        pinned.verify(signature, canonical_json(body))
    except InvalidSignature:
        raise CheckpointInvalid("the signature does not match the instance key") from None
    if base64.b64decode(document.get("public_key", "")) != raw_public_key(pinned):
        raise CheckpointInvalid("signed by another key than the one it names")
    return Checkpoint(seq, entry_hash, signed_at, str(body.get("signer_key_sha256", "")), path)


def write_checkpoint(settings: Settings, database: Database) -> Checkpoint | None:
    """Sign the current head into a new file (nothing when the trail is empty or the
    newest checkpoint already holds this head)."""
    with database.session() as session:
        head = session.get(AuditHead, 1)
        seq, entry_hash = (head.last_seq, head.last_hash) if head else (0, "")
    if seq == 0:
        return None
    newest, _problems = newest_checkpoint(settings)
    if newest is not None and (newest.seq, newest.entry_hash) == (seq, entry_hash):
        return newest
    now = utcnow()
    data = sign_checkpoint(seq, entry_hash, now, signing_key(settings))
    path = checkpoints_dir(settings) / f"{seq:012d}-{entry_hash[:16]}.json"
    with contextlib.suppress(FileExistsError):  # another process signed this head first
        write_private_file(path, data)
    public = instance_public_key(settings)
    assert public is not None  # signing_key() created the pair
    return read_checkpoint(path.read_bytes(), public, path)


def checkpoint_after_commit(session: Session, settings: Settings, database: Database) -> None:
    """Sign the head once ``session`` has committed (a destruction): the entries it wrote
    are then covered by a signature outside the database."""
    after_commit(session, lambda: write_checkpoint(settings, database))


def newest_checkpoint(settings: Settings) -> tuple[Checkpoint | None, list[str]]:
    """The valid checkpoint with the highest sequence number, and one problem per file
    that does not verify."""
    folder = checkpoints_dir(settings)
    public = instance_public_key(settings)
    if public is None or not folder.is_dir():
        return None, []
    newest: Checkpoint | None = None
    problems = []
    for path in sorted(folder.glob("*.json")):
        try:
            checkpoint = read_checkpoint(path.read_bytes(), public, path)
        except CheckpointInvalid as error:
            problems.append(f"checkpoint {path.name}: {error.reason}")
            continue
        if newest is None or checkpoint.seq > newest.seq:
            newest = checkpoint
    return newest, problems


@dataclass(frozen=True)
class TrailReport:
    chain: ChainReport
    checkpoint: Checkpoint | None
    problems: tuple[str, ...]  # checkpoint files that do not verify

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.chain.as_dict(),
            "ok": self.ok,
            "checkpoint": None if self.checkpoint is None else self.checkpoint.as_dict(),
            "checkpoint_problems": list(self.problems),
        }


def verify_trail(
    settings: Settings,
    session: Session,
    *,
    extra: Sequence[Checkpoint] = (),
    on_progress: Callable[[int, int], None] | None = None,
) -> TrailReport:
    """The chain checked against the instance's newest checkpoint and any ``extra`` ones
    (exported copies kept elsewhere)."""
    newest, problems = newest_checkpoint(settings)
    marks = [*extra, *([newest] if newest else [])]
    chain = verify_chain(session, checkpoints=marks, on_progress=on_progress)
    latest = max(marks, key=lambda c: c.seq) if marks else None
    return TrailReport(chain, latest, tuple(problems))
