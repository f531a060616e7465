"""Every column type survives the trip database → SQLite backup copy → database, on
SQLite and on PostgreSQL: dates, UTC timestamps, Numeric beyond a float's precision, JSON
(SQL NULL and JSON null kept apart, text unchanged), binary, enums, booleans, floats."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Table,
    Text,
    cast,
    create_engine,
    insert,
    null,
    select,
    type_coerce,
)
from sqlalchemy.pool import NullPool

from archive_app.infra.db import Database
from archive_app.models.base import StrEnumType, UtcDateTime
from archive_app.services.backup.tables import copy_table


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


metadata = MetaData()
sample = Table(
    "backup_type_sample",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("amount", Numeric(18, 2)),
    Column("ratio", Float),
    Column("day", Date),
    Column("at", UtcDateTime()),
    Column("payload", JSON),
    Column("data", LargeBinary),
    Column("colour", StrEnumType(Colour)),
    Column("flag", Boolean),
    Column("note", Text),
)

ROWS = [
    {
        "id": 1,
        "amount": Decimal("9999999999999999.99"),  # 18 digits: a float cannot hold it
        "ratio": 0.1,
        "day": date(2024, 2, 29),
        "at": datetime(2026, 11, 24, 1, 2, 3, 456789, tzinfo=UTC),
        "payload": {"中文": [1, 2.5, None, True], "nested": {"k": "v"}},
        "data": bytes(range(256)),
        "colour": Colour.RED,
        "flag": True,
        "note": "多行\ntext with 'quotes'",
    },
    {  # SQL NULL everywhere it is allowed
        "id": 2,
        "amount": None,
        "ratio": None,
        "day": None,
        "at": None,
        "payload": null(),
        "data": None,
        "colour": None,
        "flag": None,
        "note": None,
    },
    {
        "id": 3,
        "amount": Decimal("0.10"),
        "ratio": -1.5e300,
        "day": date(1900, 1, 1),
        "at": datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=8))),
        "payload": JSON.NULL,  # JSON null, not SQL NULL
        "data": b"",
        "colour": Colour.BLUE,
        "flag": False,
        "note": "",
    },
]


def _read(connection) -> list[tuple]:
    payload_text = (
        cast(sample.c.payload, Text)
        if connection.dialect.name == "postgresql"
        else type_coerce(sample.c.payload, Text)
    )
    return [
        tuple(row)
        for row in connection.execute(
            select(*sample.columns, payload_text.label("payload_text")).order_by(sample.c.id)
        )
    ]


def test_every_type_round_trips(database_url: str, tmp_path: Path) -> None:
    source = Database(database_url)
    middle = create_engine(f"sqlite:///{tmp_path / 'copy.sqlite3'}", poolclass=NullPool)
    try:
        metadata.create_all(source.engine)
        metadata.create_all(middle)
        with source.engine.begin() as connection:
            connection.execute(insert(sample), ROWS[:1])
            for row in ROWS[1:]:
                connection.execute(insert(sample).values(row))
            before = _read(connection)
        with source.engine.connect() as connection, middle.begin() as copy:
            assert copy_table(connection, copy, sample, batch=2, backup_copy=True) == len(ROWS)
        with source.engine.begin() as connection:
            connection.execute(sample.delete())
        with middle.connect() as copy, source.engine.begin() as connection:
            assert copy_table(copy, connection, sample, batch=2) == len(ROWS)
            after = _read(connection)
    finally:
        with source.engine.begin() as connection:
            metadata.drop_all(connection)
        source.dispose()
        middle.dispose()

    assert after == before
    by_id = {row[0]: row for row in after}
    assert by_id[2][-1] is None  # SQL NULL stays SQL NULL
    assert by_id[3][-1] == "null"  # JSON null stays JSON null
    assert by_id[3][4] == datetime(1999, 12, 31, 15, 59, 59, tzinfo=UTC)
    assert by_id[1][6] == bytes(range(256))
    assert by_id[1][7] is Colour.RED
    if source.engine.dialect.name == "postgresql":
        assert by_id[1][1] == Decimal("9999999999999999.99")
