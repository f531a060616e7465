"""The default document classes and the metadata each requires.

Field types: ``text``; ``date`` (ISO ``YYYY-MM-DD``); ``money`` (decimal amount);
``invoice_code`` (10 or 12 digits); ``invoice_number`` (8 or 20 digits);
``fiscal_period`` (``YYYY`` or ``YYYY-MM``). Validation of values lives with the
checklist; this module only declares what each class asks for.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    label_zh: str
    label_en: str

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "type": self.type,
            "label_zh": self.label_zh,
            "label_en": self.label_en,
        }


@dataclass(frozen=True)
class ClassSpec:
    code: str
    number_code: str
    name_zh: str
    name_en: str
    fields: tuple[FieldSpec, ...]
    retention_rule: str | None
    sort_order: int


DEFAULT_CLASSES: tuple[ClassSpec, ...] = (
    ClassSpec(
        "personal",
        "ZL",
        "客户个人资料",
        "Personal data",
        (
            FieldSpec("subject_name", "text", "资料主体", "Data subject"),
            FieldSpec("document_date", "date", "文件日期", "Document date"),
        ),
        "personal",
        10,
    ),
    ClassSpec(
        "contract",
        "HT",
        "合同",
        "Contract",
        (
            FieldSpec("counterparty", "text", "合同相对方", "Counterparty"),
            FieldSpec("contract_number", "text", "合同编号", "Contract number"),
            FieldSpec("sign_date", "date", "签订日期", "Sign date"),
            FieldSpec("end_date", "date", "终止日期", "End date"),
            FieldSpec("amount", "money", "合同金额", "Amount"),
        ),
        "contract",
        20,
    ),
    ClassSpec(
        "invoice",
        "FP",
        "发票",
        "Invoice",
        (
            FieldSpec("invoice_code", "invoice_code", "发票代码", "Invoice code"),
            FieldSpec("invoice_number", "invoice_number", "发票号码", "Invoice number"),
            FieldSpec("invoice_date", "date", "开票日期", "Invoice date"),
            FieldSpec("amount", "money", "金额", "Amount"),
            FieldSpec("tax", "money", "税额", "Tax"),
        ),
        "invoice",
        30,
    ),
    ClassSpec(
        "voucher",
        "PZ",
        "会计凭证",
        "Accounting voucher",
        (
            FieldSpec("voucher_number", "text", "凭证号", "Voucher number"),
            FieldSpec("fiscal_period", "fiscal_period", "会计期间", "Fiscal period"),
        ),
        "voucher",
        40,
    ),
    ClassSpec("other", "QT", "其他", "Other", (), "other", 90),
)
