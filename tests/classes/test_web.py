"""Class administration over real HTTP: create, add a field, refusals in the user's
language, edit, retire, a field's edit and retirement and what the document page then
shows; nobody but an admin reaches the pages."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from archive_app.infra.container import Container
from archive_app.models import DocumentClass, User
from archive_app.services import checklist, documents
from archive_app.services import classes as class_service
from tests.app.helpers import login, post_form
from tests.conftest import USER_PASSWORD


def test_admin_manages_classes_in_chinese(
    admin_client: FlaskClient, container: Container, rules: None, make_user, app
) -> None:
    client = admin_client
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    page = "/admin/classes/"
    listed = client.get(page).get_data(as_text=True)
    assert "文件类别" in listed and "银行存款余额调节表" in listed

    refused = post_form(
        client, page, {"code": "Lease!", "name_zh": "租赁合同", "number_code": "HT"}, page
    )
    assert refused.status_code == 422
    assert "应为2至32个小写字母、数字或下划线，以字母开头" in refused.get_data(as_text=True)
    refused = post_form(
        client, page, {"code": "lease", "name_zh": "租赁合同", "number_code": "HT"}, page
    )
    assert refused.status_code == 422 or refused.status_code == 409
    assert "已被类别 contract 使用" in refused.get_data(as_text=True)

    created = post_form(
        client,
        page,
        {"code": "lease", "name_zh": "租赁合同", "name_en": "Lease", "number_code": "zp",
         "rule": "policy.contract"},
        page,
    )  # fmt: skip
    assert created.status_code == 302 and created.location.endswith("/admin/classes/lease")
    detail = "/admin/classes/lease"
    no_choices = post_form(
        client,
        f"{detail}/fields",
        {"field_name": "floor", "field_type": "choice", "choices": "1F"},
        detail,
    )
    assert "选项字段至少需要两个可选值" in no_choices.get_data(as_text=True)
    added = post_form(
        client,
        f"{detail}/fields",
        {"field_name": "floor", "field_type": "choice", "choices": "1F，2F", "label_zh": "楼层",
         "label_en": "Floor", "required": "y"},
        detail,
    )  # fmt: skip
    assert added.status_code == 302
    shown = client.get(detail).get_data(as_text=True)
    assert "楼层" in shown and "1F, 2F" in shown and "第2版" in shown
    edited = post_form(
        client,
        detail,
        {"name_zh": "租赁合同", "name_en": "Lease agreement", "number_code": "ZP",
         "rule": "policy.contract"},
        detail,
    )  # fmt: skip
    assert edited.status_code == 302
    retired = post_form(client, f"{detail}/retire", {"reason": "不再使用"}, detail)
    assert retired.status_code == 302
    with container.database.session() as session:
        lease = session.scalars(select(DocumentClass).where(DocumentClass.code == "lease")).one()
        assert (lease.name_en, lease.active, lease.version) == ("Lease agreement", False, 4)

    make_user("clerk", "archivist")
    other = app.test_client()
    assert login(other, "clerk", USER_PASSWORD).status_code == 302
    assert other.get(page).status_code == 403
    assert post_form(other, f"{detail}/fields", {"field_name": "x"}, "/archives").status_code == 403


def test_admin_edits_and_retires_a_field_and_the_document_page_follows(
    admin_client: FlaskClient,
    container: Container,
    rules: None,
    filer,
    reviewer,
    ingest,
    make_ready,
    app,
) -> None:
    client = admin_client
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    declared, draft = ingest(filer), ingest(filer)
    for number in (declared, draft):
        make_ready(number)
    with container.database.session() as session:
        checklist.submit(session, filer, declared)
        checklist.confirm(session, reviewer, declared)
        admin = session.scalars(select(User).where(User.username == "admin")).one()
        class_service.add_field(
            session, admin, "contract", name="grade", field_type="choice", choices=["A", "B"]
        )
        documents.edit_document(session, filer, draft, values={"grade": "B"})

    detail = "/admin/classes/contract"
    shown = client.get(detail).get_data(as_text=True)
    assert 'action="/admin/classes/contract/fields/grade"' in shown
    # Removing a choice a draft holds is refused, in Chinese, with the field's form open.
    refused = post_form(
        client,
        f"{detail}/fields/grade",
        {"label_zh": "等级", "label_en": "Grade", "choices": "A，C"},
        detail,
    )
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "B 仍是 1 份尚未声明归档的文件的值" in page
    assert 'class="collapse show field-edit" id="edit-field-grade"' in page
    missing_label = post_form(
        client, f"{detail}/fields/grade", {"label_zh": "", "label_en": "Grade"}, detail
    )
    assert missing_label.status_code == 422 and "未填写" in missing_label.get_data(as_text=True)
    saved = post_form(
        client,
        f"{detail}/fields/grade",
        {"label_zh": "等级", "label_en": "Grade", "choices": "A, B, C", "required": "y"},
        detail,
    )
    assert saved.status_code == 302
    retired = post_form(client, f"{detail}/fields/contract_number/retire", {}, detail)
    assert retired.status_code == 302
    with container.database.session() as session:
        contract = session.scalars(
            select(DocumentClass).where(DocumentClass.code == "contract")
        ).one()
        grade = contract.required_fields[-1]
        assert (grade["label_zh"], grade["choices"], "optional" in grade) == (
            "等级",
            ["A", "B", "C"],
            False,
        )
        assert contract.version == 4
    shown = client.get(detail).get_data(as_text=True)
    assert 'data-field="contract_number" class="text-body-secondary retired-field"' in shown
    assert "已停用" in shown

    # The declared record is held to the version it was declared under, and says so.
    record = client.get(f"/documents/{declared}").get_data(as_text=True)
    assert "所依据的类别定义为第1版，即声明归档时的版本（该类别现为第4版）" in record
    assert 'id="field-contract_number"' in record
    # The draft shows the definition it was last saved under until it is saved again.
    page = client.get(f"/documents/{draft}").get_data(as_text=True)
    assert "保存后将改用当前的第4版" in page
    saved_draft = post_form(
        client,
        f"/documents/{draft}",
        {"class": "contract", "title": "采购合同", "field:grade": "B"},
        f"/documents/{draft}",
    )
    assert saved_draft.status_code == 302, saved_draft.get_data(as_text=True)
    page = client.get(f"/documents/{draft}").get_data(as_text=True)
    assert "所依据的类别定义为第4版（即当前版本）" in page
    assert 'id="field-contract_number"' not in page
    assert "已停用的字段" in page and "HT-2026-0315" in page
    # The reviewer sees the fields of the definition the record is held to.
    with container.database.session() as session:
        checklist.submit(session, filer, draft)
    desk = app.test_client()
    assert login(desk, "wang.fang", USER_PASSWORD).status_code == 302
    review = desk.get(f"/review/{draft}").get_data(as_text=True)
    assert 'data-field="grade"' in review and 'data-field="contract_number"' not in review
