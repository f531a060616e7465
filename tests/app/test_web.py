"""The web UI through real HTTP: login, CSRF, roles and the 403 page, archives, users,
language choice and cookie flags."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select

from archive_app.infra.db import Database
from archive_app.models import AuditEntry, CustomerArchive
from tests.app.helpers import csrf_token, login, post_form
from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD


def test_pages_require_login(client: FlaskClient) -> None:
    response = client.get("/archives")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_login_and_logout(client: FlaskClient, database: Database) -> None:
    response = login(client, "admin", ADMIN_PASSWORD)
    assert response.status_code == 302
    assert client.get("/archives").status_code == 200
    response = post_form(client, "/logout", {})
    assert response.status_code == 302
    assert client.get("/archives").status_code == 302
    with database.session() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert "user.login" in actions
    assert "user.logout" in actions


def test_wrong_password_is_refused_and_audited(client: FlaskClient, database: Database) -> None:
    response = login(client, "admin", "not-the-password")
    assert response.status_code == 401
    assert "Wrong user name or password" in response.get_data(
        as_text=True
    ) or "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/archives").status_code == 302
    with database.session() as session:
        failed = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.login_failed")
        ).all()
    assert [entry.object_id for entry in failed] == ["admin"]


def test_login_refuses_off_site_redirects(client: FlaskClient) -> None:
    token = csrf_token(client)
    response = client.post(
        "/login?next=//evil.example/x",
        data={"username": "admin", "password": ADMIN_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


def test_forms_without_csrf_token_are_rejected(
    admin_client: FlaskClient, database: Database
) -> None:
    response = admin_client.post(
        "/archives/new", data={"name": "No token", "customer_type": "company", "level": "internal"}
    )
    assert response.status_code == 400
    with database.session() as session:
        assert session.scalars(select(CustomerArchive)).all() == []


def test_session_cookie_flags(client: FlaskClient) -> None:
    response = login(client, "admin", ADMIN_PASSWORD)
    cookie = next(
        value
        for value in response.headers.getlist("Set-Cookie")
        if value.startswith("archive_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_create_edit_and_view_an_archive(admin_client: FlaskClient, database: Database) -> None:
    response = post_form(
        admin_client,
        "/archives/new",
        {
            "name": "深圳前海微众银行股份有限公司",
            "customer_type": "company",
            "level": "confidential",
            "contact": "张三 13800000000",
            "address": "深圳市南山区",
            "business_unit": "对公业务部",
            "tax_id": "91440300319494375y",
            "notes": "",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/archives/KH-000001"
    page = admin_client.get("/archives/KH-000001").get_data(as_text=True)
    assert "深圳前海微众银行股份有限公司" in page
    assert "91440300319494375Y" in page  # normalised to upper case
    assert "对公业务部" in page

    response = post_form(
        admin_client,
        "/archives/KH-000001/edit",
        {
            "name": "微众银行",
            "customer_type": "company",
            "level": "confidential",
            "notes": "简称",
            "contact": "",
        },
    )
    assert response.status_code == 302
    with database.session() as session:
        archive = session.scalars(select(CustomerArchive)).one()
        assert archive.name == "微众银行"
        assert archive.contact == ""
        update = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "archive.update")
        ).one()
        assert update.before["name"] == "深圳前海微众银行股份有限公司"
        assert update.after["name"] == "微众银行"
        views = session.scalars(select(AuditEntry).where(AuditEntry.action == "archive.view")).all()
        assert len(views) >= 2


def test_invalid_archive_input_shows_what_to_fix(
    admin_client: FlaskClient, database: Database
) -> None:
    response = post_form(
        admin_client,
        "/archives/new",
        {
            "name": "Bad tax id Ltd",
            "customer_type": "company",
            "level": "internal",
            "tax_id": "12-34",
        },
    )
    assert response.status_code == 422
    assert "is not an 18-character unified social credit code" in response.get_data(as_text=True)
    with database.session() as session:
        assert session.scalars(select(CustomerArchive)).all() == []


def test_list_filters_as_you_type_and_quick_find(admin_client: FlaskClient) -> None:
    for name in ("阿里巴巴（中国）有限公司", "腾讯科技（深圳）有限公司", "Acme Trading Ltd"):
        post_form(
            admin_client,
            "/archives/new",
            {"name": name, "customer_type": "company", "level": "internal"},
        )
    partial = admin_client.get("/archives?q=腾讯", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert "腾讯科技" in partial
    assert "阿里巴巴" not in partial
    assert "<html" not in partial  # only the rows are returned for htmx
    by_number = admin_client.get("/archives?q=000003").get_data(as_text=True)
    assert "Acme Trading Ltd" in by_number
    assert "腾讯" not in by_number
    quick = admin_client.get("/archives/quick-find?q=acme").get_data(as_text=True)
    assert "KH-000003" in quick
    sorted_page = admin_client.get("/archives?sort=name&dir=desc").get_data(as_text=True)
    assert sorted_page.index("腾讯") < sorted_page.index("Acme")


def test_staff_cannot_create_archives_or_manage_users(client: FlaskClient, make_user) -> None:
    make_user("lisi", "staff")
    assert login(client, "lisi", USER_PASSWORD).status_code == 302
    response = client.get("/admin/users/")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "403" in page
    assert "administrator" in page or "管理员" in page
    assert client.get("/archives/new").status_code == 403


def test_archives_above_clearance_are_invisible(
    admin_client: FlaskClient, client: FlaskClient, app, make_user
) -> None:
    post_form(
        admin_client,
        "/archives/new",
        {"name": "Open Co", "customer_type": "company", "level": "internal"},
    )
    post_form(
        admin_client,
        "/archives/new",
        {"name": "Hidden Co", "customer_type": "company", "level": "secret"},
    )
    make_user("wangwu", "staff")  # staff default clearance: internal
    other = app.test_client()
    assert login(other, "wangwu", USER_PASSWORD).status_code == 302
    listing = other.get("/archives").get_data(as_text=True)
    assert "Open Co" in listing
    assert "Hidden Co" not in listing
    assert other.get("/archives/KH-000002").status_code == 404


def test_admin_creates_and_updates_users(admin_client: FlaskClient, database: Database) -> None:
    response = post_form(
        admin_client,
        "/admin/users/",
        {
            "username": "zhaoliu",
            "display_name": "赵六",
            "role": "archivist",
            "clearance": "",
            "password": "long-enough-pw",
        },
        page="/admin/users/",
    )
    assert response.status_code == 302
    page = admin_client.get("/admin/users/").get_data(as_text=True)
    assert "zhaoliu" in page
    response = post_form(
        admin_client,
        "/admin/users/zhaoliu",
        {"role": "compliance", "clearance": "secret"},
        page="/admin/users/",
    )
    assert response.status_code == 302
    with database.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.update")).one()
        assert entry.before == {"role": "archivist", "clearance": "confidential", "active": True}
        assert entry.after == {"role": "compliance", "clearance": "secret", "active": False}
    short = post_form(
        admin_client,
        "/admin/users/",
        {"username": "x1", "role": "staff", "clearance": "", "password": "short"},
        page="/admin/users/",
    )
    assert short.status_code == 422
    assert "密码至少需要 10 个字符" in short.get_data(as_text=True)  # the default language


def test_language_follows_browser_then_user_choice(client: FlaskClient) -> None:
    english = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(
        as_text=True
    )
    assert "Log in" in english
    chinese = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(
        as_text=True
    )
    assert "登录" in chinese
    login(client, "admin", ADMIN_PASSWORD)
    post_form(client, "/language/en", {"next": "/archives"})
    page = client.get("/archives", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Customer archives" in page
    post_form(client, "/language/zh_CN", {"next": "/archives"})
    page = client.get("/archives", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "客户档案" in page
    assert re.search(r'<html lang="zh-CN"', page)


def test_unknown_archive_gives_404_page(admin_client: FlaskClient) -> None:
    response = admin_client.get("/archives/KH-999999")
    assert response.status_code == 404
    assert "KH-999999" in response.get_data(as_text=True)


def test_json_errors_for_api_clients(admin_client: FlaskClient) -> None:
    response = admin_client.get("/archives/KH-999999", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json() == {"error": "not_found", "message": "archive 'KH-999999' not found"}
