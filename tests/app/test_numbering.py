"""Archive and document numbers: format, gap-free allocation, never reused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from archive_app.domain.numbering import (
    allocate_document_number,
    current_value,
    format_archive_number,
    format_document_number,
    next_value,
)
from archive_app.infra.db import Database
from archive_app.models import NumberSequence


def test_document_number_scheme() -> None:
    assert format_document_number("KH-000123", "HT", 2026, 7) == "KH-000123-HT-2026-0007"
    assert format_document_number("KH-000001", "FP", 2025, 1) == "KH-000001-FP-2025-0001"
    # Past 9999 the sequence widens instead of wrapping: numbers stay unique.
    assert format_document_number("KH-000001", "PZ", 2025, 12345) == "KH-000001-PZ-2025-12345"


@pytest.mark.parametrize(
    ("code", "year", "seq"),
    [("ht", 2026, 1), ("", 2026, 1), ("HT1", 2026, 1), ("HT", 99, 1), ("HT", 2026, 0)],
)
def test_document_number_rejects_bad_parts(code: str, year: int, seq: int) -> None:
    with pytest.raises(ValueError):
        format_document_number("KH-000001", code, year, seq)


def test_archive_number_pattern() -> None:
    assert format_archive_number("KH-{seq:06d}", 42) == "KH-000042"
    assert format_archive_number("C{seq}", 42) == "C42"


def test_document_sequences_are_per_archive_class_and_year(database: Database) -> None:
    with database.session() as session:
        numbers = [
            allocate_document_number(
                session,
                archive_id=1,
                archive_number="KH-000001",
                class_code="contract",
                class_number_code="HT",
                year=2026,
            )
            for _ in range(3)
        ]
        other_year = allocate_document_number(
            session,
            archive_id=1,
            archive_number="KH-000001",
            class_code="contract",
            class_number_code="HT",
            year=2027,
        )
        other_class = allocate_document_number(
            session,
            archive_id=1,
            archive_number="KH-000001",
            class_code="invoice",
            class_number_code="FP",
            year=2026,
        )
    assert numbers == ["KH-000001-HT-2026-0001", "KH-000001-HT-2026-0002", "KH-000001-HT-2026-0003"]
    assert other_year == "KH-000001-HT-2027-0001"
    assert other_class == "KH-000001-FP-2026-0001"


def test_a_rolled_back_allocation_leaves_no_gap(database: Database) -> None:
    with database.session() as session:
        assert next_value(session, "demo") == 1
    with pytest.raises(RuntimeError), database.session() as session:
        assert next_value(session, "demo") == 2
        raise RuntimeError("the insert that needed the number failed")
    with database.session() as session:
        assert current_value(session, "demo") == 1
        assert next_value(session, "demo") == 2
        assert (
            session.scalar(select(NumberSequence.last_value).where(NumberSequence.name == "demo"))
            == 2
        )
