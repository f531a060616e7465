"""class catalogue: versioned class definitions, documents held to the version they were
filed under, and a class for every shipped retention rule

Revision ID: 0019_class_catalogue
Revises: 0018_login_lockouts
Create Date: 2026-12-03 16:10:00

Adds ``document_class_versions`` (every definition a class ever had), the class's current
``version`` and ``documents.class_version_id``. Each existing class gets version 1 (its
definition as it stands) and each existing document is held to it. The classes of
《会计档案管理办法》附表1 that had none are added, each under its shipped rule; they are
written out here (not imported) so that this step never changes afterwards.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_class_catalogue"
down_revision = "0018_login_lockouts"
branch_labels = None
depends_on = None

_PERIOD = {
    "name": "fiscal_period",
    "type": "fiscal_period",
    "label_zh": "会计期间",
    "label_en": "Fiscal period",
}
# (code, number code, Chinese name, English name, rule, sort order)
_NEW_CLASSES = (
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
    ("report_annual", "NB", "年度财务会计报告", "Annual financial report", "acc.report_annual", 61),
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

_classes = sa.table(
    "document_classes",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("number_code", sa.String),
    sa.column("name_zh", sa.String),
    sa.column("name_en", sa.String),
    sa.column("required_fields", sa.JSON),
    sa.column("retention_rule", sa.String),
    sa.column("sort_order", sa.Integer),
    sa.column("active", sa.Boolean),
    sa.column("version", sa.Integer),
)
_versions = sa.table(
    "document_class_versions",
    sa.column("id", sa.Integer),
    sa.column("class_id", sa.Integer),
    sa.column("version", sa.Integer),
    sa.column("definition", sa.JSON),
    sa.column("reason", sa.Text),
    sa.column("created_at", sa.DateTime),
)
_documents = sa.table(
    "documents",
    sa.column("class_id", sa.Integer),
    sa.column("class_version_id", sa.Integer),
)


def upgrade() -> None:
    op.create_table(
        "document_class_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["document_classes.id"],
            name=op.f("fk_document_class_versions_class_id_document_classes"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_document_class_versions_created_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_class_versions")),
    )
    op.create_index(
        op.f("ix_document_class_versions_class_id"),
        "document_class_versions",
        ["class_id"],
        unique=False,
    )
    op.create_index(
        "uq_document_class_versions_class_version",
        "document_class_versions",
        ["class_id", "version"],
        unique=True,
    )
    op.add_column(
        "document_classes",
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
    )
    # A plain ADD COLUMN, also on SQLite (see 0007: rebuilding `documents` is refused).
    name = op.f("fk_documents_class_version_id_document_class_versions")
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE documents ADD COLUMN class_version_id INTEGER "
            f"CONSTRAINT {name} REFERENCES document_class_versions (id)"
        )
    else:
        op.add_column("documents", sa.Column("class_version_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            name, "documents", "document_class_versions", ["class_version_id"], ["id"]
        )
    _add_classes()
    _first_versions()


def _add_classes() -> None:
    bind = op.get_bind()
    existing = set(bind.scalars(sa.select(_classes.c.code)))
    if not existing:
        return  # a new instance: ``archive init`` seeds the whole catalogue
    for code, number_code, name_zh, name_en, rule, sort_order in _NEW_CLASSES:
        if code in existing:
            continue
        op.execute(
            _classes.insert().values(
                code=code,
                number_code=number_code,
                name_zh=name_zh,
                name_en=name_en,
                required_fields=[_PERIOD],
                retention_rule=rule,
                sort_order=sort_order,
                active=True,
                version=1,
            )
        )


def _first_versions() -> None:
    bind = op.get_bind()
    now = sa.func.now() if bind.dialect.name != "sqlite" else sa.text("CURRENT_TIMESTAMP")
    for row in bind.execute(sa.select(_classes)).mappings().all():
        definition = {
            "number_code": row["number_code"],
            "name_zh": row["name_zh"],
            "name_en": row["name_en"],
            "retention_rule": row["retention_rule"],
            "required_fields": list(row["required_fields"] or []),
            "active": bool(row["active"]),
        }
        bind.execute(
            _versions.insert().values(
                class_id=row["id"],
                version=1,
                definition=definition,
                reason="definition before versions",
                created_at=now,
            )
        )
        version_id = bind.scalar(
            sa.select(_versions.c.id).where(
                _versions.c.class_id == row["id"], _versions.c.version == 1
            )
        )
        bind.execute(
            _documents.update()
            .where(_documents.c.class_id == row["id"])
            .values(class_version_id=version_id)
        )


def downgrade() -> None:
    # The added classes stay (documents may be filed under them); their history goes.
    # On SQLite this rebuilds `documents`, as 0007's downgrade does: run it with foreign
    # keys off, since other tables' rows reference documents.
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("class_version_id")
    op.drop_index("uq_document_class_versions_class_version", table_name="document_class_versions")
    op.drop_index(op.f("ix_document_class_versions_class_id"), table_name="document_class_versions")
    op.drop_table("document_class_versions")
    if op.get_bind().dialect.name == "sqlite":
        # Not a batch rebuild: documents' rows reference document_classes.
        op.execute("ALTER TABLE document_classes DROP COLUMN version")
    else:
        op.drop_column("document_classes", "version")
