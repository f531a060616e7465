"""Class administration over real HTTP: create, add a field, refusals in the user's
language, edit, retire; nobody but an admin reaches the pages."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from archive_app.infra.container import Container
from archive_app.models import DocumentClass
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
