"""A small corpus of contracts, invoices and vouchers in Chinese, English and both."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from indexing.search import IndexDocument

VISIBLE = frozenset({"public", "internal"})  # a staff member without clearance
EVERYTHING = frozenset({"public", "internal", "confidential", "secret"})


def doc(
    doc_id: str,
    title: str,
    text: str,
    *,
    archive: str = "A1",
    cls: str = "contract",
    level: str = "public",
    status: str = "active",
    day: date | None = None,
    amount: str | None = None,
) -> IndexDocument:
    return IndexDocument(
        doc_id=doc_id,
        archive_id=archive,
        archive_number=f"KH-00000{archive[1:]}",
        class_code=cls,
        status=status,
        level=level,
        title=title,
        text=text,
        document_date=day,
        amount=Decimal(amount) if amount is not None else None,
    )


CORPUS = [
    doc(
        "c1",
        "采购合同",
        "根据本合同约定，如一方违约，应向守约方支付违约金人民币十万元。"
        "The supplier shall deliver the goods before 1 March.",
        day=date(2024, 3, 1),
        amount="100000.00",
    ),
    doc(
        "c2",
        "华为技术有限公司 技术服务合同",
        "甲方：华为技术有限公司。乙方：深圳某某科技有限公司。双方就违约金条款达成一致。"
        "Late delivery shall incur a penalty of 0.5% per day.",
        archive="A2",
        level="internal",
        day=date(2023, 6, 15),
        amount="250000.00",
    ),
    doc(
        "c3",
        "阿里巴巴(中国)有限公司 增值税专用发票",
        "购买方：阿里巴巴(中国)有限公司。货物已于三月交付。The goods were delivered late.",
        cls="invoice",
        day=date(2024, 5, 20),
        amount="1234.56",
    ),
    doc(
        "c4",
        "记账凭证 差旅费",
        "报销差旅费。违约金的计算另见条款第五条。Late fees apply to the delivery of documents.",
        archive="A3",
        cls="voucher",
        status="draft",
        day=date(2022, 11, 30),
        amount="880.00",
    ),
    doc(
        "c5",
        "保密协议 收购方案",
        "机密：收购方案涉及违约金与保密条款 secretword，仅限高管阅读。",
        archive="A2",
        level="secret",
        day=date(2024, 1, 10),
        amount="9000000.00",
    ),
    doc(
        "c6",
        "SaaS服务订阅确认函",
        "我方提供SaaS服务平台，deliveries are made monthly; 客户为犇骉科技。",
        archive="A3",
        cls="letter",
        level="confidential",
        day=date(2021, 2, 3),
    ),
    doc(
        "c7",
        "租赁合同",
        "出租方将位于鑫源大厦的办公室出租给承租方，租期三年。",
        archive="A3",
        day=date(2020, 8, 8),
        amount="360000.00",
    ),
    doc(
        "c8",
        "往来函件",
        "本函件涉及合同续签事宜，请于月底前回复。We deliver our reply in writing.",
        cls="letter",
        level="internal",
        day=None,
    ),
]
