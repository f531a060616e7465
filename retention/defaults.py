"""The retention rules the product ships with.

Contract: ``default_rules()`` returns a ``RuleSet`` with one rule per shipped class code.
Accounting archives follow 《会计档案管理办法》(2015, 财政部 国家档案局令第79号) 附表1, whose
periods are minimums and run from the first day after the fiscal year in which the item
falls; the shipped period equals the statutory minimum, so a company may lengthen but
never shorten them. Contracts and personal data have no national period: the company
decides, within PIPL's "no longer than necessary" for personal data.

Class ``other`` deliberately has no rule: a record nobody has classified is never eligible
(``NO_RULE``) until compliance configures one.

Note for classifiers: a received invoice attached to a voucher is an original voucher
(原始凭证) and belongs in class ``voucher`` (30 years); class ``invoice`` is for invoices kept
as invoices (issued invoice stubs: 5 years under the invoice rules).
"""

from __future__ import annotations

from collections.abc import Mapping

from retention.rules import (
    EVENT_ASSET_SCRAPPED,
    EVENT_CONTRACT_END,
    EVENT_RELATIONSHIP_END,
    PERMANENT,
    Citation,
    Period,
    RetentionRule,
    RuleSet,
    Trigger,
)

CLASS_CODES: tuple[str, ...] = (
    "voucher",
    "ledger",
    "asset_card",
    "report_periodic",
    "report_annual",
    "bank_statement",
    "tax_return",
    "transfer_register",
    "register",
    "contract",
    "invoice",
    "personal",
    "other",
)

DEFAULT_PERSONAL_DATA_YEARS = 3

_ANNEX = "《会计档案管理办法》(2015) 附表1"
_ANNEX_EN = "Accounting Archives Management Measures (2015), Annex 1"


def _annex(item_zh: str, item_en: str) -> Citation:
    return Citation(zh=f"{_ANNEX}：{item_zh}", en=f"{_ANNEX_EN}: {item_en}")


# (code, class, period, citation) of the accounting archive table; trigger = fiscal year end.
_ACCOUNTING: tuple[tuple[str, str, Period, Citation], ...] = (
    (
        "acc.voucher",
        "voucher",
        Period(30),
        _annex("原始凭证、记账凭证 30年", "original and bookkeeping vouchers, 30 years"),
    ),
    (
        "acc.ledger",
        "ledger",
        Period(30),
        _annex(
            "总账、明细账、日记账及其他辅助性账簿 30年",
            "general, subsidiary, journal and other auxiliary ledgers, 30 years",
        ),
    ),
    (
        "acc.report_periodic",
        "report_periodic",
        Period(10),
        _annex(
            "月度、季度、半年度财务会计报告 10年",
            "monthly, quarterly and half-year financial reports, 10 years",
        ),
    ),
    (
        "acc.report_annual",
        "report_annual",
        PERMANENT,
        _annex("年度财务会计报告 永久", "annual financial report, permanent"),
    ),
    (
        "acc.bank_statement",
        "bank_statement",
        Period(10),
        _annex(
            "银行存款余额调节表、银行对账单 10年",
            "bank reconciliations and bank statements, 10 years",
        ),
    ),
    (
        "acc.tax_return",
        "tax_return",
        Period(10),
        _annex("纳税申报表 10年", "tax returns, 10 years"),
    ),
    (
        "acc.transfer_register",
        "transfer_register",
        Period(30),
        _annex("会计档案移交清册 30年", "accounting archive transfer register, 30 years"),
    ),
    (
        "acc.register",
        "register",
        PERMANENT,
        _annex(
            "会计档案保管清册、会计档案销毁清册、会计档案鉴定意见书 永久",
            "custody register, destruction register and appraisal opinions, permanent",
        ),
    ),
)


def default_rules(
    *,
    fiscal_year_start_month: int = 1,
    personal_data_years: int = DEFAULT_PERSONAL_DATA_YEARS,
    contract_years: int = 10,
    invoice_years: int = 10,
    overrides: Mapping[str, int | str | Period] | None = None,
) -> RuleSet:
    """The shipped rule set, version 1 of every rule.

    ``fiscal_year_start_month`` is 1 under the Accounting Law (the fiscal year is the
    calendar year); other values exist for groups reporting on another year.
    ``overrides`` maps a rule code to a configured period; each goes through
    ``RuleSet.revise`` and so can lengthen a rule but never undercut its statutory minimum.
    """
    fiscal = Trigger.fiscal_year_end(fiscal_year_start_month)
    rules: list[RetentionRule] = [
        RetentionRule(
            code=code,
            class_code=class_code,
            period=period,
            trigger=fiscal,
            citation=citation,
            statutory_minimum=period,
        )
        for code, class_code, period, citation in _ACCOUNTING
    ]
    rules += [
        RetentionRule(
            code="acc.asset_card",
            class_code="asset_card",
            period=Period(5),
            trigger=Trigger.event(
                EVENT_ASSET_SCRAPPED, fiscal=True, start_month=fiscal_year_start_month
            ),
            citation=_annex(
                "固定资产卡片 固定资产报废清理后保管5年",
                "fixed-asset cards, 5 years after the asset is scrapped and cleared",
            ),
            statutory_minimum=Period(5),
        ),
        RetentionRule(
            code="tax.invoice",
            class_code="invoice",
            period=Period(invoice_years),
            trigger=fiscal,
            citation=Citation(
                zh="《中华人民共和国发票管理办法》：已经开具的发票存根联应当保存5年；"
                "公司制度：按规定年限保存（默认10年，与其他涉税资料一致）",
                en="Invoice Administration Measures of the PRC: issued invoice stubs kept "
                "5 years; company policy: the configured period (10 years by default, as "
                "for other tax records)",
            ),
            statutory_minimum=Period(5),
        ),
        RetentionRule(
            code="policy.contract",
            class_code="contract",
            period=Period(contract_years),
            trigger=Trigger.event(EVENT_CONTRACT_END),
            citation=Citation(
                zh="公司制度：合同自履行完毕（终止）之日起按规定年限保存（无国家规定的保管期限）",
                en="Company policy: contracts kept for the configured period after the "
                "contract ends (no national statutory period)",
            ),
            statutory_minimum=None,
        ),
        RetentionRule(
            code="pipl.personal",
            class_code="personal",
            period=Period(personal_data_years),
            trigger=Trigger.event(EVENT_RELATIONSHIP_END),
            citation=Citation(
                zh="《中华人民共和国个人信息保护法》第十九条、第四十七条：保存期限应当为实现处理目的"
                "所必要的最短时间；公司制度：客户关系终止后按规定年限保存",
                en="Personal Information Protection Law of the PRC, arts. 19 and 47: kept no "
                "longer than necessary for the purpose; company policy: the configured "
                "period after the customer relationship ends",
            ),
            statutory_minimum=None,
        ),
    ]
    rule_set = RuleSet.of(rules)
    for code, period in (overrides or {}).items():
        rule_set = rule_set.revise(code, period, "configured override of the shipped default")
    return rule_set
