"""Click parameter types for the values operators type: a malformed value is a usage error
(exit 2, one line naming the option), caught before anything runs.

``DATE`` (``2026-03-05``) gives a :class:`datetime.date`; ``AMOUNT`` (``12,000.00``) a
:class:`decimal.Decimal` within the range amounts are stored in; ``ASSIGNMENT``
(``FIELD=VALUE``) a ``(field, value)`` pair. The rules themselves live with the services
(:func:`archive_app.search.queries.parse_amount`); these types only apply them early.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import click

from archive_app.search.queries import parse_amount


class IsoDate(click.ParamType):
    name = "DATE"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD)", param, ctx)


class Amount(click.ParamType):
    name = "AMOUNT"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> Decimal:
        if isinstance(value, Decimal):
            return value
        try:
            return parse_amount(str(value))
        except ValueError as error:
            self.fail(f"{value!r} {error}", param, ctx)


class Assignment(click.ParamType):
    name = "FIELD=VALUE"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, str]:
        if isinstance(value, tuple):
            return value
        name, separator, text = str(value).partition("=")
        if not separator or not name.strip():
            self.fail(f"{value!r} is not FIELD=VALUE", param, ctx)
        return name.strip(), text


DATE = IsoDate()
AMOUNT = Amount()
ASSIGNMENT = Assignment()
