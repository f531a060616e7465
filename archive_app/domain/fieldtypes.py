"""Parsing and checking class metadata values by field type (see :mod:`archive_app.domain.classes`).

``normalise(type, raw)`` returns the canonical string for a valid value or raises
``ValueError`` with a message that says what a valid value looks like. A ``flag`` is
``yes`` or ``no`` (a checkbox, or yes/no/true/false/1/0/是/否 typed). A ``choice`` is one of
the field's ``choices``; a ``tax_id`` is a 统一社会信用代码 whose check digit is right
(GB 32100-2015); a ``number`` is a decimal number.

``ADMIN_TYPES`` are the types an administrator may give a field of their own class.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation

from indexing.extract.checks import uscc_expected

_INVOICE_CODE = re.compile(r"\d{10}|\d{12}")
_INVOICE_NUMBER = re.compile(r"\d{8}|\d{20}")
_FISCAL_PERIOD = re.compile(r"(\d{4})(?:-(\d{2}))?")
_DATE_SEPARATORS = re.compile(r"[./年月]")
_CURRENCY = re.compile(r"[A-Z]{3}")
ADMIN_TYPES: tuple[str, ...] = (
    "text",
    "number",
    "money",
    "date",
    "choice",
    "tax_id",
    "invoice_code",
)
_YES = {"yes", "y", "true", "1", "on", "是"}
_NO = {"no", "n", "false", "0", "off", "否"}


def _tax_id(value: str) -> str:
    code = value.upper()
    # One GB 32100 check for the whole product: the reading's field checks own it.
    expected = uscc_expected(code)
    if expected is None:
        raise ValueError("must be an 18-character unified social credit code")
    if expected != code[17]:
        raise ValueError("has a wrong check character (GB 32100)")
    return code


def normalise(field_type: str, raw: str, choices: Sequence[str] = ()) -> str:
    value = raw.strip()
    if not value:
        raise ValueError("is empty")
    if field_type == "choice":
        if value not in choices:
            raise ValueError("is not one of the field's choices")
        return value
    if field_type == "tax_id":
        return _tax_id(value)
    if field_type == "number":
        try:
            number = Decimal(value.replace(",", ""))
        except InvalidOperation:
            raise ValueError("must be a number like 42 or 3.5") from None
        if not number.is_finite() or abs(number) >= Decimal("1e15"):
            raise ValueError("must be a number below 10^15")
        return str(number)
    if field_type == "date":
        candidate = _DATE_SEPARATORS.sub("-", value).rstrip("日").rstrip("-")
        try:
            year, month, day = (int(part) for part in candidate.split("-"))
            return date(year, month, day).isoformat()
        except ValueError:
            raise ValueError("must be a date like 2026-03-05") from None
    if field_type == "money":
        cleaned = value.replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
        cleaned = cleaned.removeprefix("RMB").removeprefix("CNY").strip()
        try:
            amount = Decimal(cleaned)
        except InvalidOperation:
            raise ValueError("must be an amount like 12500.00") from None
        if not amount.is_finite() or amount < 0 or amount >= Decimal("1e15"):
            raise ValueError("must be a non-negative amount below 10^15")
        return str(amount.quantize(Decimal("0.01")))
    if field_type == "invoice_code":
        if not _INVOICE_CODE.fullmatch(value):
            raise ValueError("must be 10 or 12 digits")
        if len(set(value)) == 1:
            # 0000000000 is what people type to get past the check for a foreign invoice.
            raise ValueError(
                "is not an invoice code; an invoice from outside mainland China has none"
            )
        return value
    if field_type == "currency":
        if not _CURRENCY.fullmatch(value.upper()):
            raise ValueError("must be a three-letter currency code like USD")
        return value.upper()
    if field_type == "flag":
        if value.lower() in _YES:
            return "yes"
        if value.lower() in _NO:
            return "no"
        raise ValueError("must be yes or no")
    if field_type == "invoice_number":
        if not _INVOICE_NUMBER.fullmatch(value):
            raise ValueError("must be 8 or 20 digits")
        return value
    if field_type == "fiscal_period":
        match = _FISCAL_PERIOD.fullmatch(value)
        if not match or (match.group(2) and not 1 <= int(match.group(2)) <= 12):
            raise ValueError("must be a year (2026) or a month (2026-03)")
        return value
    if len(value) > 500:
        raise ValueError("is longer than 500 characters")
    return value
