"""The suggestion record and the helpers every field extractor shares (pure functions).

``Suggestion`` is one suggested value with the line it came from; ``make`` builds one from a
regular-expression match in the normalised text; ``parse_chinese_amount`` reads an uppercase
amount (``壹万贰仟元整``).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from decimal import Decimal

from .checks import Problem

__all__ = ["CN_AMOUNT_RE", "Suggestion", "make", "parse_chinese_amount", "snippet_of"]


@dataclass(frozen=True)
class Suggestion:
    field: str  # e.g. "class", "title", "date", "amount", "invoice_number", "party_a"
    value: str  # normalised: ISO date, decimal amount, class code, plain text
    confidence: float  # 0..1
    snippet: str  # the source line
    start: int = 0  # offsets of the match in the normalised text
    end: int = 0
    label: str = ""  # the label that introduced the value ("签订日期", "Total"), if any
    currency: str | None = None  # amounts only: ISO 4217 code
    alternatives: tuple[str, ...] = ()  # other plausible readings (ambiguous dates)
    tax_id: str = ""  # parties only: the 纳税人识别号 / 统一社会信用代码 found with the name
    problems: tuple[Problem, ...] = ()  # checks that failed, each lowering the confidence

    def replace(self, **changes: object) -> Suggestion:
        return dataclasses.replace(self, **changes)


def snippet_of(text: str, start: int, end: int) -> str:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start : line_end if line_end != -1 else len(text)].strip()
    return line if len(line) <= 120 else text[max(0, start - 40) : end + 40].strip()


def make(
    text: str, name: str, value: str, confidence: float, m: re.Match[str], group: int = 0, **kw
) -> Suggestion:
    return Suggestion(
        field=name,
        value=value,
        confidence=round(min(1.0, max(0.0, confidence)), 2),
        snippet=snippet_of(text, m.start(group), m.end(group)),
        start=m.start(group),
        end=m.end(group),
        **kw,
    )


_CN_DIGITS = {
    "零": 0, "〇": 0, "壹": 1, "一": 1, "贰": 2, "貳": 2, "两": 2, "二": 2, "叁": 3, "三": 3,
    "肆": 4, "四": 4, "伍": 5, "五": 5, "陆": 6, "六": 6, "柒": 7, "七": 7, "捌": 8, "八": 8,
    "玖": 9, "九": 9,
}  # fmt: skip
_CN_UNITS = {"拾": 10, "十": 10, "佰": 100, "百": 100, "仟": 1000, "千": 1000}
_CN_BIG = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
CN_AMOUNT_RE = re.compile(
    r"(?P<amt>[零〇壹贰叁肆伍陆柒捌玖拾佰仟万萬亿億]+[元圆](?:[零〇壹贰叁肆伍陆柒捌玖]角)?"
    r"(?:[零〇壹贰叁肆伍陆柒捌玖]分)?[整正]?)"
)


def _cn_integer(s: str) -> int | None:
    total = section = digit = 0
    for ch in s:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (digit or 1) * _CN_UNITS[ch]
            digit = 0
        elif ch in ("万", "萬"):  # closes the section below 亿: 贰亿叁仟万 = 2亿 + 3000万
            total += (section + digit) * 10_000
            section = digit = 0
        elif ch in _CN_BIG:  # 亿 multiplies everything before it
            total = (total + section + digit) * _CN_BIG[ch]
            section = digit = 0
        else:
            return None
    return total + section + digit


def parse_chinese_amount(s: str) -> Decimal | None:
    """``壹万贰仟元整`` → ``Decimal("12000.00")``; None if ``s`` is not an uppercase amount."""
    m = re.fullmatch(
        r"(?P<int>[^元圆]*)[元圆](?:(?P<jiao>[零〇壹贰叁肆伍陆柒捌玖])角)?"
        r"(?:(?P<fen>[零〇壹贰叁肆伍陆柒捌玖])分)?[整正]?",
        s.strip(),
    )
    if not m:
        return None
    integer = _cn_integer(m["int"]) if m["int"] else 0
    if integer is None:
        return None
    jiao = _CN_DIGITS.get(m["jiao"] or "零", 0)
    fen = _CN_DIGITS.get(m["fen"] or "零", 0)
    return Decimal(integer) + Decimal(jiao) / 10 + Decimal(fen) / 100
