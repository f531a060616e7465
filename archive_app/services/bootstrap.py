"""Seeding an empty database: document classes, counters, the audit chain head and the
built-in ``admin`` user. Every step is idempotent, so ``archive init`` is safe to rerun."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_app.domain.classes import DEFAULT_CLASSES
from archive_app.domain.numbering import ARCHIVE_SEQUENCE
from archive_app.errors import UnknownDocumentClass
from archive_app.models import AuditHead, DocumentClass, NumberSequence, User
from archive_app.models.audit import GENESIS_HASH
from archive_app.models.user import Role
from archive_app.services import audit
from archive_app.services.class_definitions import record_version
from archive_app.services.users import create_user

ADMIN_USERNAME = "admin"


def seed_chain_and_counters(session: Session) -> None:
    if session.get(AuditHead, 1) is None:
        session.add(AuditHead(id=1, last_seq=0, last_hash=GENESIS_HASH))
    if session.get(NumberSequence, ARCHIVE_SEQUENCE) is None:
        session.add(NumberSequence(name=ARCHIVE_SEQUENCE, last_value=0))
    session.flush()


def seed_document_classes(session: Session) -> list[str]:
    """Add the default classes that are missing; returns the codes added."""
    existing = set(session.scalars(select(DocumentClass.code)))
    added: list[str] = []
    for spec in DEFAULT_CLASSES:
        if spec.code in existing:
            continue
        document_class = DocumentClass(
            code=spec.code,
            number_code=spec.number_code,
            name_zh=spec.name_zh,
            name_en=spec.name_en,
            required_fields=[field.as_dict() for field in spec.fields],
            retention_rule=spec.retention_rule,
            sort_order=spec.sort_order,
            active=True,
            version=1,
        )
        session.add(document_class)
        session.flush()
        record_version(session, document_class, None, "shipped default")
        added.append(spec.code)
    if added:
        audit.record(
            session, None, "class.seed", "document_class", "defaults", after={"added": added}
        )
    return added


def seed_retention_rules(session: Session) -> list[str]:
    """Add the shipped retention rules that are missing; returns the rule codes added."""
    from archive_app.services.retention.schedule import seed_rules

    return seed_rules(session)


def ensure_admin(session: Session, password: str, *, must_change: bool = False) -> User | None:
    """Create ``admin`` if it does not exist yet; returns it only when it was created.
    ``must_change``: the password was generated (and printed), so the admin must choose
    their own at the first login."""
    if session.scalar(select(User).where(User.username == ADMIN_USERNAME)) is not None:
        return None
    admin = create_user(
        session,
        None,
        username=ADMIN_USERNAME,
        role=Role.ADMIN.value,
        password=password,
        display_name="Administrator",
    )
    admin.must_change_password = must_change
    return admin


def get_admin(session: Session) -> User | None:
    return session.scalar(select(User).where(User.username == ADMIN_USERNAME))


def list_classes(session: Session) -> list[DocumentClass]:
    return list(
        session.scalars(
            select(DocumentClass)
            .where(DocumentClass.active.is_(True))
            .order_by(DocumentClass.sort_order)
        )
    )


def class_names(session: Session) -> dict[str, tuple[str, str]]:
    """Every class's code → (Chinese name, English name), retired ones included (their
    documents still name them)."""
    rows = session.execute(select(DocumentClass.code, DocumentClass.name_zh, DocumentClass.name_en))
    return {code: (name_zh, name_en) for code, name_zh, name_en in rows}


def active_class(session: Session, code: str) -> DocumentClass:
    """The active class ``code``, or :class:`UnknownDocumentClass` listing the valid codes."""
    found = session.scalar(
        select(DocumentClass).where(DocumentClass.code == code, DocumentClass.active.is_(True))
    )
    if found is None:
        known = ", ".join(c.code for c in list_classes(session))
        raise UnknownDocumentClass(code, known)
    return found
