"""foreign invoices: the invoice class's fields gain an "issuer outside mainland China"
flag and the rules that follow from it

Revision ID: 0014_foreign_invoices
Revises: 0013_reminders
Create Date: 2026-12-03 16:00:00

An invoice issued outside mainland China has no 发票代码 and a number of the issuer's own
form: with the flag set, the invoice code does not apply, any invoice number is accepted,
the country or region and the currency are asked for and the tax may stay empty. Only the
``invoice`` row of ``document_classes`` changes; documents keep their values. The field
lists are written out here (not imported) so that this step never changes afterwards.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_foreign_invoices"
down_revision = "0013_reminders"
branch_labels = None
depends_on = None

_BEFORE = [
    {
        "name": "invoice_code",
        "type": "invoice_code",
        "label_zh": "发票代码",
        "label_en": "Invoice code",
    },
    {
        "name": "invoice_number",
        "type": "invoice_number",
        "label_zh": "发票号码",
        "label_en": "Invoice number",
    },
    {"name": "invoice_date", "type": "date", "label_zh": "开票日期", "label_en": "Invoice date"},
    {"name": "amount", "type": "money", "label_zh": "金额", "label_en": "Amount"},
    {"name": "tax", "type": "money", "label_zh": "税额", "label_en": "Tax"},
]
_AFTER = [
    {
        "name": "issuer_abroad",
        "type": "flag",
        "label_zh": "开票方在中国大陆境外",
        "label_en": "Issuer outside mainland China",
        "optional": True,
    },
    {**_BEFORE[0], "unless": "issuer_abroad"},
    {**_BEFORE[1], "text_if": "issuer_abroad"},
    _BEFORE[2],
    {
        "name": "issuer_country",
        "type": "text",
        "label_zh": "开票方国家或地区",
        "label_en": "Issuer's country or region",
        "only_if": "issuer_abroad",
    },
    {
        "name": "currency",
        "type": "currency",
        "label_zh": "币种",
        "label_en": "Currency",
        "only_if": "issuer_abroad",
    },
    _BEFORE[3],
    {**_BEFORE[4], "optional_if": "issuer_abroad"},
]

_classes = sa.table(
    "document_classes", sa.column("code", sa.String), sa.column("required_fields", sa.JSON)
)


def _set(fields: list[dict[str, object]]) -> None:
    op.execute(_classes.update().where(_classes.c.code == "invoice").values(required_fields=fields))


def upgrade() -> None:
    _set(_AFTER)


def downgrade() -> None:
    _set(_BEFORE)
