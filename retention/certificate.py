"""Destruction certificates: build, sign and verify offline.

Contract:

* ``build_certificate`` turns an *executed* batch plus the metadata of its records into a
  plain dict holding only strings, integers, lists and dicts (no floats), so its canonical
  JSON is stable across parsers.
* ``canonical_json`` is the only serialisation that is signed: sorted keys, UTF-8 (no
  ``\\u`` escapes for non-ASCII), no insignificant whitespace.
* ``sign_certificate`` sets ``signer_key_sha256`` in the certificate, signs
  ``canonical_json(certificate)`` with Ed25519 and returns the file::

      {"algorithm": "Ed25519", "certificate": {...}, "public_key": "<base64 raw 32 bytes>",
       "signature": "<base64 64 bytes>"}

* ``verify_certificate(data, public_key=None)`` needs only the file (optionally a public
  key to pin: without a pin, anyone can re-sign altered content with their own key). It
  checks the signature over the canonical form of the embedded certificate, then the
  consistency of the contents (digests over the item and skipped lists, counts, sort order,
  required fields, approver/executor separation) and raises ``CertificateInvalid(reason)``
  on the first problem. Items are ordered by (document number, record id); that order is
  part of the signed content and is checked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature

from retention.decide import Decision, ReasonCode
from retention.disposition import Approval, Batch, BatchState, SkippedItem, execution_skips
from retention.errors import CertificateInputError, CertificateInvalid
from retention.keys import load_private_key, load_public_key, raw_public_key

FORMAT = "archive-destruction-certificate/1"
ALGORITHM = "Ed25519"

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_FILE_KEYS = {"algorithm", "certificate", "public_key", "signature"}


@dataclass(frozen=True, slots=True)
class RecordMeta:
    """What the certificate (and the stub left behind) says about one record."""

    record_id: str
    document_number: str
    title: str
    class_code: str
    document_date: date
    sha256: str  # of the original file, hex
    filing_date: date | None = None
    events: Mapping[str, date] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VerifiedCertificate:
    certificate: Mapping[str, Any]
    certificate_id: str
    batch_id: str
    item_count: int
    skipped_count: int
    executor: str
    approvers: tuple[str, ...]
    public_key_sha256: str


# --- serialisation ----------------------------------------------------------------------


def canonical_json(value: Any) -> bytes:
    """Sorted keys, UTF-8, no whitespace between tokens; refuses NaN and floats' ambiguity."""
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def list_digest(items: Sequence[Any]) -> str:
    return hashlib.sha256(canonical_json(list(items))).hexdigest()


def _utc(moment: datetime, what: str) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CertificateInputError(f"{what} must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- building -----------------------------------------------------------------------------


def _item_entry(decision: Decision, meta: RecordMeta, keys: Sequence[str]) -> dict[str, Any]:
    if not _SHA256_HEX.match(meta.sha256):
        raise CertificateInputError(f"record {meta.record_id!r}: sha256 must be 64 hex digits")
    if meta.class_code != decision.class_code:
        raise CertificateInputError(f"record {meta.record_id!r}: class differs from decision")
    if not keys:
        raise CertificateInputError(f"record {meta.record_id!r}: no destroyed key listed")
    if decision.citation is None or decision.rule_code is None or decision.eligible_on is None:
        raise CertificateInputError(f"record {meta.record_id!r}: decision lacks its rule")
    dates: dict[str, str] = {"document_date": meta.document_date.isoformat()}
    if meta.filing_date is not None:
        dates["filing_date"] = meta.filing_date.isoformat()
    for name, day in sorted(meta.events.items()):
        dates[name] = day.isoformat()
    return {
        "record_id": meta.record_id,
        "document_number": meta.document_number,
        "title": meta.title,
        "class_code": meta.class_code,
        "dates": dates,
        "sha256": meta.sha256,
        "rule": {
            "code": decision.rule_code,
            "version": decision.rule_version,
            "citation": decision.citation.to_json(),
        },
        "eligible_on": decision.eligible_on.isoformat(),
        "keys_destroyed": sorted(keys),
    }


def _skipped_entry(skip: SkippedItem, meta: RecordMeta | None) -> dict[str, Any]:
    return {
        "record_id": skip.record_id,
        "document_number": meta.document_number if meta else "",
        "reason": skip.reason.value,
        "detail": skip.detail,
        "hold_ids": sorted(skip.hold_ids),
    }


def build_certificate(
    batch: Batch,
    records: Mapping[str, RecordMeta],
    keys_destroyed: Mapping[str, Sequence[str]],
    *,
    certificate_id: str,
    issued_at: datetime,
) -> dict[str, Any]:
    """The certificate of an executed batch, ready for ``sign_certificate``.

    ``records`` maps record id to its metadata (required for every destroyed item; used
    for skipped ones when present); ``keys_destroyed`` maps each destroyed record to the
    ids of the keys destroyed with it.
    """
    execution = batch.execution
    if batch.state is not BatchState.EXECUTED or execution is None:
        raise CertificateInputError(f"batch {batch.batch_id!r} is {batch.state}, not executed")
    destroyed = set(execution.destroyed_ids)
    items = []
    for decision in execution.check.to_destroy:
        if decision.record_id not in destroyed:
            continue
        meta = records.get(decision.record_id)
        if meta is None:
            raise CertificateInputError(f"no metadata for record {decision.record_id!r}")
        items.append(_item_entry(decision, meta, keys_destroyed.get(decision.record_id, ())))
    items.sort(key=lambda e: (e["document_number"], e["record_id"]))
    skipped = sorted(
        (_skipped_entry(s, records.get(s.record_id)) for s in execution_skips(execution)),
        key=lambda e: e["record_id"],
    )
    # Only approvals of the list that was executed count; the first one per user stands.
    digest = batch.items_digest
    first: dict[str, Approval] = {}
    for approval in batch.approvals:
        if approval.items_digest == digest:
            first.setdefault(approval.user, approval)
    approvals = sorted(first.values(), key=lambda a: (a.approved_at, a.user))
    held = sorted(execution.check.held_record_ids)
    return {
        "format": FORMAT,
        "certificate_id": certificate_id,
        "batch_id": batch.batch_id,
        "batch": {
            "created_by": batch.created_by,
            "created_at": _utc(batch.created_at, "batch creation time"),
            "appraisal_as_of": batch.as_of.isoformat(),
            "required_approvals": batch.required_approvals,
            "items_digest": batch.items_digest,
        },
        "approvals": [
            {"user": a.user, "approved_at": _utc(a.approved_at, "approval time")} for a in approvals
        ],
        "approver_count": len(approvals),
        "executor": execution.executor,
        "executed_at": _utc(execution.executed_at, "execution time"),
        "issued_at": _utc(issued_at, "issue time"),
        "hold_check": {
            "as_of": execution.check.as_of.isoformat(),
            "items_checked": execution.check.items_checked,
            "held_record_ids": held,
            "result": "holds_found" if held else "clear",
        },
        "items": items,
        "item_count": len(items),
        "items_sha256": list_digest(items),
        "skipped": skipped,
        "skipped_count": len(skipped),
        "skipped_sha256": list_digest(skipped),
    }


# --- signing ------------------------------------------------------------------------------


def sign_certificate(
    certificate: Mapping[str, Any], private_key_pem: bytes, password: bytes | None = None
) -> bytes:
    """The certificate file (UTF-8 canonical JSON bytes) signed with the instance key."""
    key = load_private_key(private_key_pem, password)
    public = raw_public_key(key.public_key())
    signed = dict(certificate)
    signed["signer_key_sha256"] = hashlib.sha256(public).hexdigest()
    signature = key.sign(canonical_json(signed))
    return canonical_json(
        {
            "algorithm": ALGORITHM,
            "certificate": signed,
            "public_key": base64.b64encode(public).decode("ascii"),
            "signature": base64.b64encode(signature).decode("ascii"),
        }
    )


# --- verification -------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise CertificateInvalid(f"duplicate key {key!r}")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise CertificateInvalid(f"non-finite number {name}")


def _b64(value: Any, what: str, length: int) -> bytes:
    if not isinstance(value, str):
        raise CertificateInvalid(f"{what} is not a base64 string")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise CertificateInvalid(f"{what} is not valid base64") from None
    if len(raw) != length or base64.b64encode(raw).decode("ascii") != value:
        raise CertificateInvalid(f"{what} has the wrong length or encoding")
    return raw


def _need(mapping: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        raise CertificateInvalid(f"missing {where}{key}")
    value = mapping[key]
    # bool is an int in Python; a count or version must never be true/false.
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        raise CertificateInvalid(f"{where}{key} has the wrong type")
    return value


def _need_date(mapping: Any, key: str, where: str) -> None:
    try:
        date.fromisoformat(_need(mapping, key, str, where))
    except ValueError:
        raise CertificateInvalid(f"{where}{key} is not a date") from None


def _need_time(mapping: Any, key: str, where: str) -> None:
    value = _need(mapping, key, str, where)
    if not value.endswith("Z"):
        raise CertificateInvalid(f"{where}{key} is not a UTC time")
    try:
        datetime.fromisoformat(value[:-1] + "+00:00")
    except ValueError:
        raise CertificateInvalid(f"{where}{key} is not a time") from None


def _check_items(cert: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = _need(cert, "items", list, "")
    for n, item in enumerate(items):
        where = f"items[{n}]."
        for key in ("record_id", "document_number", "title", "class_code", "sha256"):
            _need(item, key, str, where)
        if not item["record_id"] or not item["document_number"]:
            raise CertificateInvalid(f"{where}record_id/document_number is empty")
        if not _SHA256_HEX.match(item["sha256"]):
            raise CertificateInvalid(f"{where}sha256 is not a SHA-256 hex digest")
        dates = _need(item, "dates", dict, where)
        _need_date(dates, "document_date", where + "dates.")
        for name in dates:
            _need_date(dates, name, where + "dates.")
        rule = _need(item, "rule", dict, where)
        _need(rule, "code", str, where + "rule.")
        if _need(rule, "version", int, where + "rule.") < 1:
            raise CertificateInvalid(f"{where}rule.version is not positive")
        citation = _need(rule, "citation", dict, where + "rule.")
        _need(citation, "zh", str, where + "rule.citation.")
        _need(citation, "en", str, where + "rule.citation.")
        _need_date(item, "eligible_on", where)
        keys = _need(item, "keys_destroyed", list, where)
        if not keys or not all(isinstance(k, str) and k for k in keys):
            raise CertificateInvalid(f"{where}keys_destroyed is empty or malformed")
    ids = [i["record_id"] for i in items]
    if len(set(ids)) != len(ids):
        raise CertificateInvalid("a record is listed twice")
    order = [(i["document_number"], i["record_id"]) for i in items]
    if order != sorted(order):
        raise CertificateInvalid("items are not in document-number order")
    if _need(cert, "item_count", int, "") != len(items):
        raise CertificateInvalid("item_count does not match the item list")
    if _need(cert, "items_sha256", str, "") != list_digest(items):
        raise CertificateInvalid("items_sha256 does not match the item list")
    return items


def _check_skipped(cert: dict[str, Any], destroyed_ids: set[str]) -> list[dict[str, Any]]:
    skipped: list[dict[str, Any]] = _need(cert, "skipped", list, "")
    for n, skip in enumerate(skipped):
        where = f"skipped[{n}]."
        for key in ("record_id", "document_number", "reason", "detail"):
            _need(skip, key, str, where)
        holds = _need(skip, "hold_ids", list, where)
        if not all(isinstance(h, str) for h in holds):
            raise CertificateInvalid(f"{where}hold_ids is malformed")
        if skip["record_id"] in destroyed_ids:
            raise CertificateInvalid(f"record {skip['record_id']!r} both destroyed and skipped")
    ids = [s["record_id"] for s in skipped]
    if ids != sorted(set(ids)):
        raise CertificateInvalid("skipped items are duplicated or out of order")
    if _need(cert, "skipped_count", int, "") != len(skipped):
        raise CertificateInvalid("skipped_count does not match the skipped list")
    if _need(cert, "skipped_sha256", str, "") != list_digest(skipped):
        raise CertificateInvalid("skipped_sha256 does not match the skipped list")
    return skipped


def _check_contents(cert: dict[str, Any], public_raw: bytes) -> VerifiedCertificate:
    if _need(cert, "format", str, "") != FORMAT:
        raise CertificateInvalid("unknown certificate format")
    if _need(cert, "signer_key_sha256", str, "") != hashlib.sha256(public_raw).hexdigest():
        raise CertificateInvalid("signer_key_sha256 does not match the public key")
    certificate_id = _need(cert, "certificate_id", str, "")
    batch_id = _need(cert, "batch_id", str, "")
    if not certificate_id or not batch_id:
        raise CertificateInvalid("certificate_id/batch_id is empty")
    batch = _need(cert, "batch", dict, "")
    _need(batch, "created_by", str, "batch.")
    _need_time(batch, "created_at", "batch.")
    _need_date(batch, "appraisal_as_of", "batch.")
    required = _need(batch, "required_approvals", int, "batch.")
    if not _SHA256_HEX.match(_need(batch, "items_digest", str, "batch.")):
        raise CertificateInvalid("batch.items_digest is not a SHA-256 hex digest")
    approvals = _need(cert, "approvals", list, "")
    users = []
    for n, approval in enumerate(approvals):
        users.append(_need(approval, "user", str, f"approvals[{n}]."))
        _need_time(approval, "approved_at", f"approvals[{n}].")
    if len(set(users)) != len(users) or not all(users):
        raise CertificateInvalid("approvers are not distinct named users")
    if _need(cert, "approver_count", int, "") != len(users):
        raise CertificateInvalid("approver_count does not match the approvals")
    if required < 1 or len(users) < required:
        raise CertificateInvalid(f"{len(users)} approval(s), {required} required")
    executor = _need(cert, "executor", str, "")
    if not executor:
        raise CertificateInvalid("executor is empty")
    if executor in users:
        raise CertificateInvalid("the executor is also an approver")
    _need_time(cert, "executed_at", "")
    _need_time(cert, "issued_at", "")
    items = _check_items(cert)
    destroyed_ids = {i["record_id"] for i in items}
    skipped = _check_skipped(cert, destroyed_ids)
    hold = _need(cert, "hold_check", dict, "")
    _need_date(hold, "as_of", "hold_check.")
    checked = _need(hold, "items_checked", int, "hold_check.")
    if checked != len(items) + len(skipped):
        raise CertificateInvalid("hold_check.items_checked does not match items + skipped")
    held = _need(hold, "held_record_ids", list, "hold_check.")
    skipped_reasons = {s["record_id"]: s["reason"] for s in skipped}
    blocking = {ReasonCode.HELD.value, ReasonCode.UNSETTLED_CLAIM.value}
    if held != sorted(set(held)) or any(skipped_reasons.get(r) not in blocking for r in held):
        raise CertificateInvalid("hold_check.held_record_ids does not match the skipped holds")
    if {r for r, reason in skipped_reasons.items() if reason in blocking} != set(held):
        raise CertificateInvalid("a held skipped record is missing from hold_check")
    expected = "holds_found" if held else "clear"
    if _need(hold, "result", str, "hold_check.") != expected:
        raise CertificateInvalid("hold_check.result contradicts held_record_ids")
    return VerifiedCertificate(
        certificate=cert,
        certificate_id=certificate_id,
        batch_id=batch_id,
        item_count=len(items),
        skipped_count=len(skipped),
        executor=executor,
        approvers=tuple(users),
        public_key_sha256=hashlib.sha256(public_raw).hexdigest(),
    )


def verify_certificate(data: bytes, public_key: bytes | None = None) -> VerifiedCertificate:
    """Verify a certificate file; ``public_key`` (PEM or raw) pins the expected signer."""
    try:
        document = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_reject_constant,
        )
    except UnicodeDecodeError:
        raise CertificateInvalid("not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise CertificateInvalid(f"not JSON: {exc.msg}") from None
    if not isinstance(document, dict) or set(document) != _FILE_KEYS:
        raise CertificateInvalid(f"the file must be an object with keys {sorted(_FILE_KEYS)}")
    if document["algorithm"] != ALGORITHM:
        raise CertificateInvalid(f"unsupported algorithm {document['algorithm']!r}")
    public_raw = _b64(document["public_key"], "public_key", 32)
    signature = _b64(document["signature"], "signature", 64)
    if public_key is not None:
        try:
            pinned = raw_public_key(load_public_key(public_key))
        except ValueError:
            raise CertificateInvalid("the pinned public key is not an Ed25519 key") from None
        if pinned != public_raw:
            raise CertificateInvalid("signed by another key than the pinned one")
    certificate = document["certificate"]
    if not isinstance(certificate, dict):
        raise CertificateInvalid("certificate is not an object")
    try:
        message = canonical_json(certificate)
    except ValueError:
        raise CertificateInvalid("certificate is not canonicalisable") from None
    try:
        load_public_key(public_raw).verify(signature, message)
    except InvalidSignature:
        raise CertificateInvalid("signature does not match the certificate") from None
    return _check_contents(certificate, public_raw)
