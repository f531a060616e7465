"""The destruction ledger: signed, hash-chained entries, one per decided destruction.

Contract:

* An entry is canonical JSON ``{"algorithm": "Ed25519", "entry": BODY, "public_key":
  "<base64 raw 32 bytes>", "signature": "<base64 64 bytes>"}`` where ``BODY`` is ``{"kind",
  "seq", "prev", "payload", "signer_key_sha256"}``: ``seq`` counts from 1 without gaps,
  ``prev`` is the hash of the entry before it (``""`` for the first), ``payload`` whatever
  the caller records (plain JSON: strings, integers, lists, dicts). The hash of an entry
  is the SHA-256 of ``canonical_json(BODY)``; the signature covers the same bytes.
* :func:`sign_entry` makes an entry (``LedgerEntry.raw`` holds its bytes); Ed25519
  signatures are deterministic, so signing the same body with the same key gives the same
  bytes, byte for byte.
* :func:`read_entry` verifies one entry against a pinned public key; :func:`check_chain`
  verifies that entries form one unbroken chain from the first. Both raise
  :class:`LedgerInvalid` naming the entry and the problem.

Nothing here reads files or a clock: where the entries live is the application's concern.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature

from retention.certificate import ALGORITHM, canonical_json
from retention.errors import LedgerInvalid
from retention.keys import load_private_key, load_public_key, raw_public_key

KIND = "archive-destruction-ledger/1"
GENESIS = ""


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    seq: int
    prev: str
    sha256: str
    payload: Mapping[str, Any]
    raw: bytes  # the entry exactly as signed and stored


def entry_hash(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(body)).hexdigest()


def sign_entry(
    seq: int, prev: str, payload: Mapping[str, Any], private_key_pem: bytes
) -> LedgerEntry:
    """Entry ``seq`` following the entry whose hash is ``prev``, signed with the key."""
    if seq < 1:
        raise ValueError("ledger entries count from 1")
    key = load_private_key(private_key_pem)
    public = raw_public_key(key.public_key())
    body = {
        "kind": KIND,
        "seq": seq,
        "prev": prev,
        "payload": dict(payload),
        "signer_key_sha256": hashlib.sha256(public).hexdigest(),
    }
    signed = canonical_json(body)
    raw = canonical_json(
        {
            "algorithm": ALGORITHM,
            "entry": body,
            "public_key": base64.b64encode(public).decode("ascii"),
            "signature": base64.b64encode(key.sign(signed)).decode("ascii"),
        }
    )
    return LedgerEntry(seq, prev, hashlib.sha256(signed).hexdigest(), body["payload"], raw)


def read_entry(data: bytes, public_key: bytes) -> LedgerEntry:
    """One entry, its signature checked against the pinned ``public_key`` (PEM or raw)."""
    seq: int | None = None
    try:
        document = json.loads(data.decode("utf-8"))
        body = document["entry"]
        seq = body["seq"] if isinstance(body.get("seq"), int) else None
        if document.get("algorithm") != ALGORITHM or body.get("kind") != KIND:
            raise LedgerInvalid(seq, "not a destruction-ledger entry")
        signature = base64.b64decode(document["signature"], validate=True)
        embedded = base64.b64decode(document["public_key"], validate=True)
        prev, payload = body["prev"], body["payload"]
        if seq is None or seq < 1 or not isinstance(prev, str) or not isinstance(payload, dict):
            raise LedgerInvalid(seq, "malformed entry")
    except LedgerInvalid:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as error:
        raise LedgerInvalid(seq, f"unreadable entry ({error})") from None
    pinned = load_public_key(public_key)
    if embedded != raw_public_key(pinned):
        raise LedgerInvalid(seq, "signed by another key than this instance's")
    try:
        pinned.verify(signature, canonical_json(body))
    except InvalidSignature:
        raise LedgerInvalid(seq, "the signature does not match the contents") from None
    return LedgerEntry(seq, prev, entry_hash(body), payload, data)


def check_chain(entries: Sequence[LedgerEntry]) -> None:
    """``entries`` (in order) are entries 1..n, each naming the hash of the one before."""
    prev = GENESIS
    for expected, entry in enumerate(entries, start=1):
        if entry.seq != expected:
            missing = "missing" if entry.seq > expected else "repeated or out of order"
            raise LedgerInvalid(expected, f"entry {expected} is {missing}")
        if entry.prev != prev:
            raise LedgerInvalid(entry.seq, "does not follow the entry before it (chain broken)")
        prev = entry.sha256
