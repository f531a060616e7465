"""When a document names a company other than the archive's customer (pure rules)."""

from __future__ import annotations

from types import SimpleNamespace

from archive_app.domain.suggestions import (
    names_another_customer,
    same_party,
    to_document_suggestions,
)
from indexing.extract import suggest_metadata

INVOICE = """增值税专用发票
发票号码: 08741295
购买方 名称: 上海明远贸易有限公司
纳税人识别号: 91310000MA1K4LXN0X
销售方 名称: 杭州云杉软件有限公司
"""


def archive(name: str, tax_id: str = "") -> SimpleNamespace:
    return SimpleNamespace(name=name, tax_id=tax_id)


def suggestions(text: str, own: tuple[str, ...] = ()) -> dict:
    return to_document_suggestions(suggest_metadata(text, own_names=own))


def test_an_invoice_naming_the_customer_is_in_the_right_archive():
    assert names_another_customer(suggestions(INVOICE), archive("上海明远贸易有限公司")) is None
    # OCR misreads a character, the legal form is written differently: still the customer.
    assert same_party("上海明远贸易有限公司", "", "上海明远贸易公司")
    assert same_party("上海明远货易有限公司", "", "上海明远贸易有限公司")


def test_an_invoice_naming_others_is_flagged_with_the_counterparty():
    found = suggestions(INVOICE, own=("杭州云杉软件有限公司",))
    assert found["fields"]["counterparty"]["value"] == "上海明远贸易有限公司"
    assert names_another_customer(found, archive("北京华信科技有限公司")) == "上海明远贸易有限公司"


def test_the_tax_id_decides_when_both_sides_have_one():
    found = suggestions(INVOICE)
    customer = archive("明远(上海)贸易", tax_id="91310000MA1K4LXN0X")
    assert names_another_customer(found, customer) is None
    assert not same_party("上海明远贸易有限公司", "91310000MA1K4LXN0X", "上海明远贸易有限公司", "X")


def test_no_party_found_no_warning():
    assert names_another_customer(suggestions("会议纪要\n2026年3月5日"), archive("某公司")) is None
