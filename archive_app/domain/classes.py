"""The document classes a new instance ships with and the metadata each requires.

Administrators add, change and retire classes afterwards (``archive_app.services.classes``);
these are only the starting catalogue: one class for every shipped retention rule (the
items of 《会计档案管理办法》附表1, invoices, contracts, personal data) plus ``other``.

Field types: ``text``; ``date`` (ISO ``YYYY-MM-DD``); ``money`` (decimal amount);
``invoice_code`` (10 or 12 digits); ``invoice_number`` (8 or 20 digits);
``fiscal_period`` (``YYYY`` or ``YYYY-MM``); ``currency`` (ISO 4217, ``USD``); ``flag``
(``yes`` or ``no``); ``number``; ``choice`` (one of the field's ``choices``); ``tax_id``
(统一社会信用代码, GB 32100 check character). A field may carry rules keyed on a flag field of its class
(:mod:`archive_app.domain.field_rules` applies them): ``optional``, ``unless``,
``only_if``, ``optional_if`` and ``text_if``. Values are checked by
:mod:`archive_app.domain.fieldtypes`; this module only declares what each class asks for.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    label_zh: str
    label_en: str
    optional: bool = False  # may always stay empty
    unless: str = ""  # a flag field: while it is set, this field does not apply
    only_if: str = ""  # a flag field: this field applies only while it is set
    optional_if: str = ""  # a flag field: while it is set, this field may stay empty
    text_if: str = ""  # a flag field: while it is set, any text is a valid value
    choices: tuple[str, ...] = ()  # the values a ``choice`` field takes

    def as_dict(self) -> dict[str, str | bool | list[str]]:
        """The field as stored in ``document_classes.required_fields`` (rules only when set)."""
        stored: dict[str, str | bool | list[str]] = {
            "name": self.name,
            "type": self.type,
            "label_zh": self.label_zh,
            "label_en": self.label_en,
        }
        if self.optional:
            stored["optional"] = True
        for rule in ("unless", "only_if", "optional_if", "text_if"):
            if getattr(self, rule):
                stored[rule] = getattr(self, rule)
        if self.choices:
            stored["choices"] = list(self.choices)
        return stored


@dataclass(frozen=True)
class ClassSpec:
    code: str
    number_code: str
    name_zh: str
    name_en: str
    fields: tuple[FieldSpec, ...]
    retention_rule: str | None
    sort_order: int


ABROAD = "issuer_abroad"
# A Chinese invoice (发票) has a 发票代码 and a numeric 发票号码; one issued outside mainland
# China (Hong Kong, Macao, Taiwan, abroad) has neither: its number is whatever the issuer
# uses, and it says in which country or region and currency it was issued. Tax may be absent.
INVOICE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        ABROAD, "flag", "开票方在中国大陆境外", "Issuer outside mainland China", optional=True
    ),
    FieldSpec("invoice_code", "invoice_code", "发票代码", "Invoice code", unless=ABROAD),
    FieldSpec("invoice_number", "invoice_number", "发票号码", "Invoice number", text_if=ABROAD),
    FieldSpec("invoice_date", "date", "开票日期", "Invoice date"),
    FieldSpec(
        "issuer_country", "text", "开票方国家或地区", "Issuer's country or region", only_if=ABROAD
    ),
    FieldSpec("currency", "currency", "币种", "Currency", only_if=ABROAD),
    FieldSpec("amount", "money", "金额", "Amount"),
    FieldSpec("tax", "money", "税额", "Tax", optional_if=ABROAD),
)
# Every accounting class is filed by the fiscal period its content covers.
_PERIOD = FieldSpec("fiscal_period", "fiscal_period", "会计期间", "Fiscal period")
# One class per item of 《会计档案管理办法》附表1, each under the shipped rule for that item.
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
        INVOICE_FIELDS,
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
    *(
        ClassSpec(code, number_code, name_zh, name_en, (_PERIOD,), rule, sort_order)
        for code, number_code, name_zh, name_en, rule, sort_order in (
            ("original_voucher", "YS", "原始凭证", "Original voucher", "acc.voucher", 41),
            ("bookkeeping_voucher", "JZ", "记账凭证", "Bookkeeping voucher", "acc.voucher", 42),
            ("general_ledger", "ZZ", "总账", "General ledger", "acc.ledger", 50),
            ("subsidiary_ledger", "MX", "明细账", "Subsidiary ledger", "acc.ledger", 51),
            ("journal", "RJ", "日记账", "Journal", "acc.ledger", 52),
            ("asset_card", "KP", "固定资产卡片", "Fixed-asset card", "acc.asset_card", 53),
            ("auxiliary_ledger", "FZ", "其他辅助账簿", "Other auxiliary ledger", "acc.ledger", 54),
            (
                "report_periodic",
                "BB",
                "月度、季度、半年度财务会计报告",
                "Monthly, quarterly or half-year financial report",
                "acc.report_periodic",
                60,
            ),
            (
                "report_annual",
                "NB",
                "年度财务会计报告",
                "Annual financial report",
                "acc.report_annual",
                61,
            ),
            (
                "bank_reconciliation",
                "TJ",
                "银行存款余额调节表",
                "Bank reconciliation",
                "acc.bank_statement",
                70,
            ),
            ("bank_statement", "DZ", "银行对账单", "Bank statement", "acc.bank_statement", 71),
            ("tax_return", "NS", "纳税申报表", "Tax return", "acc.tax_return", 72),
            (
                "transfer_register",
                "YJ",
                "会计档案移交清册",
                "Accounting archive transfer register",
                "acc.transfer_register",
                73,
            ),
            (
                "custody_register",
                "BG",
                "会计档案保管清册",
                "Accounting archive custody register",
                "acc.register",
                74,
            ),
            (
                "destruction_register",
                "XC",
                "会计档案销毁清册",
                "Accounting archive destruction register",
                "acc.register",
                75,
            ),
            (
                "appraisal_opinion",
                "JD",
                "会计档案鉴定意见书",
                "Accounting archive appraisal opinion",
                "acc.register",
                76,
            ),
        )
    ),
    ClassSpec("other", "QT", "其他", "Other", (), "other", 90),
)
