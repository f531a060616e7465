"""Metadata suggestions from extracted text: class, title, dates, amounts, numbers, parties.

Contract: ``suggest_metadata(text)`` is a pure function of the text. Every ``Suggestion`` carries
the normalised value, a confidence in 0..1 and the source snippet (the line it came from, with
its character offsets in the normalised text), so the UI can show it as *suggested*, highlight
where it came from, and let the archivist accept or correct it. Nothing here is authoritative:
a wrong suggestion costs a click, a missing one costs typing.

Supported forms:
* dates: ``2026年3月5日``, ``2026-03-05``, ``2026/3/5``, ``2026.3.5``, ``March 5, 2026``,
  ``5 March 2026``, ``05/03/2026`` (day first unless impossible, then month first; a date that
  reads both ways gets a low confidence and the other reading in ``alternatives``).
* amounts: ``¥``/``￥``/``RMB``/``CNY``/``人民币``/``元``, ``$``/``USD``/``US$``, ``€``/``EUR``,
  thousands separators, and Chinese uppercase amounts (``壹万贰仟元整``, ``叁佰肆拾伍元陆角``).
* named fields of Chinese VAT invoices, English invoices, contracts and vouchers, checked
  (``fields``: numbers, dates, parties with tax IDs, amounts; ``Suggestions.fields``).
* parties: the buyer and seller or party A and B found there; the counterparty is the one
  that is not our own company (``own_names``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from indexing.text import normalize_text

from .fields import document_fields
from .suggest_base import CN_AMOUNT_RE, Suggestion, make, parse_chinese_amount, snippet_of

__all__ = [
    "Suggestion",
    "Suggestions",
    "parse_chinese_amount",
    "parse_date",
    "suggest_metadata",
]

DOCUMENT_CLASSES = ("contract", "invoice", "voucher", "personal", "other")


@dataclass(frozen=True)
class Suggestions:
    document_class: Suggestion
    title: Suggestion | None = None
    dates: tuple[Suggestion, ...] = ()
    amounts: tuple[Suggestion, ...] = ()
    invoice_code: Suggestion | None = None
    invoice_number: Suggestion | None = None
    contract_number: Suggestion | None = None
    parties: tuple[Suggestion, ...] = ()
    counterparty: Suggestion | None = None
    # Named fields of invoices, contracts and vouchers, checked (``fields``).
    fields: dict[str, Suggestion] = field(default_factory=dict)
    text: str = field(default="", repr=False)  # the normalised text offsets refer to

    def all(self) -> list[Suggestion]:
        """Every suggestion, flat, best first within each field."""
        singles = [
            self.document_class,
            self.title,
            self.invoice_code,
            self.invoice_number,
            self.contract_number,
            self.counterparty,
        ]
        return [s for s in singles if s] + [*self.dates, *self.amounts, *self.parties]


# --- helpers ---------------------------------------------------------------------------------


# --- class and title -------------------------------------------------------------------------

_CLASS_KEYWORDS: dict[str, tuple[tuple[str, float], ...]] = {
    "invoice": (
        ("发票", 3), ("增值税", 2), ("发票代码", 3), ("发票号码", 3), ("价税合计", 3),
        ("税额", 1), ("开票", 2), ("收据", 2), ("invoice", 3), ("tax invoice", 2),
        ("receipt", 2), ("amount due", 2), ("bill to", 1), ("vat", 1), ("subtotal", 1),
    ),
    "contract": (
        ("合同", 3), ("协议", 2), ("甲方", 2), ("乙方", 2), ("违约", 2), ("签订", 1),
        ("条款", 1), ("contract", 3), ("agreement", 3), ("party a", 2), ("party b", 2),
        ("hereinafter", 2), ("terms and conditions", 1), ("witness whereof", 2),
    ),
    "voucher": (
        ("记账凭证", 5), ("凭证", 3), ("会计科目", 3), ("借方", 2), ("贷方", 2), ("摘要", 1),
        ("附单据", 2), ("voucher", 4), ("debit", 1), ("credit", 1), ("journal entry", 3),
    ),
    "personal": (
        ("身份证", 4), ("户口", 3), ("简历", 3), ("学历", 2), ("护照", 3), ("出生日期", 2),
        ("婚姻", 2), ("passport", 3), ("curriculum vitae", 4), ("resume", 2),
        ("date of birth", 2), ("identity card", 3),
    ),
}  # fmt: skip


def _classify(text: str) -> Suggestion:
    lower = text.lower()
    scores = {
        cls: sum(weight * min(lower.count(word), 3) for word, weight in words)
        for cls, words in _CLASS_KEYWORDS.items()
    }
    best = max(scores, key=lambda c: scores[c])
    total = sum(scores.values())
    if scores[best] < 3:
        return Suggestion("class", "other", 0.3, "")
    # Share of the evidence, damped when the evidence is thin.
    confidence = scores[best] / total * min(1.0, scores[best] / 8)
    word = max(_CLASS_KEYWORDS[best], key=lambda kw: (kw[0] in lower, kw[1]))[0]
    pos = lower.find(word)
    snippet = snippet_of(text, pos, pos + len(word)) if pos >= 0 else ""
    return Suggestion("class", best, round(confidence, 2), snippet, max(pos, 0), max(pos, 0))


_TITLE_WORDS = re.compile(
    r"合同|协议|发票|收据|凭证|声明|证明|报告|通知|委托书|invoice|contract|agreement|receipt|"
    r"voucher|statement|order|certificate",
    re.IGNORECASE,
)


_CJK_TITLE = re.compile(
    r"[\u4e00-\u9fff]{0,10}(?:合同|协议|发票|收据|凭证|声明|证明|报告|通知|委托书|确认书|清单)"
    r"[\u4e00-\u9fff]{0,3}"
)


def _title(text: str, document_class: str) -> Suggestion | None:
    head = text.split("\n")
    # A Chinese title is a run of characters ending in a document word (采购合同, 增值税专用
    # 发票), even when OCR glued it to numbers on the same line.
    offset = 0
    for line in head[:8]:
        m = _CJK_TITLE.search(line)
        if m and len(m.group()) >= 3:
            start = text.find(line, offset) + m.start()
            return Suggestion("title", m.group(), 0.7, line.strip(), start, start + len(m.group()))
        offset += len(line) + 1
    offset = 0
    candidates = []
    for line in head[:15]:
        stripped = line.strip()
        start = text.find(stripped, offset) if stripped else offset
        offset = start + len(stripped)
        if not (2 <= len(stripped) <= 40):
            continue
        digits = sum(c.isdigit() for c in stripped)
        letters = sum(c.isalpha() for c in stripped)
        if letters < 2 or digits > len(stripped) / 3 or ":" in stripped:
            continue
        score = 0.35 + (0.4 if _TITLE_WORDS.search(stripped) else 0) - 0.02 * len(candidates)
        candidates.append((score, stripped, start))
    if not candidates:
        return None
    score, line, start = max(candidates, key=lambda c: c[0])
    return Suggestion("title", line, round(score, 2), line, start, start + len(line))


# --- dates -----------------------------------------------------------------------------------

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        ("jan january", "feb february", "mar march", "apr april", "may", "jun june",
         "jul july", "aug august", "sep sept september", "oct october 0ct 0ctober", "nov november n0v n0vember",
         "dec december")
    )
    for m in names.split()
}  # fmt: skip
_MONTH_RE = r"(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"

_DATE_LABEL = (
    r"(?P<label>[\u4e00-\u9fff]{0,2}日期|[\u4e00-\u9fff]{0,2}时间|[A-Za-z ]{0,20}date)?\s*[:]?\s*"
)
_DATE_PATTERNS: list[tuple[re.Pattern[str], str, float]] = [
    (re.compile(_DATE_LABEL + r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]", re.I), "ymd", 0.9),
    (re.compile(_DATE_LABEL + r"(?<!\d)(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?!\d)", re.I), "ymd", 0.85),
    (re.compile(_DATE_LABEL + _MONTH_RE + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:,\s*|\s+)(?P<y>\d{4})(?!\d)", re.I), "ymd", 0.85),
    (re.compile(_DATE_LABEL + r"(?<!\d)(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH_RE + r",?\s+(?P<y>\d{4})(?!\d)", re.I), "ymd", 0.85),
    (re.compile(_DATE_LABEL + r"(?<![\d/.-])(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-](?P<y>\d{4})(?!\d)", re.I), "ab", 0.7),
]  # fmt: skip


def _make_date(y: int, m: int, d: int) -> date | None:
    try:
        value = date(y, m, d)
    except ValueError:
        return None
    return value if 1900 <= y <= 2100 else None


def parse_date(s: str) -> date | None:
    """The first date in ``s`` (see module docstring for the forms), or None."""
    found = _dates(normalize_text(s))
    return date.fromisoformat(found[0].value) if found else None


def _dates(text: str) -> list[Suggestion]:
    best: dict[str, Suggestion] = {}
    for pattern, form, confidence in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            y = int(m["y"])
            alternatives: tuple[str, ...] = ()
            conf = confidence
            if form == "ymd":
                month = (
                    _MONTHS[m["mon"].lower()]
                    if "mon" in m.groupdict() and m["mon"]
                    else int(m["m"])
                )
                value = _make_date(y, month, int(m["d"]))
            else:
                a, b = int(m["a"]), int(m["b"])
                day_first, month_first = _make_date(y, b, a), _make_date(y, a, b)
                # Day first (as in China's and most of the world's dd/mm/yyyy) unless impossible.
                value = day_first or month_first
                if day_first and month_first and day_first != month_first:
                    conf = 0.4
                    alternatives = (month_first.isoformat(),)
            if value is None:
                continue
            label = (m["label"] or "").strip()
            if label:
                conf += 0.05
            iso = value.isoformat()
            s = make(text, "date", iso, conf, m, label=label, alternatives=alternatives)
            if iso not in best or best[iso].confidence < s.confidence:
                best[iso] = s
    return sorted(best.values(), key=lambda s: (-s.confidence, s.start))


# --- amounts ---------------------------------------------------------------------------------

_NUM = r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)"
_CUR_BEFORE = r"(?P<cur>¥|RMB|CNY|人民币|US\$|USD|\$|EUR|€)"
_CUR_AFTER = r"(?P<cur2>元|圆|RMB|CNY|USD|EUR|yuan)"
_AMOUNT_LABEL = (
    r"(?P<label>价税合计|合计金额|合同金额|合同总价|总金额|总计|合计|金额|小写|"
    r"total amount|amount due|grand total|total|amount|balance due)"
)
_AMOUNT_PATTERNS = [
    re.compile(
        rf"(?:{_AMOUNT_LABEL}[^\n\d¥$€]{{0,12}})?{_CUR_BEFORE}\s*{_NUM}(?:\s*{_CUR_AFTER})?", re.I
    ),
    re.compile(rf"(?:{_AMOUNT_LABEL}[^\n\d¥$€]{{0,12}})?(?<![\d.,]){_NUM}\s*{_CUR_AFTER}", re.I),
]
_CURRENCIES = {
    "¥": "CNY", "rmb": "CNY", "cny": "CNY", "人民币": "CNY", "元": "CNY", "圆": "CNY",
    "yuan": "CNY", "$": "USD", "us$": "USD", "usd": "USD", "€": "EUR", "eur": "EUR",
}  # fmt: skip


def _amounts(text: str) -> list[Suggestion]:
    found: list[Suggestion] = []
    for m in (m for pattern in _AMOUNT_PATTERNS for m in pattern.finditer(text)):
        groups = m.groupdict()
        cur = (groups.get("cur") or groups.get("cur2") or "").lower()
        try:
            value = Decimal(m["num"].replace(",", ""))
        except InvalidOperation:
            continue
        label = (m["label"] or "").strip()
        conf = 0.6 + (0.25 if label else 0) + (0.05 if "," in m["num"] else 0)
        found.append(
            make(
                text, "amount", f"{value:.2f}", conf, m, label=label,
                currency=_CURRENCIES.get(cur),
            )
        )  # fmt: skip
    for m in CN_AMOUNT_RE.finditer(text):
        value = parse_chinese_amount(m["amt"])
        if value is None or value == 0:
            continue
        # Uppercase amounts are written precisely to be unambiguous: trust them.
        found.append(
            make(text, "amount", f"{value:.2f}", 0.85, m, "amt", label="大写", currency="CNY")
        )
    # Agreement between an uppercase and a figure amount is strong evidence for both.
    values = [s.value for s in found]
    boosted = [
        Suggestion(**{**s.__dict__, "confidence": min(1.0, s.confidence + 0.1)})
        if values.count(s.value) > 1
        else s
        for s in found
    ]
    best: dict[tuple[str, str | None], Suggestion] = {}
    for s in boosted:
        key = (s.value, s.currency)
        if key not in best or best[key].confidence < s.confidence:
            best[key] = s
    return sorted(best.values(), key=lambda s: (-s.confidence, -float(s.value)))


# --- parties ---------------------------------------------------------------------------------


def _is_own(party: Suggestion, own_names: tuple[str, ...]) -> bool:
    return any(own and (own in party.value or party.value in own) for own in own_names)


def _counterparty(parties: list[Suggestion], own_names: tuple[str, ...]) -> Suggestion | None:
    """The party that is not our own company, when exactly one is not."""
    if len(parties) < 2 or not own_names:
        return None
    others = [p for p in parties if not _is_own(p, own_names)]
    if len(others) == 1:
        return others[0].replace(field="counterparty")
    return None


_PARTY_ROLES = ("seller", "buyer", "party_a", "party_b")


def suggest_metadata(
    text: str, *, own_names: tuple[str, ...] = (), today: date | None = None
) -> Suggestions:
    """Suggestions for a document's text. ``own_names``: names of the company that runs the
    archive, so the *other* party can be suggested as the counterparty."""
    text = normalize_text(text)
    document_class = _classify(text)
    fields = document_fields(text, today=today)
    parties = [fields[role] for role in _PARTY_ROLES if role in fields]
    return Suggestions(
        document_class=document_class,
        title=_title(text, document_class.value),
        dates=tuple(_dates(text)),
        amounts=tuple(_amounts(text)),
        invoice_code=fields.get("invoice_code"),
        invoice_number=fields.get("invoice_number"),
        contract_number=fields.get("contract_number"),
        parties=tuple(parties),
        counterparty=_counterparty(parties, own_names),
        fields=fields,
        text=text,
    )
