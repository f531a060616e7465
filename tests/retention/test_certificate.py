"""Destruction certificates: round trip, and every tampering detected."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retention import (
    ALGORITHM,
    CertificateInputError,
    CertificateInvalid,
    RecordFacts,
    RecordMeta,
    build_certificate,
    canonical_json,
    create_batch,
    default_rules,
    execute_check,
    generate_private_key_pem,
    plan,
    public_key_fingerprint,
    public_key_pem,
    record_execution,
    sign_certificate,
    verify_certificate,
)
from retention.certificate import list_digest
from retention.keys import load_public_key, raw_public_key
from tests.retention.strategies import PROPERTY

RULES = default_rules()
AS_OF = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
KEY = generate_private_key_pem()
OTHER_KEY = generate_private_key_pem()

IDS = ("R-1", "R-2", "R-3", "R-4")


def facts(record_id: str, **changes: object) -> RecordFacts:
    fields: dict[str, object] = {
        "record_id": record_id,
        "class_code": "report_periodic",
        "declared": True,
        "document_date": date(2012, 6, 30),
    }
    fields.update(changes)
    return RecordFacts(**fields)


def meta(record_id: str, number: str) -> RecordMeta:
    return RecordMeta(
        record_id=record_id,
        document_number=number,
        title=f"2012年第二季度财务会计报告 {record_id}",
        class_code="report_periodic",
        document_date=date(2012, 6, 30),
        sha256=hashlib.sha256(record_id.encode()).hexdigest(),
        filing_date=date(2012, 8, 1),
    )


# Document numbers deliberately not in record-id order, so sorting is exercised.
METAS = {
    "R-1": meta("R-1", "KH-000123-CW-2012-0003"),
    "R-2": meta("R-2", "KH-000123-CW-2012-0001"),
    "R-3": meta("R-3", "KH-000123-CW-2012-0002"),
    "R-4": meta("R-4", "KH-000123-CW-2012-0004"),
}


def certificate() -> dict[str, Any]:
    initial = {r: facts(r) for r in IDS}
    batch = create_batch("B-2026-07", plan(initial.values(), RULES.by_class, AS_OF), "arch", NOW)
    batch = batch.submit()
    for record_id in IDS:
        batch = batch.review(record_id, "destroy", "arch", NOW)
    batch = batch.approve("head-archives", NOW + timedelta(minutes=1))
    batch = batch.approve("head-accounting", NOW + timedelta(minutes=2))
    fresh = {**initial, "R-4": facts("R-4", hold_ids=frozenset({"LIT-9"}))}
    check = execute_check(batch, fresh, RULES, AS_OF, executor="supervisor")
    done = record_execution(batch, check, "supervisor", NOW + timedelta(hours=2))
    keys = {r: [f"dek:{r}"] for r in IDS}
    return build_certificate(
        done, METAS, keys, certificate_id="CERT-2026-0007", issued_at=NOW + timedelta(hours=3)
    )


CERT = certificate()
SIGNED = sign_certificate(CERT, KEY)


def load(data: bytes = SIGNED) -> dict[str, Any]:
    return json.loads(data)


def dump(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def edit(change: Any) -> bytes:
    """The signed file with ``change(certificate)`` applied and the old signature kept."""
    document = load()
    change(document["certificate"])
    return dump(document)


def resign(change: Any, key: bytes = KEY) -> bytes:
    """Alter the content and sign it again with ``key``: only the contents check can catch it."""
    document = load()
    cert = document["certificate"]
    change(cert)
    return sign_certificate(cert, key)


# --- round trip ---------------------------------------------------------------------------


def test_round_trip_verifies_offline() -> None:
    verified = verify_certificate(SIGNED)
    assert verified.certificate_id == "CERT-2026-0007"
    assert verified.batch_id == "B-2026-07"
    assert (verified.item_count, verified.skipped_count) == (3, 1)
    assert verified.executor == "supervisor"
    assert verified.approvers == ("head-archives", "head-accounting")
    assert verified.public_key_sha256 == public_key_fingerprint(public_key_pem(KEY))


def test_pinned_key_in_pem_or_raw_form() -> None:
    pem = public_key_pem(KEY)
    raw = raw_public_key(load_public_key(pem))
    assert verify_certificate(SIGNED, pem).item_count == 3
    assert verify_certificate(SIGNED, raw).item_count == 3


def test_file_format() -> None:
    document = load()
    assert set(document) == {"algorithm", "certificate", "public_key", "signature"}
    assert document["algorithm"] == ALGORITHM == "Ed25519"
    assert len(base64.b64decode(document["public_key"])) == 32
    assert len(base64.b64decode(document["signature"])) == 64
    assert canonical_json(document) == SIGNED  # the file itself is canonical
    assert "财务会计报告".encode() in SIGNED  # UTF-8, not \\u escapes


def test_contents() -> None:
    cert = CERT
    numbers = [i["document_number"] for i in cert["items"]]
    assert numbers == sorted(numbers) and len(numbers) == 3
    item = cert["items"][0]
    assert item["record_id"] == "R-2"
    assert item["rule"]["code"] == "acc.report_periodic" and item["rule"]["version"] == 1
    assert "附表1" in item["rule"]["citation"]["zh"]
    assert item["dates"] == {"document_date": "2012-06-30", "filing_date": "2012-08-01"}
    assert item["keys_destroyed"] == ["dek:R-2"]
    assert item["sha256"] == hashlib.sha256(b"R-2").hexdigest()
    assert cert["hold_check"] == {
        "as_of": "2026-11-23",
        "items_checked": 4,
        "held_record_ids": ["R-4"],
        "result": "holds_found",
    }
    (skip,) = cert["skipped"]
    assert (skip["record_id"], skip["reason"], skip["hold_ids"]) == ("R-4", "HELD", ["LIT-9"])
    assert cert["executed_at"] == "2026-11-23T11:00:00.000000Z"
    assert cert["items_sha256"] == list_digest(cert["items"])


def test_whitespace_variance_in_the_file_is_harmless() -> None:
    pretty = json.dumps(load(), indent=2, ensure_ascii=True).encode("ascii")
    assert verify_certificate(pretty).item_count == 3


def test_build_refuses_incomplete_inputs() -> None:
    initial = {r: facts(r) for r in IDS}
    batch = create_batch("B", plan(initial.values(), RULES.by_class, AS_OF), "arch", NOW)
    with pytest.raises(CertificateInputError):  # not executed
        build_certificate(batch, METAS, {}, certificate_id="C", issued_at=NOW)
    batch = batch.submit()
    for record_id in IDS:
        batch = batch.review(record_id, "destroy", "arch", NOW)
    batch = batch.approve("a", NOW).approve("b", NOW)
    done = record_execution(batch, execute_check(batch, initial, RULES, AS_OF), "c", NOW)
    keys = {r: ["k"] for r in IDS}
    with pytest.raises(CertificateInputError):  # a key list is missing
        build_certificate(done, METAS, {"R-1": ["k"]}, certificate_id="C", issued_at=NOW)
    with pytest.raises(CertificateInputError):  # metadata missing
        build_certificate(done, {"R-1": METAS["R-1"]}, keys, certificate_id="C", issued_at=NOW)
    with pytest.raises(CertificateInputError):  # naive time
        build_certificate(done, METAS, keys, certificate_id="C", issued_at=datetime(2026, 1, 1))


# --- tampering with the signed content ---------------------------------------------------


def _set_hash(c: dict[str, Any]) -> None:
    c["items"][0]["sha256"] = "0" * 64


def _drop_item(c: dict[str, Any]) -> None:
    c["items"].pop()


def _reorder(c: dict[str, Any]) -> None:
    c["items"].reverse()


def _executor(c: dict[str, Any]) -> None:
    c["executor"] = "someone-else"


def _add_approver(c: dict[str, Any]) -> None:
    c["approvals"].append({"user": "ghost", "approved_at": "2026-11-23T09:00:00.000000Z"})


def _clear_holds(c: dict[str, Any]) -> None:
    c["hold_check"]["held_record_ids"] = []
    c["hold_check"]["result"] = "clear"


def _drop_skip(c: dict[str, Any]) -> None:
    c["skipped"].clear()


def _title(c: dict[str, Any]) -> None:
    c["items"][1]["title"] += " "


def _citation(c: dict[str, Any]) -> None:
    c["items"][2]["rule"]["citation"]["zh"] = "无"


TAMPERINGS = [
    _set_hash,
    _drop_item,
    _reorder,
    _executor,
    _add_approver,
    _clear_holds,
    _drop_skip,
    _title,
    _citation,
]


@pytest.mark.parametrize("change", TAMPERINGS, ids=lambda f: f.__name__.strip("_"))
def test_tampering_breaks_the_signature(change: Any) -> None:
    with pytest.raises(CertificateInvalid) as caught:
        verify_certificate(edit(change))
    assert "signature" in caught.value.reason


def _drop_item_keep_count(c: dict[str, Any]) -> None:
    c["items"].pop()


def _drop_item_fix_count(c: dict[str, Any]) -> None:
    c["items"].pop()
    c["item_count"] -= 1


def _reorder_fix_digest(c: dict[str, Any]) -> None:
    c["items"].reverse()
    c["items_sha256"] = list_digest(c["items"])


def _executor_is_approver(c: dict[str, Any]) -> None:
    c["executor"] = "head-archives"


def _one_approval(c: dict[str, Any]) -> None:
    c["approvals"].pop()
    c["approver_count"] = 1


def _duplicate_approver(c: dict[str, Any]) -> None:
    c["approvals"].append(dict(c["approvals"][0]))
    c["approver_count"] = 3


def _hide_hold(c: dict[str, Any]) -> None:
    c["hold_check"]["held_record_ids"] = []
    c["hold_check"]["result"] = "clear"


def _bad_hash_format(c: dict[str, Any]) -> None:
    c["items"][0]["sha256"] = "not-a-hash"
    c["items_sha256"] = list_digest(c["items"])


def _missing_field(c: dict[str, Any]) -> None:
    del c["executed_at"]


def _checked_count(c: dict[str, Any]) -> None:
    c["hold_check"]["items_checked"] = 3


def _skipped_and_destroyed(c: dict[str, Any]) -> None:
    c["skipped"][0]["record_id"] = c["items"][0]["record_id"]
    c["skipped_sha256"] = list_digest(c["skipped"])


def _wrong_format(c: dict[str, Any]) -> None:
    c["format"] = "something/2"


def _bool_count(c: dict[str, Any]) -> None:
    c["batch"]["required_approvals"] = True


INCONSISTENT = [
    _drop_item_keep_count,
    _drop_item_fix_count,
    _reorder_fix_digest,
    _executor_is_approver,
    _one_approval,
    _duplicate_approver,
    _hide_hold,
    _bad_hash_format,
    _missing_field,
    _checked_count,
    _skipped_and_destroyed,
    _wrong_format,
    _bool_count,
]


@pytest.mark.parametrize("change", INCONSISTENT, ids=lambda f: f.__name__.strip("_"))
def test_validly_signed_but_inconsistent_contents_are_refused(change: Any) -> None:
    data = resign(change)
    with pytest.raises(CertificateInvalid) as caught:
        verify_certificate(data)
    assert "signature" not in caught.value.reason


# --- tampering with the envelope ---------------------------------------------------------


def test_swapped_public_key_is_detected() -> None:
    document = load()
    other_raw = raw_public_key(load_public_key(public_key_pem(OTHER_KEY)))
    document["public_key"] = base64.b64encode(other_raw).decode()
    with pytest.raises(CertificateInvalid):
        verify_certificate(dump(document))


def test_resigning_with_another_key_is_caught_by_the_pin() -> None:
    forged = resign(_executor, key=OTHER_KEY)
    # Self-consistent forgery: only a pinned key tells the real signer from another one.
    assert verify_certificate(forged).executor == "someone-else"
    with pytest.raises(CertificateInvalid) as caught:
        verify_certificate(forged, public_key_pem(KEY))
    assert "pinned" in caught.value.reason


def test_swapping_only_the_embedded_key_fingerprint_is_detected() -> None:
    document = load()
    document["certificate"]["signer_key_sha256"] = "0" * 64
    with pytest.raises(CertificateInvalid):
        verify_certificate(dump(document))


@pytest.mark.parametrize("position", [0, 10, 63])
def test_altered_signature_is_detected(position: int) -> None:
    document = load()
    signature = bytearray(base64.b64decode(document["signature"]))
    signature[position] ^= 0x01
    document["signature"] = base64.b64encode(bytes(signature)).decode()
    with pytest.raises(CertificateInvalid):
        verify_certificate(dump(document))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda d: d.update(algorithm="RSA"),
        lambda d: d.update(extra=1),
        lambda d: d.pop("signature"),
        lambda d: d.update(signature="!!!"),
        lambda d: d.update(signature=d["signature"][:-4]),
        lambda d: d.update(public_key=123),
        lambda d: d.update(certificate=[]),
    ],
)
def test_malformed_envelopes_are_refused(mangle: Any) -> None:
    document = load()
    mangle(document)
    with pytest.raises(CertificateInvalid):
        verify_certificate(dump(document))


def test_non_json_and_duplicate_keys_are_refused() -> None:
    with pytest.raises(CertificateInvalid):
        verify_certificate(b"\xff\xfe")
    with pytest.raises(CertificateInvalid):
        verify_certificate(b"{not json")
    duplicated = SIGNED.replace(
        b'{"algorithm":"Ed25519",', b'{"algorithm":"Ed25519","algorithm":"Ed25519",', 1
    )
    with pytest.raises(CertificateInvalid):
        verify_certificate(duplicated)


# --- any single change anywhere ------------------------------------------------------------


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))]
    if isinstance(value, list):
        if not value:
            return [path]
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))]
    return [path]


LEAVES = _leaves(load()["certificate"])


def _mutated(value: Any, salt: str) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + salt
    if isinstance(value, list):
        return [salt]
    return salt


@settings(PROPERTY, max_examples=150)
@given(st.sampled_from(LEAVES), st.text(min_size=1, max_size=3), st.booleans())
def test_any_single_change_is_detected(path: tuple[Any, ...], salt: str, resigned: bool) -> None:
    document = load()
    cert = copy.deepcopy(document["certificate"])
    parent = cert
    for step in path[:-1]:
        parent = parent[step]
    if path:
        parent[path[-1]] = _mutated(parent[path[-1]], salt)
    data = (
        sign_certificate(cert, OTHER_KEY) if resigned else dump({**document, "certificate": cert})
    )
    with pytest.raises(CertificateInvalid):
        verify_certificate(data, public_key_pem(KEY))
