"""Copying the application's tables between databases, row for row, in batches.

Contract of :func:`copy_table`: every row of one table is read from ``source`` in primary
key order and inserted into ``target`` (same table, possibly another dialect) in batches of
``batch`` rows, so memory holds one batch whatever the table's size. Values keep their
exact meaning across SQLite and PostgreSQL:

- most columns go through their own SQLAlchemy type (UTC timestamps, dates, booleans,
  floats, text, binary), which both dialects read and write faithfully;
- JSON columns travel as their stored text, so SQL NULL and JSON ``null`` stay apart and
  nothing is re-serialised (the audit chain hashes what the database returns);
- enum columns travel as their stored strings, so a value is copied even if it is no
  longer a member of the enum;
- a Numeric value that SQLite would round (it keeps NUMERIC as a 64-bit float) is also
  written, exactly, to the side table ``backup_exact_numeric`` of the SQLite copy, and
  copying out of that copy into PostgreSQL inserts the exact value instead.

:func:`reset_sequences` moves PostgreSQL's id sequences past the ids inserted explicitly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Enum,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    bindparam,
    cast,
    func,
    insert,
    select,
    text,
    type_coerce,
)
from sqlalchemy import column as sql_column
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import table as sql_table
from sqlalchemy.sql.elements import ColumnElement

from archive_app.models import Base

DEFAULT_BATCH = 1000

_side = MetaData()
ALEMBIC_VERSION = Table(
    "alembic_version", _side, Column("version_num", String(32), primary_key=True)
)
EXACT_NUMERIC = Table(
    "backup_exact_numeric",
    _side,
    Column("table_name", String(128), primary_key=True),
    Column("row_key", Text, primary_key=True),  # JSON list of the primary key's values
    Column("column_name", String(128), primary_key=True),
    Column("value", Text, nullable=False),  # the Decimal as text
)


def application_tables() -> list[Table]:
    """Every table of the application's metadata, parents before children."""
    return list(Base.metadata.sorted_tables)


def _is_json(column: Column[Any]) -> bool:
    return isinstance(column.type, JSON)


def _is_enum(column: Column[Any]) -> bool:
    return isinstance(column.type, Enum)


def _read_column(column: Column[Any], dialect: str) -> ColumnElement[Any]:
    if _is_json(column):
        # PostgreSQL: json::text is the stored text; SQLite stores JSON as text already.
        expression = cast(column, Text) if dialect == "postgresql" else type_coerce(column, Text)
        return expression.label(column.name)
    if _is_enum(column):
        return type_coerce(column, String()).label(column.name)
    return column.label(column.name)


def _write_param(column: Column[Any], dialect: str) -> ColumnElement[Any]:
    name = "v_" + column.name
    if _is_json(column):
        raw = bindparam(name, type_=Text())
        return cast(raw, column.type) if dialect == "postgresql" else raw
    if _is_enum(column):
        return bindparam(name, type_=String())
    return bindparam(name, type_=column.type)


def _float_loses(value: Decimal, scale: int | None) -> bool:
    """Whether SQLite's float storage would hand back a different Decimal."""
    as_float = float(value)
    back = Decimal(f"{as_float:.{scale}f}") if scale is not None else Decimal(repr(as_float))
    return back != value


def _row_batches(
    source: Connection, table: Table, columns: list[Column[Any]], batch: int
) -> Iterator[list[Any]]:
    query = select(*[_read_column(c, source.dialect.name) for c in columns]).order_by(
        *table.primary_key.columns
    )
    # yield_per: a server-side cursor on PostgreSQL, so only one batch is in memory.
    result = source.execute(query.execution_options(yield_per=batch))
    yield from result.partitions()


def _has_exact_numerics(connection: Connection) -> bool:
    if connection.dialect.name != "sqlite":
        return False
    found = connection.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": EXACT_NUMERIC.name},
    ).first()
    return found is not None


def _row_key(mapping: Any, pk_names: list[str]) -> str:
    return json.dumps([mapping[name] for name in pk_names], default=str)


def _exact_values(
    source: Connection, table: Table, keys: list[str]
) -> dict[tuple[str, str], Decimal]:
    """The exact values the SQLite copy recorded for these rows of ``table``."""
    rows = source.execute(
        select(EXACT_NUMERIC.c.row_key, EXACT_NUMERIC.c.column_name, EXACT_NUMERIC.c.value).where(
            EXACT_NUMERIC.c.table_name == table.name, EXACT_NUMERIC.c.row_key.in_(keys)
        )
    )
    return {(key, column): Decimal(value) for key, column, value in rows}


def with_retired_columns(table: Table, target: Connection, names: set[str]) -> Table:
    """``table`` plus the columns ``names`` that the models no longer have but ``target``
    still has (a database at an older revision, loaded before it is migrated): their values
    are copied as they are, for the migration that retires them (e.g. 0008 moves clear
    suggestions into the encrypted store)."""
    retired = {c["name"]: c["type"] for c in sa_inspect(target).get_columns(table.name)}
    wanted = [name for name in sorted(names) if name in retired and name not in table.c]
    if not wanted:
        return table
    copy = table.to_metadata(MetaData())
    for name in wanted:
        copy.append_column(Column(name, retired[name]))
    return copy


def copy_table(
    source: Connection,
    target: Connection,
    table: Table,
    *,
    batch: int = DEFAULT_BATCH,
    on_rows: Callable[[int], None] | None = None,
    backup_copy: bool = False,
    only: set[str] | None = None,
) -> int:
    """Copy every row of ``table``; returns how many were copied (see the module doc).

    ``backup_copy``: ``target`` is a backup's SQLite copy, which records the exact value
    of every Numeric it rounds. ``only``: copy just these columns (those a database at an
    older schema revision has; the others take their defaults)."""
    target_dialect = target.dialect.name
    columns = [c for c in table.columns if only is None or c.name in only]
    # With ``only``, into a plain table of those columns: the model's Python-side defaults
    # would otherwise add columns a database at the older revision does not have yet (the
    # migrations after it give them their server defaults).
    into = table if only is None else sql_table(table.name, *(sql_column(c.name) for c in columns))
    statement = insert(into).values({c.name: _write_param(c, target_dialect) for c in columns})
    numerics = [c for c in columns if isinstance(c.type, Numeric) and c.type.asdecimal]
    # Into SQLite: note what it will round. Out of a SQLite copy: put the exact values in
    # before inserting (a rounded value may not even fit the column's precision).
    record_exact = backup_copy and target_dialect == "sqlite" and bool(numerics)
    restore_exact = target_dialect != "sqlite" and bool(numerics) and _has_exact_numerics(source)
    pk_names = [c.name for c in table.primary_key.columns]
    copied = 0
    for rows in _row_batches(source, table, columns, batch):
        values = [{"v_" + name: value for name, value in row._mapping.items()} for row in rows]
        if restore_exact:
            keys = [_row_key(row._mapping, pk_names) for row in rows]
            exact = _exact_values(source, table, keys)
            for key, row_values in zip(keys, values, strict=True):
                for column in numerics:
                    if (key, column.name) in exact:
                        row_values["v_" + column.name] = exact[(key, column.name)]
        target.execute(statement, values)
        if record_exact:
            _record_exact(target, table, numerics, pk_names, rows)
        copied += len(rows)
        if on_rows is not None:
            on_rows(len(rows))
    return copied


def _record_exact(
    target: Connection,
    table: Table,
    numerics: list[Column[Any]],
    pk_names: list[str],
    rows: list[Any],
) -> None:
    exact = [
        {
            "table_name": table.name,
            "row_key": _row_key(row._mapping, pk_names),
            "column_name": column.name,
            "value": str(row._mapping[column.name]),
        }
        for row in rows
        for column in numerics
        if row._mapping[column.name] is not None
        and _float_loses(row._mapping[column.name], column.type.scale)
    ]
    if exact:
        EXACT_NUMERIC.create(target, checkfirst=True)
        target.execute(insert(EXACT_NUMERIC), exact)


def count_rows(connection: Connection, table: Table) -> int:
    return int(connection.scalar(select(func.count()).select_from(table)) or 0)


def reset_sequences(connection: Connection, tables: list[Table]) -> None:
    """PostgreSQL: set each serial id sequence to the largest id now in its table."""
    if connection.dialect.name != "postgresql":
        return
    quote = connection.dialect.identifier_preparer.quote
    for table in tables:
        column = table.autoincrement_column
        if column is None or not isinstance(column.type, Integer):
            continue
        sequence = connection.scalar(
            text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": table.name, "column": column.name},
        )
        if sequence is None:
            continue
        connection.execute(
            text(
                f"SELECT setval(:sequence, COALESCE(MAX({quote(column.name)}), 1),"
                f" MAX({quote(column.name)}) IS NOT NULL) FROM {quote(table.name)}"
            ),
            {"sequence": sequence},
        )
