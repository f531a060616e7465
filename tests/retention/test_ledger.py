"""The destruction ledger's entries: signed, deterministic, chained; every tampering,
foreign signer, gap, reordering or broken link detected."""

from __future__ import annotations

import json

import pytest

from retention import (
    GENESIS,
    LedgerInvalid,
    canonical_json,
    check_chain,
    generate_private_key_pem,
    public_key_pem,
    read_entry,
    sign_entry,
)

KEY = generate_private_key_pem()
PUBLIC = public_key_pem(KEY)


def _chain(count: int) -> list[bytes]:
    entries, prev = [], GENESIS
    for seq in range(1, count + 1):
        entry = sign_entry(seq, prev, {"batch": f"XH-2026-{seq:04d}", "records": ["甲", seq]}, KEY)
        assert read_entry(entry.raw, PUBLIC) == entry
        entries.append(entry.raw)
        prev = entry.sha256
    return entries


def test_entries_round_trip_deterministically_and_chain() -> None:
    raw = _chain(3)
    entries = [read_entry(data, PUBLIC) for data in raw]
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev == GENESIS and entries[1].prev == entries[0].sha256
    assert entries[2].payload == {"batch": "XH-2026-0003", "records": ["甲", 3]}
    assert entries[0].raw == raw[0]
    # Same body, same key: the same bytes (a rewritten entry is recognised as the same).
    assert sign_entry(1, GENESIS, entries[0].payload, KEY).raw == raw[0]
    check_chain(entries)


def test_a_changed_entry_or_another_signer_is_refused() -> None:
    [data] = _chain(1)
    document = json.loads(data)
    document["entry"]["payload"]["records"] = ["乙", 1]
    with pytest.raises(LedgerInvalid, match="signature"):
        read_entry(canonical_json(document), PUBLIC)
    with pytest.raises(LedgerInvalid, match="another key"):
        read_entry(data, public_key_pem(generate_private_key_pem()))
    forged = sign_entry(1, GENESIS, {"batch": "XH-2026-0001"}, generate_private_key_pem()).raw
    with pytest.raises(LedgerInvalid, match="another key"):
        read_entry(forged, PUBLIC)
    with pytest.raises(LedgerInvalid, match="unreadable"):
        read_entry(b"{not json", PUBLIC)


@pytest.mark.parametrize(
    ("order", "fragment"),
    [
        ([0, 2], "entry 2 is missing"),
        ([1, 2], "entry 1 is missing"),
        ([0, 0, 1], "entry 2 is repeated or out of order"),
        ([0, 2, 1], "entry 2 is missing"),
    ],
)
def test_a_gap_a_repeat_or_a_reordering_breaks_the_chain(order: list[int], fragment: str) -> None:
    entries = [read_entry(data, PUBLIC) for data in _chain(3)]
    with pytest.raises(LedgerInvalid, match=fragment):
        check_chain([entries[i] for i in order])


def test_an_entry_that_does_not_follow_its_predecessor_breaks_the_chain() -> None:
    first, _second = (read_entry(data, PUBLIC) for data in _chain(2))
    stranger = sign_entry(2, "0" * 64, {"batch": "XH-2026-0009"}, KEY)
    with pytest.raises(LedgerInvalid, match="chain broken"):
        check_chain([first, stranger])
