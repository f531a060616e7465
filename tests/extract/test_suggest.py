"""Metadata suggestions on contract and VAT-invoice text, typed and OCR'd."""

from __future__ import annotations

from decimal import Decimal

import pytest

from indexing.extract import ExtractOptions, extract
from indexing.extract.suggest import parse_chinese_amount, parse_date, suggest_metadata
from indexing.text import normalize_text
from tests import documents as docs

CONTRACT = "\n".join(docs.CONTRACT_LINES)
INVOICE = "\n".join(docs.INVOICE_LINES)


def values(suggestions):
    return [s.value for s in suggestions]


def test_contract_suggestions():
    s = suggest_metadata(CONTRACT, own_names=("上海明远贸易有限公司",))
    assert s.document_class.value == "contract" and s.document_class.confidence >= 0.7
    assert s.title.value == "采购合同"
    assert s.contract_number.value == "HT-2026-0315"
    assert s.contract_number.snippet == "合同编号: HT-2026-0315"
    assert s.dates[0].value == "2026-03-05" and s.dates[0].label == "签订日期"
    assert s.amounts[0].value == "128000.00" and s.amounts[0].currency == "CNY"
    parties = {p.field: p.value for p in s.parties}
    assert parties == {"party_a": "上海明远贸易有限公司", "party_b": "北京华信科技有限公司"}
    assert s.counterparty.value == "北京华信科技有限公司"


def test_vat_invoice_suggestions():
    s = suggest_metadata(INVOICE)
    assert s.document_class.value == "invoice"
    assert s.invoice_code.value == "3100212130" and s.invoice_code.confidence > 0.9
    assert s.invoice_number.value == "08741295"
    assert s.dates[0].value == "2026-03-18"
    # The uppercase amount and the figures agree: one suggestion, high confidence.
    assert s.amounts[0].value == "12000.00" and s.amounts[0].confidence >= 0.9
    parties = {p.field: p.value for p in s.parties}
    assert parties["buyer"] == "上海明远贸易有限公司"
    assert parties["seller"] == "杭州云杉软件有限公司"
    assert s.counterparty is None  # without own_names nobody knows which side we are


def test_english_invoice_suggestions():
    s = suggest_metadata("\n".join(docs.ENGLISH_INVOICE_LINES))
    assert s.document_class.value == "invoice"
    assert s.invoice_number.value == "INV-20417"
    assert values(s.dates) == ["2026-03-05"]
    assert s.amounts[0].value == "4250.00" and s.amounts[0].currency == "USD"
    assert {p.field: p.value for p in s.parties} == {
        "seller": "Harbour Tools Ltd",
        "buyer": "Redwood Archive Co",
    }


def test_twenty_digit_electronic_invoice_number_and_bad_lengths():
    assert suggest_metadata("发票号码:26312000000123456789").invoice_number.value == (
        "26312000000123456789"
    )
    assert suggest_metadata("发票号码: 123456789").invoice_number is None
    assert suggest_metadata("发票代码: 123456789").invoice_code is None
    assert suggest_metadata("发票代码 044031900111").invoice_code.value == "044031900111"


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2026年3月5日", "2026-03-05"),
        ("2026 年 03 月 05 日", "2026-03-05"),
        ("2026-03-05", "2026-03-05"),
        ("2026/3/5", "2026-03-05"),
        ("March 5, 2026", "2026-03-05"),
        ("5 March 2026", "2026-03-05"),
        ("Mar. 5th, 2026", "2026-03-05"),
        ("13/03/2026", "2026-03-13"),
        ("03/13/2026", "2026-03-13"),
    ],
)
def test_date_forms(text, iso):
    assert parse_date(text).isoformat() == iso


def test_ambiguous_date_is_day_first_with_low_confidence_and_alternative():
    [d] = suggest_metadata("Date: 05/03/2026").dates
    assert d.value == "2026-03-05" and d.alternatives == ("2026-05-03",) and d.confidence < 0.5


def test_impossible_dates_are_ignored():
    assert suggest_metadata("2026-02-30 and 32/13/2026").dates == ()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("壹万贰仟元整", "12000"),
        ("叁佰肆拾伍元陆角", "345.6"),
        ("壹拾万零伍佰元整", "100500"),
        ("贰亿叁仟万元整", "230000000"),
        ("捌仟元伍角叁分", "8000.53"),
    ],
)
def test_chinese_uppercase_amounts(text, value):
    assert parse_chinese_amount(text) == Decimal(value)


@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("合计: ￥1,234.50", "1234.50", "CNY"),
        ("金额 RMB 88,000", "88000.00", "CNY"),
        ("总价 3500元", "3500.00", "CNY"),
        ("Total: $1,250.00", "1250.00", "USD"),
        ("Amount due USD 99.90", "99.90", "USD"),
    ],
)
def test_figure_amounts(text, value, currency):
    amount = suggest_metadata(text).amounts[0]
    assert (amount.value, amount.currency) == (value, currency)
    assert amount.snippet == normalize_text(text)  # snippets quote the normalised text


def test_voucher_and_personal_and_other():
    assert suggest_metadata("记账凭证\n摘要 会计科目 借方 贷方").document_class.value == "voucher"
    assert suggest_metadata("居民身份证 出生日期 户口").document_class.value == "personal"
    assert suggest_metadata("Hello world").document_class.value == "other"


def test_every_suggestion_points_at_its_source():
    s = suggest_metadata(CONTRACT)
    for item in s.all():
        if item.field != "class":
            assert item.snippet and item.value
            assert s.text[item.start : item.end] in item.snippet


@pytest.fixture(scope="module")
def ocr_texts(folder, contract_page, invoice_page, engines):
    path = docs.write_scanned_pdf([contract_page, invoice_page], folder / "suggest.pdf")
    result = extract(path, options=ExtractOptions(), engines=engines)
    return [p.text for p in result.pages]


def test_suggestions_from_ocr_of_a_scanned_contract(ocr_texts):
    s = suggest_metadata(ocr_texts[0])
    assert s.document_class.value == "contract"
    assert s.contract_number.value == "HT-2026-0315"
    assert "2026-03-05" in values(s.dates)
    assert "128000.00" in values(s.amounts)


def test_suggestions_from_ocr_of_a_scanned_vat_invoice(ocr_texts):
    s = suggest_metadata(ocr_texts[1])
    assert s.document_class.value == "invoice"
    assert s.invoice_code.value == "3100212130"
    assert s.invoice_number.value == "08741295"
    assert "2026-03-18" in values(s.dates)
    assert "12000.00" in values(s.amounts)


def test_invoice_number_must_look_like_an_identifier():
    assert suggest_metadata("Invoice Number:\nInvoice Date:").invoice_number is None
    assert suggest_metadata("Invoice #: A-1029").invoice_number.value == "A-1029"


def test_chinese_title_is_cut_out_of_a_line_ocr_glued_together():
    s = suggest_metadata("1100094140增值税专用发票 No 87654321\n开票日期: 2010年11月18日")
    assert s.title.value == "增值税专用发票"
    assert s.dates[0].label == "开票日期"
