"""Named fields of Chinese VAT invoices, English invoices, contracts and vouchers.

Contract: ``document_fields(text, today=...)`` is a pure function of the normalised text
(``indexing.text.normalize_text``) and returns ``{field name: Suggestion}``; every suggestion
carries the line it came from and a confidence, and a failed check lowers the confidence and
says why (``Suggestion.problems``, from ``checks``).

Fields: ``invoice_code`` (发票代码), ``invoice_number`` (发票号码: 8 digits on paper invoices, 20
on 数电票; English "Invoice No."), ``invoice_date`` (开票日期, "Invoice Date"), ``buyer`` and
``seller`` (名称 with 纳税人识别号/统一社会信用代码 in ``tax_id``; "Bill To", "Seller"),
``net`` (金额), ``tax`` (税额), ``total`` (价税合计 小写, "Total"/"Amount Due", with or without
a currency sign), ``total_in_words`` (大写), ``check_code`` (校验码); ``contract_number``,
``party_a``/``party_b`` (甲方/乙方), ``sign_date``, ``contract_amount``, ``end_date``;
``voucher_number`` (凭证号, 记字第 N 号), ``voucher_date``, ``voucher_amount``.

Layout: paper invoices print the buyer's block above the seller's, 数电票 print them side by
side; the reading order (``layout``) gives both as "名称: buyer ... 名称: seller" in that order,
so the first 名称 and the first tax number belong to the buyer, the second to the seller, unless
a 购买方/销售方 label names the party outright.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from .checks import Problem, date_problem, sum_problem, uscc_problem, words_problem
from .suggest_base import Suggestion, make, parse_chinese_amount

__all__ = ["document_fields"]

PENALTY = 0.35  # confidence lost per failed check

_NUM = r"(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)"
_COMPANY_END = (
    r"(?:有限责任公司|股份有限公司|有限公司|公司|企业|厂|商店|店|中心|事务所|合作社|集团|银行|"
    r"医院|学校|研究院|研究所)"
)
_CN_NAME = (
    rf"([\u4e00-\u9fff()A-Za-z0-9]{{2,40}}?{_COMPANY_END}|[\u4e00-\u9fff()A-Za-z0-9]{{2,30}})"
)
_NAME = re.compile(rf"名\s*称\s*:?\s*{_CN_NAME}")
# Within one line: a 购买方 heading above a 名称 line is the layout _NAME reads by order.
_BUYER = re.compile(rf"(?:购买方|购方|买方)(?:信息)?[ \t]*(?:名[ \t]*称)?[ \t]*:[ \t]*{_CN_NAME}")
_SELLER = re.compile(rf"(?:销售方|销方|卖方)(?:信息)?[ \t]*(?:名[ \t]*称)?[ \t]*:[ \t]*{_CN_NAME}")
_TAX_ID = re.compile(
    r"(?:纳税人识别号|统一社会信用代码(?:/纳税人识别号)?|税号)\s*:?\s*([0-9A-Z]{15,20})(?![0-9A-Z])"
)
_INVOICE_CODE = re.compile(r"发票代码\s*:?\s*(\d{10,12})(?!\d)")
_INVOICE_NUMBER = re.compile(r"发票号码\s*:?\s*(\d{20}|\d{8})(?!\d)")
_INVOICE_NO_MARK = re.compile(r"\bNo\.?\s*:?\s*(\d{8})(?!\d)")
_INVOICE_DATE = re.compile(r"开票日期\s*:?\s*(.{8,16})")
# OCR doubles or misreads the currency sign (¥¥, ?): up to three other characters may stand
# before a figure.
_NET_AND_TAX = re.compile(rf"(?<!税)合\s*计\s*:?[^\d\n]{{0,3}}{_NUM}[^\d\n]{{1,4}}{_NUM}")
_TOTAL_CN = re.compile(rf"价税合计[^\n]*?小写\)?\s*:?[^\d\n]{{0,3}}{_NUM}")
_TOTAL_WORDS = re.compile(
    r"价税合计[^\n]*?([零〇壹贰叁肆伍陆柒捌玖拾佰仟万亿]+[元圆](?:[零〇壹贰叁肆伍陆柒捌玖]角)?"
    r"(?:[零〇壹贰叁肆伍陆柒捌玖]分)?[整正]?)"
)
_CHECK_CODE = re.compile(r"校验码\s*:?\s*((?:\d{5}\s*){3}\d{5})")

_EN_NUMBER = re.compile(
    r"invoice\s*(?:no\.?|number|num\.?|#)\s*[:#]?\s*((?=[A-Z\-/]*\d)[A-Z0-9][A-Z0-9\-/]{2,29})",
    re.I,
)
_EN_DATE = re.compile(
    r"(?:invoice\s*date|date\s*of\s*issue|issue\s*date|\bdate)\s*:?\s*(.{6,20})", re.I
)
_EN_TOTAL = re.compile(
    rf"(?<!sub)(?<!sub-)(?:grand\s*total|total\s*due|amount\s*due|balance\s*due|total)"
    rf"(?!\s*tax)[^\n\d]{{0,12}}?(?:[A-Z]{{3}}|[$€£¥])?\s*{_NUM}",
    re.I,
)
_EN_SELLER = re.compile(r"(?:seller|vendor|supplier|sold\s*by|from)\s*:\s*([^\n]{2,60})", re.I)
_EN_BUYER = re.compile(
    r"(?:buyer|bill(?:ed)?\s*to|customer|sold\s*to|purchaser)\s*:\s*([^\n]{2,60})", re.I
)
_EN_NAME_END = re.compile(r"\s{2,}|\s(?:address|tel|phone|vat|tax)\b", re.I)

_CONTRACT_NUMBER = re.compile(
    r"(?:合同编号|合同号|协议编号|(?:contract|agreement)\s*(?:no\.?|number|#))\s*[:#]?\s*"
    r"([A-Za-z0-9][A-Za-z0-9\-_/()\[\]]{2,39})",
    re.I,
)
_PARTY_A = re.compile(rf"甲\s*方(?:\([^)\n]{{0,10}}\))?\s*:\s*{_CN_NAME}")
_PARTY_B = re.compile(rf"乙\s*方(?:\([^)\n]{{0,10}}\))?\s*:\s*{_CN_NAME}")
_PARTY_EN = re.compile(r"party\s*([ab])\s*(?:\([^)\n]{0,20}\))?\s*:\s*([^\n]{2,60})", re.I)
_SIGN_DATE = re.compile(r"(?:签订|签署|签约|订立)(?:日期|时间)\s*:?\s*(.{8,16})")
_END_DATE = re.compile(r"(?:终止日期|到期日期?|有效期至|有效期限至|截止日期)\s*:?\s*(.{8,16})")
_CONTRACT_AMOUNT = re.compile(
    rf"(?:合同金额|合同总价|合同总金额|总金额)[^\n\d¥]{{0,12}}[¥$]?\s*{_NUM}"
)
_VOUCHER_NUMBER = re.compile(
    r"(?:凭证号|凭证编号|记\s*字\s*第?)\s*:?\s*([0-9A-Za-z\-]{1,20})\s*号?"
)
_VOUCHER_TOTAL = re.compile(rf"合\s*计\s*:?\s*[¥$]?\s*{_NUM}")


def first_date(text: str) -> date | None:
    from .suggest import parse_date  # the date forms are suggest's; imported late (cycle)

    return parse_date(text)


def _amount(raw: str) -> Decimal | None:
    try:
        return Decimal(raw.replace(",", "")).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def _checked(s: Suggestion, *problems: Problem | None) -> Suggestion:
    found = tuple(p for p in problems if p)
    if not found:
        return s
    return s.replace(confidence=max(0.05, s.confidence - PENALTY * len(found)), problems=found)


def _dated(
    text: str, m: re.Match[str] | None, name: str, today: date, *, future: bool = False
) -> Suggestion | None:
    if m is None:
        return None
    value = first_date(m.group(1))
    if value is None:
        return None
    s = make(text, name, value.isoformat(), 0.9, m, 1)
    return _checked(s, date_problem(value, today, future=future))


def _money(text: str, m: re.Match[str] | None, name: str, group: int = 1, conf: float = 0.85):
    if m is None or (value := _amount(m.group(group))) is None:
        return None
    return make(text, name, f"{value:.2f}", conf, m, group)


def _chinese_parties(text: str) -> dict[str, Suggestion]:
    found: dict[str, Suggestion] = {}
    for role, pattern in (("buyer", _BUYER), ("seller", _SELLER)):
        if m := pattern.search(text):
            found[role] = make(text, role, m.group(1), 0.85, m, 1)
    names = [m for m in _NAME.finditer(text)]
    for role, m in zip(("buyer", "seller"), names, strict=False):
        if role not in found:
            found[role] = make(text, role, m.group(1), 0.8, m, 1)
    tax_ids = list(_TAX_ID.finditer(text))
    for role, m in zip(("buyer", "seller"), tax_ids, strict=False):
        if role in found:
            code = m.group(1)
            found[role] = _checked(found[role].replace(tax_id=code), uscc_problem(code))
    return found


def _chinese_invoice(text: str, today: date) -> dict[str, Suggestion]:
    fields: dict[str, Suggestion] = {}
    if m := _INVOICE_CODE.search(text):
        fields["invoice_code"] = make(text, "invoice_code", m.group(1), 0.95, m, 1)
    if m := _INVOICE_NUMBER.search(text):
        fields["invoice_number"] = make(text, "invoice_number", m.group(1), 0.95, m, 1)
    elif m := _INVOICE_NO_MARK.search(text):
        fields["invoice_number"] = make(text, "invoice_number", m.group(1), 0.7, m, 1)
    if s := _dated(text, _INVOICE_DATE.search(text), "invoice_date", today):
        fields["invoice_date"] = s
    fields.update(_chinese_parties(text))
    if m := _NET_AND_TAX.search(text):
        fields["net"] = _money(text, m, "net", 1)
        fields["tax"] = _money(text, m, "tax", 2)
    total = _money(text, _TOTAL_CN.search(text), "total", conf=0.9)
    words_match = _TOTAL_WORDS.search(text)
    words = parse_chinese_amount(words_match.group(1)) if words_match else None
    if words_match and words is not None:
        fields["total_in_words"] = make(text, "total_in_words", f"{words:.2f}", 0.9, words_match, 1)
    if total is None and words_match and words is not None:
        # No legible figure: the amount in words is the total (written to be unambiguous).
        total = make(text, "total", f"{words:.2f}", 0.8, words_match, 1)
    if total is None and (net_and_tax := _NET_AND_TAX.search(text)) and fields.get("tax"):
        # No 价税合计 line could be read: 金额 + 税额, less sure than a printed total.
        net, tax = Decimal(fields["net"].value), Decimal(fields["tax"].value)
        total = make(text, "total", f"{net + tax:.2f}", 0.6, net_and_tax, 0, label="金额+税额")
    if total is not None:
        problems = []
        if words is not None:
            problems.append(words_problem(words, Decimal(total.value)))
        if fields.get("net") and fields.get("tax"):
            net, tax = Decimal(fields["net"].value), Decimal(fields["tax"].value)
            problems.append(sum_problem(net, tax, Decimal(total.value)))
        fields["total"] = _checked(total, *problems)
    if m := _CHECK_CODE.search(text):
        fields["check_code"] = make(text, "check_code", "".join(m.group(1).split()), 0.9, m, 1)
    return {name: s for name, s in fields.items() if s is not None}


def _english_invoice(text: str, today: date) -> dict[str, Suggestion]:
    fields: dict[str, Suggestion] = {}
    if m := _EN_NUMBER.search(text):
        fields["invoice_number"] = make(text, "invoice_number", m.group(1), 0.85, m, 1)
    if s := _dated(text, _EN_DATE.search(text), "invoice_date", today):
        fields["invoice_date"] = s
    totals = [m for m in _EN_TOTAL.finditer(text) if _amount(m.group(1)) is not None]
    if totals:
        best = max(totals, key=lambda m: _amount(m.group(1)) or 0)
        fields["total"] = _money(text, best, "total", conf=0.85)
    for role, pattern in (("seller", _EN_SELLER), ("buyer", _EN_BUYER)):
        if m := pattern.search(text):
            raw = m.group(1)
            cut = _EN_NAME_END.search(raw)
            name = (raw[: cut.start()] if cut else raw).strip(" :;,.")
            if len(name) >= 2:
                fields[role] = make(text, role, name, 0.8, m, 1)
    return fields


def _contract(text: str, today: date) -> dict[str, Suggestion]:
    fields: dict[str, Suggestion] = {}
    if m := _CONTRACT_NUMBER.search(text):
        fields["contract_number"] = make(text, "contract_number", m.group(1), 0.9, m, 1)
    for role, pattern in (("party_a", _PARTY_A), ("party_b", _PARTY_B)):
        if m := pattern.search(text):
            fields[role] = make(text, role, m.group(1), 0.85, m, 1)
    for m in _PARTY_EN.finditer(text):
        role = f"party_{m.group(1).lower()}"
        if role not in fields:
            raw = m.group(2)
            cut = _EN_NAME_END.search(raw)
            fields[role] = make(
                text, role, (raw[: cut.start()] if cut else raw).strip(" :;,."), 0.8, m, 2
            )
    tax_ids = list(_TAX_ID.finditer(text))
    for role, m in zip(("party_a", "party_b"), tax_ids, strict=False):
        if role in fields:
            fields[role] = _checked(
                fields[role].replace(tax_id=m.group(1)), uscc_problem(m.group(1))
            )
    if s := _dated(text, _SIGN_DATE.search(text), "sign_date", today):
        fields["sign_date"] = s
    if s := _dated(text, _END_DATE.search(text), "end_date", today, future=True):
        fields["end_date"] = s
    if amount := _money(text, _CONTRACT_AMOUNT.search(text), "contract_amount", conf=0.9):
        fields["contract_amount"] = amount
    return fields


def _voucher(text: str, today: date) -> dict[str, Suggestion]:
    fields: dict[str, Suggestion] = {}
    if m := _VOUCHER_NUMBER.search(text):
        fields["voucher_number"] = make(text, "voucher_number", m.group(1), 0.85, m, 1)
    if amount := _money(text, _VOUCHER_TOTAL.search(text), "voucher_amount"):
        fields["voucher_amount"] = amount
    return fields


def document_fields(text: str, *, today: date | None = None) -> dict[str, Suggestion]:
    """Every field found, whatever the class (the archivist's class picks which to use)."""
    today = today or date.today()
    fields: dict[str, Suggestion] = {}
    for extractor in (_english_invoice, _contract, _voucher, _chinese_invoice):
        fields.update(extractor(text, today))  # Chinese invoice labels win over English ones
    return fields
