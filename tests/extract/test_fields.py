"""Fields of invoices and contracts, and the checks that catch misreadings."""

from __future__ import annotations

import random
from datetime import date

import pytest

from indexing.extract import ExtractOptions, extract, suggest_metadata
from indexing.extract.checks import uscc_problem
from tests import documents as docs
from tests import paperwork

TODAY = date(2026, 12, 1)

VAT_TEXT = """增值税专用发票
发票代码: 3100212130 发票号码: 08741295
开票日期: 2026年03月18日
购买方 名称: 上海明远贸易有限公司
纳税人识别号: {buyer_id}
合计 ¥10619.47 ¥1380.53
价税合计(大写) {words} (小写)¥{total}
销售方 名称: 杭州云杉软件有限公司
纳税人识别号: {seller_id}
校验码: 12345 67890 12345 67890
"""


def vat(
    *, buyer_id: str = "", seller_id: str = "", words: str = "壹万贰仟圆整", total: str = "12000.00"
):
    rng = random.Random(7)
    text = VAT_TEXT.format(
        buyer_id=buyer_id or paperwork.uscc(rng),
        seller_id=seller_id or paperwork.uscc(rng),
        words=words,
        total=total,
    )
    return suggest_metadata(text, today=TODAY, own_names=("上海明远贸易有限公司",))


def test_chinese_vat_invoice_fields_and_their_source():
    found = vat()
    fields = found.fields
    assert fields["invoice_code"].value == "3100212130"
    assert fields["invoice_number"].value == "08741295"
    assert fields["invoice_date"].value == "2026-03-18"
    assert fields["buyer"].value == "上海明远贸易有限公司"
    assert fields["seller"].value == "杭州云杉软件有限公司"
    assert (fields["net"].value, fields["tax"].value) == ("10619.47", "1380.53")
    assert fields["total"].value == "12000.00" and not fields["total"].problems
    assert fields["total_in_words"].value == "12000.00"
    assert fields["check_code"].value == "12345678901234567890"
    assert "发票号码" in fields["invoice_number"].snippet
    assert all(0 < s.confidence <= 1 for s in fields.values())
    # Our own company is the buyer: the seller is the counterparty.
    assert found.counterparty is not None and found.counterparty.value == "杭州云杉软件有限公司"


def test_valid_and_broken_unified_social_credit_codes():
    rng = random.Random(1)
    good, bad = paperwork.uscc(rng), paperwork.uscc(rng, valid=False)
    assert uscc_problem(good) is None
    assert uscc_problem("91350100M000100Y43") is None  # a published example
    assert "check digit" in str(uscc_problem(bad))
    fields = vat(buyer_id=good, seller_id=bad).fields
    assert fields["buyer"].tax_id == good and not fields["buyer"].problems
    assert fields["seller"].tax_id == bad and "check digit" in str(fields["seller"].problems[0])
    assert fields["seller"].confidence < fields["buyer"].confidence


def test_totals_that_do_not_add_up_lower_the_confidence():
    total = vat(words="壹万贰仟壹佰圆整", total="12100.00").fields["total"]
    assert any("not the total" in str(p) for p in total.problems)
    assert total.confidence < 0.6


def test_amount_in_words_that_differs_from_the_figure():
    total = vat(words="壹万贰仟伍佰圆整").fields["total"]
    assert len(total.problems) == 1 and "in words" in str(total.problems[0])
    assert (
        paperwork.amount_in_words(__import__("decimal").Decimal("7018.83"))
        == "柒仟零壹拾捌圆捌角叁分"
    )


def test_implausible_dates_are_flagged():
    text = "增值税专用发票\n发票号码: 08741295\n开票日期: 2029年03月18日\n"
    date_field = suggest_metadata(text, today=TODAY).fields["invoice_date"]
    assert date_field.value == "2029-03-18" and date_field.problems[0].code == "date_future"


def test_digital_invoice_with_twenty_digits_and_parties_side_by_side():
    text = (
        "电子发票(增值税专用发票)\n发票号码: 26312000001234567890\n开票日期: 2026年05月02日\n"
        "购买方信息 销售方信息\n名称: 天津海河物流有限公司 名称: 苏州博雅电子有限公司\n"
    )
    fields = suggest_metadata(text, today=TODAY).fields
    assert fields["invoice_number"].value == "26312000001234567890"
    assert fields["buyer"].value == "天津海河物流有限公司"
    assert fields["seller"].value == "苏州博雅电子有限公司"


def test_english_invoice_total_without_currency_sign():
    text = "INVOICE\nInvoice No. INV-20417\nDate: March 5, 2026\nSeller: Harbour Tools Ltd\nBill To: Redwood Archive Co\nSubtotal: 4,000.00\nTotal: 4,250.00\n"
    fields = suggest_metadata(text, today=TODAY).fields
    assert fields["invoice_number"].value == "INV-20417"
    assert fields["invoice_date"].value == "2026-03-05"
    assert fields["total"].value == "4250.00"
    assert (fields["seller"].value, fields["buyer"].value) == (
        "Harbour Tools Ltd",
        "Redwood Archive Co",
    )


def test_contract_and_voucher_fields():
    text = "采购合同\n合同编号: HT-2026-0315\n甲方: 上海明远贸易有限公司\n乙方: 北京华信科技有限公司\n合同金额: ¥128,000.00元\n签订日期: 2026年3月5日\n有效期至: 2028年3月4日\n"
    fields = suggest_metadata(text, today=TODAY).fields
    assert fields["contract_number"].value == "HT-2026-0315"
    assert (fields["party_a"].value, fields["party_b"].value) == (
        "上海明远贸易有限公司",
        "北京华信科技有限公司",
    )
    assert fields["contract_amount"].value == "128000.00"
    assert (fields["sign_date"].value, fields["end_date"].value) == ("2026-03-05", "2028-03-04")
    voucher = suggest_metadata("记账凭证\n记字第 0042 号\n2026年3月31日\n合计 ¥3,800.00\n").fields
    assert voucher["voucher_number"].value == "0042"
    assert voucher["voucher_amount"].value == "3800.00"


@pytest.mark.parametrize("kind", paperwork.KINDS)
def test_generated_documents_read_by_ocr_give_their_fields(folder, engines, kind):
    paper = paperwork.generate(kind, 1)
    path = docs.write_png(paper.image, folder / f"{kind}.png")
    text = extract(path, options=ExtractOptions(), engines=engines).text
    fields = suggest_metadata(text, today=TODAY).fields
    roles = ("party_a", "party_b") if kind == "contract" else ("buyer", "seller")
    total = "contract_amount" if kind == "contract" else "total"
    number = "contract_number" if kind == "contract" else "invoice_number"
    when = "sign_date" if kind == "contract" else "invoice_date"
    assert fields[number].value == paper.truth[number]
    assert fields[when].value == paper.truth[when]
    assert fields[total].value == paper.truth["total"]
    for role in roles:
        assert fields[role].value == paper.truth[role]
