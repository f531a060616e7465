"""Classes and fields as data: the service, the CLI (--json), the typed refusals, the
shipped catalogue and the versioning that keeps declared records valid."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from archive_app import errors
from archive_app.domain.fieldtypes import normalise
from archive_app.errors import PermissionDenied
from archive_app.infra.container import Container
from archive_app.models import AuditEntry, Document, DocumentClass, User
from archive_app.services import checklist, documents
from archive_app.services import classes as class_service
from archive_app.services.retention.schedule import current_rule_set, rules_by_class
from retention import default_rules
from tests.checklist.conftest import CONTRACT_FIELDS
from tests.migrations import downgraded


def test_every_shipped_rule_has_an_active_class_filed_under_it(
    container: Container, rules: None
) -> None:
    with container.database.session() as session:
        active = session.scalars(select(DocumentClass).where(DocumentClass.active.is_(True)))
        by_rule: dict[str, list[str]] = {}
        for found in active:
            by_rule.setdefault(found.retention_rule or "", []).append(found.code)
        mapped = rules_by_class(session, current_rule_set(session))
    for rule in default_rules().rules.values():
        assert by_rule.get(rule.code), f"no class for rule {rule.code}"
        # The engine decides each class under its rule (several classes share one).
        assert all(mapped[code].code == rule.code for code in by_rule[rule.code])
    assert set(by_rule["acc.ledger"]) == {
        "general_ledger",
        "subsidiary_ledger",
        "journal",
        "auxiliary_ledger",
    }
    assert set(by_rule["acc.register"]) == {
        "custody_register",
        "destruction_register",
        "appraisal_opinion",
    }


def test_admin_creates_edits_adds_fields_and_retires_with_audit(
    container: Container, admin: User, rules: None
) -> None:
    with container.database.session() as session:
        created = class_service.create_class(
            session,
            admin,
            code="service_agreement",
            name_zh="服务协议",
            name_en="Service agreement",
            number_code="fw",
            rule="policy.contract",
        )
        assert (created.number_code, created.version) == ("FW", 1)
        class_service.add_field(
            session,
            admin,
            "service_agreement",
            name="region",
            field_type="choice",
            required=True,
            choices=["华东", "华北", "华东"],
            label_zh="区域",
            label_en="Region",
        )
        class_service.add_field(
            session, admin, "service_agreement", name="party_tax_id", field_type="tax_id"
        )
        edited = class_service.edit_class(
            session, admin, "service_agreement", name_en="Service contract", number_code="FX"
        )
        assert edited.version == 4
        assert edited.required_fields[0] == {
            "name": "region",
            "type": "choice",
            "label_zh": "区域",
            "label_en": "Region",
            "choices": ["华东", "华北"],
        }
        assert edited.required_fields[1]["optional"] is True
        # An edit that changes nothing is no new version.
        assert class_service.edit_class(session, admin, "service_agreement", name_zh="服务协议")
        assert edited.version == 4
        class_service.retire_class(session, admin, "service_agreement", "merged into contract")
    with container.database.session() as session:
        actions = list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.object_id == "service_agreement")
                .order_by(AuditEntry.seq)
            )
        )
        assert actions == [
            "class.create",
            "class.field.add",
            "class.field.add",
            "class.edit",
            "class.retire",
        ]
        with pytest.raises(errors.ClassRetired):
            class_service.add_field(
                session, admin, "service_agreement", name="x", field_type="text"
            )
        listed = class_service.list_classes(session, admin, include_retired=False)
        assert "service_agreement" not in {found.code for found in listed}


def test_class_refusals_are_typed_and_carry_the_value(
    container: Container, admin: User, rules: None
) -> None:
    cases = [
        (dict(code="Bad Code", number_code="AB"), errors.InvalidClassCode, "Bad Code", 422),
        (dict(code="contract", number_code="AB"), errors.DuplicateClassCode, "contract", 409),
        (dict(code="fresh", number_code="HT"), errors.DuplicateNumberCode, "HT", 409),
        (dict(code="fresh", number_code="A1"), errors.InvalidNumberCode, "A1", 422),
        (
            dict(code="fresh", number_code="AB", rule="acc.nothing"),
            errors.UnknownRetentionRule,
            "acc.nothing",
            422,
        ),
    ]
    for call, error, value, status in cases:
        with container.database.session() as session, pytest.raises(error) as caught:
            class_service.create_class(session, admin, name_zh="新类别", name_en=None, **call)
        assert (caught.value.value, caught.value.http_status) == (value, status)


def test_field_refusals_are_typed(container: Container, admin: User) -> None:
    cases = [
        (dict(name="amount", field_type="money"), errors.DuplicateField),
        (dict(name="Region", field_type="text"), errors.InvalidFieldName),
        (dict(name="title", field_type="text"), errors.InvalidFieldName),
        (dict(name="region", field_type="colour"), errors.UnknownFieldType),
        (dict(name="region", field_type="choice", choices=["华东"]), errors.ChoicesMissing),
        (dict(name="region", field_type="text", choices=["a", "b"]), errors.ChoicesNotAllowed),
    ]
    for call, error in cases:
        with container.database.session() as session, pytest.raises(error):
            class_service.add_field(session, admin, "contract", **call)


def test_only_admins_manage_classes(container: Container, compliance: User, filer: User) -> None:
    for user in (compliance, filer):
        with container.database.session() as session, pytest.raises(PermissionDenied):
            class_service.create_class(
                session, user, code="fresh", name_zh="新", name_en=None, number_code="XN"
            )
        with container.database.session() as session, pytest.raises(PermissionDenied):
            class_service.add_field(session, user, "contract", name="x", field_type="text")
        with container.database.session() as session, pytest.raises(PermissionDenied):
            class_service.retire_class(session, user, "contract")


def test_tax_id_number_and_choice_values() -> None:
    assert normalise("tax_id", "914403001922038216") == "914403001922038216"
    with pytest.raises(ValueError, match="check character"):
        normalise("tax_id", "914403001922038217")
    with pytest.raises(ValueError, match="18-character"):
        normalise("tax_id", "91440300192203821I")
    assert normalise("number", "1,024.5") == "1024.5"
    assert normalise("choice", "华东", ("华东", "华北")) == "华东"
    with pytest.raises(ValueError, match="choices"):
        normalise("choice", "西南", ("华东", "华北"))


def test_a_class_change_never_invalidates_a_declared_record(
    container: Container,
    admin: User,
    filer: User,
    reviewer: User,
    compliance: User,
    ingest,
    make_ready,
) -> None:
    declared, draft = ingest(filer), ingest(filer)
    for number in (declared, draft):
        make_ready(number)
    with container.database.session() as session:
        checklist.submit(session, filer, declared)
        checklist.confirm(session, reviewer, declared)
        class_service.add_field(
            session, admin, "contract", name="project_code", field_type="text", required=True
        )

    def missing(number: str) -> set[str]:
        with container.database.session() as session:
            document = session.scalars(select(Document).where(Document.number == number)).one()
            return {problem.field for problem in checklist.check_document(document)}

    # The declared record is held to the definition it was declared under; a draft filed
    # under the old one is too, until it is edited.
    assert missing(declared) == set()
    assert missing(draft) == set()
    with container.database.session() as session:
        documents.edit_document(session, filer, draft, title="采购合同（修订）")
    assert missing(draft) == {"project_code"}
    # Amending the declared record keeps its version: the new field is no field of it.
    with container.database.session() as session:
        documents.edit_document(session, compliance, declared, values={"amount": "130000"})
        with pytest.raises(errors.ValidationFailed, match="project_code"):
            documents.edit_document(session, compliance, declared, values={"project_code": "P-1"})
    assert missing(declared) == set()
    with container.database.session() as session:
        document = session.scalars(select(Document).where(Document.number == declared)).one()
        assert document.class_definition is not None
        assert document.class_definition.version == 1
        assert document.document_class.version == 2


def test_cli_manages_classes_with_json(cli, rules: None, make_user) -> None:
    created = cli(
        "classes", "create", "--code", "lease", "--name", "租赁合同", "--name-en", "Lease",
        "--number-code", "ZP", "--rule", "policy.contract", "--json",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["number_code"] == "ZP"
    added = cli(
        "classes", "add-field", "lease", "--name", "tenant_tax_id", "--type", "tax_id",
        "--required", "--label", "承租方税号", "--label-en", "Tenant tax ID", "--json",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["fields"] == [
        {"name": "tenant_tax_id", "type": "tax_id", "required": True}
    ]
    choice = cli(
        "classes", "add-field", "lease", "--name", "floor", "--type", "choice",
        "--choices", "1F,2F", "--json",
    )  # fmt: skip
    assert json.loads(choice.stdout)["fields"][1]["choices"] == ["1F", "2F"]
    edited = cli("classes", "edit", "lease", "--name-en", "Lease agreement", "--json")
    assert json.loads(edited.stdout)["version"] == 4
    listed = json.loads(cli("classes", "list", "--json").stdout)
    assert {"lease", "general_ledger", "tax_return"} <= {row["code"] for row in listed}
    field_edited = cli(
        "classes", "edit-field", "lease", "floor", "--choices", "1F，2F,3F", "--required",
        "--label-en", "Storey", "--json",
    )  # fmt: skip
    assert field_edited.returncode == 0, field_edited.stderr
    shown = json.loads(field_edited.stdout)
    assert shown["version"] == 5
    assert shown["fields"][1] == {
        "name": "floor", "type": "choice", "required": True, "choices": ["1F", "2F", "3F"]
    }  # fmt: skip
    field_retired = cli("classes", "retire-field", "lease", "tenant_tax_id", "--json")
    assert json.loads(field_retired.stdout)["fields"][0]["retired"] is True
    again = cli("classes", "retire-field", "lease", "tenant_tax_id")
    assert again.returncode == 1
    assert "name: is a retired field" in again.stderr
    plain = cli("classes", "list")
    assert "tenant_tax_id (retired), floor" in plain.stdout
    retired = cli("classes", "retire", "lease", "--json")
    assert json.loads(retired.stdout)["active"] is False

    refused = cli("classes", "add-field", "contract", "--name", "grade", "--type", "colour")
    assert refused.returncode == 1
    assert "type: is not a field type; use one of: text, number" in refused.stderr
    duplicate = cli(
        "classes", "create", "--code", "lease2", "--name", "租赁", "--number-code", "HT"
    )
    assert duplicate.returncode == 1
    assert "number_code: is already used by class contract" in duplicate.stderr
    unknown = cli("classes", "create", "--code", "x2", "--name", "X", "--number-code", "XY",
                  "--rule", "nope")  # fmt: skip
    assert "rule: is not a retention rule" in unknown.stderr

    make_user("clerk", "archivist")
    denied = cli("classes", "retire", "contract", "--as", "clerk")
    assert denied.returncode != 0
    assert "may not create, edit or retire document classes" in denied.stderr


def test_migration_0019_versions_existing_classes_and_adds_the_missing_ones(
    container: Container, filer: User, ingest
) -> None:
    from archive_app.infra import schema

    number = ingest(filer)
    engine = container.database.engine
    with downgraded(engine, "0018_login_lockouts") as connection:
        # An instance from before the catalogue: no ledger classes.
        connection.execute(
            DocumentClass.__table__.delete().where(
                DocumentClass.__table__.c.code.in_(["journal", "general_ledger"])
            )
        )
    schema.upgrade(engine)
    with container.database.session() as session:
        codes = {found.code: found for found in session.scalars(select(DocumentClass))}
        assert {"journal", "general_ledger"} <= set(codes)
        assert codes["journal"].retention_rule == "acc.ledger"
        document = session.scalars(select(Document).where(Document.number == number)).one()
        assert document.class_definition is not None
        assert document.class_definition.version == 1
        assert document.field_specs == codes["contract"].required_fields


def test_fields_are_edited_and_retired_without_touching_declared_records(
    container: Container,
    admin: User,
    filer: User,
    reviewer: User,
    compliance: User,
    ingest,
    make_ready,
) -> None:
    declared, draft = ingest(filer), ingest(filer)
    for number in (declared, draft):
        make_ready(number)
    with container.database.session() as session:
        checklist.submit(session, filer, declared)
        checklist.confirm(session, reviewer, declared)
        class_service.add_field(
            session, admin, "contract", name="grade", field_type="choice", choices=["A", "B"]
        )
        documents.edit_document(session, filer, draft, values={"grade": "B"})

    def document(session, number: str) -> Document:
        return session.scalars(select(Document).where(Document.number == number)).one()

    def missing(number: str) -> set[str]:
        with container.database.session() as session:
            return {
                problem.field for problem in checklist.check_document(document(session, number))
            }

    with container.database.session() as session:
        # Labels and required change; name and type stay.
        edited = class_service.edit_field(
            session, admin, "contract", "grade", label_zh="等级", label_en="Grade", required=True
        )
        assert edited.required_fields[-1] == {
            "name": "grade",
            "type": "choice",
            "label_zh": "等级",
            "label_en": "Grade",
            "choices": ["A", "B"],
        }
        assert edited.version == 3
        # A choice a draft still holds cannot be removed; one nobody holds can.
        with pytest.raises(errors.ChoiceInUse) as caught:
            class_service.edit_field(session, admin, "contract", "grade", choices=["A", "C"])
        assert (caught.value.value, caught.value.documents, caught.value.http_status) == (
            "B",
            1,
            409,
        )
        class_service.edit_field(session, admin, "contract", "grade", choices=["B", "C"])
        # Retiring a required field the declared record was checked against.
        class_service.retire_field(session, admin, "contract", "contract_number", "not used")
    with container.database.session() as session:
        contract = class_service.get_class(session, "contract")
        assert contract.version == 5
        retired = next(s for s in contract.required_fields if s["name"] == "contract_number")
        assert retired["retired"] is True
        entries = list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.object_id == "contract", AuditEntry.action.like("class.field.%"))
                .order_by(AuditEntry.seq)
            )
        )
        assert [entry.action for entry in entries] == [
            "class.field.add",
            "class.field.edit",
            "class.field.edit",
            "class.field.retire",
        ]
        assert entries[1].before["version"] == 2 and entries[1].after["version"] == 3

    # The draft, once edited, is held to the new definition: the retired field is neither
    # asked for nor accepted, and the value it holds stays.
    with container.database.session() as session:
        documents.edit_document(session, filer, draft, title="采购合同（修订）")
    with container.database.session() as session:
        kept = document(session, draft)
        assert kept.class_version == 5
        assert kept.fields["contract_number"] == CONTRACT_FIELDS["contract_number"]
        with pytest.raises(errors.ValidationFailed, match="is a retired field"):
            documents.edit_document(session, filer, draft, values={"contract_number": "HT-9"})
        # Clearing it is a change to it too, refused the same way.
        with pytest.raises(errors.ValidationFailed, match="is a retired field"):
            documents.edit_document(session, filer, draft, values={"contract_number": ""})
    assert "contract_number" not in missing(draft)
    # The declared record keeps the definition it was declared under: the field is live in
    # it, and an amendment still checks it.
    with container.database.session() as session:
        record = document(session, declared)
        assert record.class_version == 1
        assert "contract_number" in {spec["name"] for spec in record.field_specs}
        documents.edit_document(session, compliance, declared, values={"contract_number": ""})
    assert missing(declared) == {"contract_number"}


def test_field_edit_and_retirement_refusals_are_typed(
    container: Container, admin: User, filer: User, rules: None
) -> None:
    with container.database.session() as session:
        with pytest.raises(errors.UnknownField) as unknown:
            class_service.edit_field(session, admin, "contract", "colour", label_zh="颜色")
        assert (unknown.value.value, unknown.value.http_status) == ("colour", 404)
        # A flag that decides whether other fields apply stays while they depend on it.
        with pytest.raises(errors.FieldGovernsOthers) as governs:
            class_service.retire_field(session, admin, "invoice", "issuer_abroad")
        assert set(governs.value.governed) == {
            "invoice_code",
            "invoice_number",
            "issuer_country",
            "currency",
            "tax",
        }
        with pytest.raises(errors.ChoicesNotAllowed):
            class_service.edit_field(session, admin, "contract", "amount", choices=["1", "2"])
        with pytest.raises(errors.ValidationFailed, match="label"):
            class_service.edit_field(session, admin, "contract", "amount", label_zh=" ")
        unchanged = class_service.edit_field(session, admin, "contract", "amount", required=True)
        assert unchanged.version == 1  # it was required already: no new version
        class_service.retire_field(session, admin, "contract", "amount")
        with pytest.raises(errors.FieldRetired):
            class_service.retire_field(session, admin, "contract", "amount")
        with pytest.raises(errors.FieldRetired):
            class_service.edit_field(session, admin, "contract", "amount", label_zh="金额")
        # The name stays taken: a new field cannot reuse it.
        with pytest.raises(errors.DuplicateField):
            class_service.add_field(session, admin, "contract", name="amount", field_type="text")
    for call in (
        lambda session: class_service.edit_field(session, filer, "contract", "amount"),
        lambda session: class_service.retire_field(session, filer, "contract", "sign_date"),
    ):
        with container.database.session() as session, pytest.raises(PermissionDenied):
            call(session)
