"""Checks that catch misreadings in suggested fields (pure functions).

* ``uscc_problem(code)``: the GB 32100-2015 check digit of a 统一社会信用代码 (18 characters
  from ``0-9`` and ``ABCDEFGHJKLMNPQRTUWXY``, weights 3^i mod 31, check = 31 - sum mod 31);
  15-, 17- and 20-character tax numbers (old 纳税人识别号) carry no check digit.
  ``uscc_expected(code)`` is the check digit an 18-character code should end with (None
  when the code is not 18 characters of that alphabet).
* ``sum_problem(net, tax, total)``: 金额 + 税额 = 价税合计, to the fen.
* ``words_problem(words, figure)``: the uppercase amount (大写) equals the figure (小写).
* ``date_problem(value, today)``: a document date between 1990 and 31 days from today (an
  end date, ``future=True``: up to 2100).
Each returns None when the check passes, otherwise a ``Problem``: a code and the figures it
names (``str()`` of it is a short English reason; a front end says it in its own language).

Codes: ``uscc_format`` (code), ``uscc_check_digit`` (code, expected), ``sum`` (net, tax, sum,
total), ``words`` (words, figure), ``date_too_early`` (date), ``date_too_late`` (date),
``date_future`` (date).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

__all__ = [
    "Problem",
    "date_problem",
    "sum_problem",
    "uscc_expected",
    "uscc_problem",
    "words_problem",
]

_ENGLISH = {
    "uscc_format": "{code} is not an 18-character unified social credit code",
    "uscc_check_digit": "check digit of {code} should be {expected}",
    "sum": "amount {net} + tax {tax} = {sum}, not the total {total}",
    "words": "the amount in words ({words}) differs from the figure ({figure})",
    "date_too_early": "{date} is before 1990",
    "date_too_late": "{date} is after 2100",
    "date_future": "{date} is in the future",
}


@dataclass(frozen=True)
class Problem:
    """A failed check: ``code`` (see the module) and the figures it names, as text."""

    code: str
    data: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, code: str, /, **data: object) -> Problem:
        return cls(code, tuple((key, str(value)) for key, value in data.items()))

    def as_dict(self) -> dict[str, str]:
        return dict(self.data)

    def __str__(self) -> str:
        return _ENGLISH[self.code].format(**self.as_dict())


_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_problem(code: str) -> Problem | None:
    code = code.strip().upper()
    if len(code) in (15, 17, 20) and code.isalnum():
        return None  # an older taxpayer number: no check digit to verify
    expected = uscc_expected(code)
    if expected is None:
        return Problem.of("uscc_format", code=code)
    if code[17] != expected:
        return Problem.of("uscc_check_digit", code=code, expected=expected)
    return None


def uscc_expected(code: str) -> str | None:
    code = code.strip().upper()
    if len(code) != 18 or any(c not in _USCC_CHARS for c in code):
        return None
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(code[:17], _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def sum_problem(net: Decimal, tax: Decimal, total: Decimal) -> Problem | None:
    if net + tax != total:
        return Problem.of("sum", net=net, tax=tax, sum=net + tax, total=total)
    return None


def words_problem(words: Decimal, figure: Decimal) -> Problem | None:
    if words != figure:
        return Problem.of("words", words=words, figure=figure)
    return None


def date_problem(value: date, today: date, *, future: bool = False) -> Problem | None:
    """``future``: the date may lie ahead (a contract's end), only not past 2100."""
    if value.year < 1990:
        return Problem.of("date_too_early", date=value.isoformat())
    if future:
        if value.year > 2100:
            return Problem.of("date_too_late", date=value.isoformat())
        return None
    if value > today + timedelta(days=31):
        return Problem.of("date_future", date=value.isoformat())
    return None
