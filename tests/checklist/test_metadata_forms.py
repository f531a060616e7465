"""Metadata in the services: suggestions count only once accepted (one or all), a class
change keeps the shared fields and asks for the new ones, bad input is refused by a typed
error that names the field, and a foreign invoice passes the checklist on its own rules."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import select

from archive_app.app import create_app
from archive_app.domain.classes import INVOICE_FIELDS
from archive_app.errors import UnknownDocumentClass, ValidationFailed
from archive_app.infra import schema
from archive_app.infra.container import Container
from archive_app.models import Document, DocumentClass, User
from archive_app.services import checklist, documents
from archive_app.services.processing import process_document
from tests import documents as docs
from tests.app.helpers import login, post_form
from tests.checklist.conftest import CONTRACT_FIELDS
from tests.conftest import USER_PASSWORD


def _missing(container: Container, number: str) -> set[str]:
    with container.database.session() as session:
        document = session.scalars(select(Document).where(Document.number == number)).one()
        return {
            p.field for p in checklist.check_document(document) if p.code in ("missing", "title")
        }


def _document(container: Container, number: str) -> tuple[str, str, dict[str, str]]:
    with container.database.session() as session:
        document = session.scalars(select(Document).where(Document.number == number)).one()
        return document.document_class.code, document.title, dict(document.fields)


@pytest.fixture
def processed_invoice(container: Container, filer: User, ingest) -> str:
    """An invoice read by the real processing step: its reading suggests title and fields."""
    number = ingest(filer, class_code="invoice", lines=docs.INVOICE_LINES)
    with container.database.session() as session:
        document_id = session.scalars(select(Document.id).where(Document.number == number)).one()
    process_document(container, document_id)
    return number


def test_suggestions_are_missing_until_accepted_one_or_all(
    container: Container, filer: User, processed_invoice: str, cli
) -> None:
    number = processed_invoice
    # Processing saved nothing from the text: title and fields are suggestions only.
    assert _document(container, number) == ("invoice", "", {})
    with container.database.session() as session:
        document = session.scalars(select(Document).where(Document.number == number)).one()
        assert document.document_date is None and document.amount is None
        suggested = documents.read_reading(container, session, filer, number).suggestions
    assert suggested["fields"]["invoice_code"]["value"] == "3100212130"
    assert _missing(container, number) == {
        "title",
        "invoice_code",
        "invoice_number",
        "invoice_date",
        "amount",
        "tax",
    }

    accepted = cli("edit", number, "--accept", "invoice_code", "--as", "li.na")
    assert accepted.returncode == 0, accepted.stderr
    assert _document(container, number)[2] == {"invoice_code": "3100212130"}
    assert "invoice_code" not in _missing(container, number)
    assert "invoice_number" in _missing(container, number)

    with container.database.session() as session:
        documents.edit_document(
            session,
            filer,
            number,
            values={"tax": "1,380.53"},
            accept_suggestions=True,
            container=container,
        )
    _class, title, fields = _document(container, number)
    assert title == "增值税专用发票"
    assert fields["invoice_number"] == "08741295"
    assert fields["invoice_date"] == "2026-03-18"
    assert fields["tax"] == "1380.53"
    with container.database.session() as session:
        document = session.scalars(select(Document).where(Document.number == number)).one()
        assert str(document.document_date) == "2026-03-18"

    # A suggestion that is not there cannot be accepted; nothing changes.
    with container.database.session() as session, pytest.raises(ValidationFailed) as caught:
        documents.edit_document(session, filer, number, accept=["currency"], container=container)
    assert caught.value.problems == {"currency": "has no suggestion to accept"}


def test_class_change_keeps_shared_fields_and_asks_for_the_new_ones(
    container: Container, filer: User, ingest, make_ready
) -> None:
    number = ingest(filer)
    make_ready(number)  # a complete contract
    assert _missing(container, number) == set()
    with container.database.session() as session:
        # What a form sends: the contract's fields as shown, with the class changed.
        documents.edit_document(
            session,
            filer,
            number,
            class_code="invoice",
            values={**CONTRACT_FIELDS, "amount": "130,000"},
            drop_inapplicable=True,
        )
    code, _title, fields = _document(container, number)
    assert code == "invoice"
    assert fields == {"amount": "130000.00"}  # shared with the contract, as edited
    assert _missing(container, number) == {
        "invoice_code",
        "invoice_number",
        "invoice_date",
        "tax",
    }
    # Back to a contract: the amount is still there, the rest is asked for again.
    with container.database.session() as session:
        documents.edit_document(session, filer, number, class_code="contract")
    assert _document(container, number)[2] == {"amount": "130000.00"}
    assert "counterparty" in _missing(container, number)


def test_bad_input_is_a_typed_error_naming_the_field(
    container: Container, filer: User, ingest, make_ready
) -> None:
    number = ingest(filer)
    make_ready(number)
    with container.database.session() as session, pytest.raises(ValidationFailed) as caught:
        documents.edit_document(
            session, filer, number, class_code="invoice", values={"counterparty": "X"}
        )
    assert caught.value.http_status == 422
    assert caught.value.problems["counterparty"].startswith("is not a field of class invoice")
    with container.database.session() as session, pytest.raises(UnknownDocumentClass):
        documents.edit_document(session, filer, number, class_code="receipt")
    with container.database.session() as session, pytest.raises(ValidationFailed) as caught:
        documents.edit_document(
            session, filer, number, class_code="invoice", values={"invoice_code": "0000000000"}
        )
    assert "outside mainland China" in caught.value.problems["invoice_code"]
    assert _document(container, number)[0] == "contract"  # nothing changed


def test_a_foreign_invoice_passes_on_its_own_rules(
    container: Container, filer: User, ingest, make_ready
) -> None:
    number = ingest(filer, class_code="invoice")
    make_ready(number, title="Invoice INV-20417", fields={})
    domestic = _missing(container, number)
    assert {"invoice_code", "invoice_number", "tax"} <= domestic
    assert not {"issuer_abroad", "currency", "issuer_country"} & domestic

    with container.database.session() as session:
        # A form's unticked box sends "no": an unset flag, not a value.
        documents.edit_document(session, filer, number, values={"issuer_abroad": "no"})
    assert _document(container, number)[2] == {}

    foreign = {
        "issuer_abroad": "yes",
        "invoice_number": "INV-20417",
        "invoice_date": "2026-03-05",
        "issuer_country": "United Kingdom",
        "currency": "usd",
        "amount": "4,250.00",
    }
    with container.database.session() as session:
        # A CLI or API caller naming the Chinese code for a foreign invoice is refused...
        with pytest.raises(ValidationFailed) as caught:
            documents.edit_document(
                session, filer, number, values={**foreign, "invoice_code": "3100212130"}
            )
        assert caught.value.problems == {"invoice_code": "does not apply to this document"}
    with container.database.session() as session:
        documents.edit_document(session, filer, number, values=foreign)
    assert _missing(container, number) == set()
    assert _document(container, number)[2]["currency"] == "USD"
    with container.database.session() as session:
        checklist.submit(session, filer, number)

    # Without the flag the same invoice number is not a Chinese one.
    number = ingest(filer, class_code="invoice")
    make_ready(number, title="Invoice", fields={**foreign, "issuer_abroad": "no"})
    with container.database.session() as session:
        document = session.scalars(select(Document).where(Document.number == number)).one()
        problems = {p.field: p.code for p in checklist.check_document(document)}
    assert problems["invoice_number"] == "invalid"
    assert problems["invoice_code"] == "missing"


def test_migration_0014_gives_existing_instances_the_foreign_invoice_rules(
    container: Container,
) -> None:
    def invoice_fields() -> list[dict[str, object]]:
        with container.database.session() as session:
            return session.scalars(
                select(DocumentClass.required_fields).where(DocumentClass.code == "invoice")
            ).one()

    assert invoice_fields() == [spec.as_dict() for spec in INVOICE_FIELDS]
    with container.database.engine.begin() as connection:
        config = schema.alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0013_reminders")
    assert "issuer_abroad" not in {spec["name"] for spec in invoice_fields()}
    schema.upgrade(container.database.engine)
    assert invoice_fields() == [spec.as_dict() for spec in INVOICE_FIELDS]


def test_the_form_refuses_a_value_in_the_users_language_and_keeps_what_was_typed(
    instance_settings, container: Container, filer: User, ingest, make_ready
) -> None:
    number = ingest(filer, class_code="invoice")
    make_ready(number, title="发票", fields={})
    app = create_app(instance_settings, testing=True)
    try:
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
        assert login(client, "li.na", USER_PASSWORD).status_code == 302
        form = {
            "shown_class": "invoice",
            "class": "invoice",
            "title": "发票",
            "field:issuer_abroad": "no",
            "field:invoice_code": "0000000000",
            "field:invoice_number": "08741295",
        }
        response = post_form(client, f"/documents/{number}", form, page=f"/documents/{number}")
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "不是有效的发票代码；中国大陆境外开具的发票没有发票代码" in page
        assert 'value="08741295"' in page  # what was typed is still there
        # A form drawn for the invoice class, sent with the class changed: no refusal.
        form = {"shown_class": "invoice", "class": "contract", "field:invoice_number": "1"}
        response = post_form(client, f"/documents/{number}", form, page=f"/documents/{number}")
        assert response.status_code == 302
        assert "类别已改为合同" in client.get(f"/documents/{number}").get_data(as_text=True)
    finally:
        app.extensions["archive"].close()
    assert _document(container, number)[:2] == ("contract", "发票")
