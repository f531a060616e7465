"""Clearance and the erasure restriction hold inside retention, as an attacker would try them.

One instance holds, at each confidentiality level, an archive with an expired voucher, an
empty archive under a named legal hold and an empty archive with an erasure request; a
destruction list holding the four vouchers was prepared by a secret-cleared compliance user.
Readers of every retention role at every clearance then read every retention page and the
CLI's listings (a record, hold or request above their clearance must not be named), and
try every retention action on what they may not see (refused; lists said by count).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from archive_app.errors import ClearanceInsufficient, NotFound, PermissionDenied
from archive_app.infra.container import Container
from archive_app.models import User
from archive_app.services import archives
from archive_app.services.archives import ArchiveInput
from archive_app.services.retention import batches, destruction, erasure, holds, planning
from tests.app.helpers import login, post_form
from tests.conftest import USER_PASSWORD
from tests.retention_app.conftest import add_document

pytestmark = pytest.mark.slow  # seconds per test: real processes, documents or servers

LEVELS = ("public", "internal", "confidential", "secret")
OLD = date(1990, 3, 5)
AS_OF = date(2026, 6, 1)


def _rank(level: str) -> int:
    return LEVELS.index(level)


@dataclass
class World:
    vouchers: dict[str, str]  # level -> document number
    voucher_archives: dict[str, str]  # level -> the voucher's archive number
    held_archives: dict[str, str]  # level -> archive number under hold-<level>
    erased_archives: dict[str, str]  # level -> archive number with an erasure request
    requests: dict[str, str]  # level -> erasure request number
    batch: str  # prepared by the secret compliance user, all four vouchers
    users: dict[str, User]


def _archive(container: Container, admin: User, name: str, level: str) -> str:
    with container.database.session() as session:
        return archives.create_archive(
            session,
            admin,
            ArchiveInput(name=name, level=level),
            number_pattern="KH-{seq:06d}",
            on_created=container.on_archive_created,
        ).number


@pytest.fixture
def world(container: Container, admin: User, make_user, tmp_path: Path) -> World:
    users = {}
    for level in LEVELS:
        for role in ("compliance", "auditor", "admin"):
            for n in (1, 2):
                if role != "compliance" and n == 2:
                    continue
                name = f"{role[:4]}-{level}-{n}"
                users[name] = make_user(name, role, level)
    users["comp-secret-3"] = make_user("comp-secret-3", "compliance", "secret")
    vouchers, voucher_archives, held, erased, requests = {}, {}, {}, {}, {}
    for level in LEVELS:
        number = voucher_archives[level] = _archive(container, admin, f"客户 {level}", level)
        vouchers[level] = add_document(
            container, admin, number, "voucher", tmp_path / level, document_date=OLD
        )
        held[level] = _archive(container, admin, f"冻结客户 {level}", level)
        erased[level] = _archive(container, admin, f"删除客户 {level}", level)
    with container.database.session() as session:
        for level in LEVELS:
            holds.create_hold(
                session,
                users["comp-secret-1"],
                f"hold-{level}",
                f"reason-{level}",
                archives=[held[level]],
            )
            request, _batch = erasure.request_erasure(
                session, users["comp-secret-1"], erased[level], required_approvals=2
            )
            requests[level] = request.number
        row, _ = batches.create(session, users["comp-secret-1"], AS_OF, required_approvals=2)
        batches.review(session, users["comp-secret-1"], row.number, None, "destroy")
        assert sorted(i.record_id for i in batches.load(session, row.number)[1].items) == sorted(
            vouchers.values()
        )
    return World(vouchers, voucher_archives, held, erased, requests, row.number, users)


def _readers() -> list[tuple[str, str]]:
    return [(f"{role}-{level}-1", level) for level in LEVELS for role in ("comp", "audi", "admi")]


def test_every_retention_page_and_listing_names_only_what_the_reader_may_see(
    world: World, client: FlaskClient, cli
) -> None:
    _pages_as_every_reader(world, client)
    _cli_listings_as_every_reader(world, cli)


def _pages_as_every_reader(world: World, client: FlaskClient) -> None:
    for username, clearance in _readers():
        client.delete_cookie("archive_session")
        assert login(client, username, USER_PASSWORD).status_code == 302, username
        pages = {
            "holds": client.get("/retention/holds"),
            "plan": client.get(f"/retention/plan?as_of={AS_OF.isoformat()}"),
            "batches": client.get("/retention/batches"),
            "batch": client.get(f"/retention/batches/{world.batch}"),
            "erasure": client.get("/retention/erasure"),
        }
        for name, response in pages.items():
            assert response.status_code == 200, (username, name)
        text = {name: response.get_data(as_text=True) for name, response in pages.items()}
        for level in LEVELS:
            visible = _rank(level) <= _rank(clearance)
            why = (username, level)
            assert (f"hold-{level}" in text["holds"]) is visible, why
            assert (f"reason-{level}" in text["holds"]) is visible, why
            assert (world.held_archives[level] in text["holds"]) is visible, why
            assert (world.vouchers[level] in text["plan"]) is visible, why
            assert (world.vouchers[level] in text["batch"]) is visible, why
            assert (world.requests[level] in text["erasure"]) is visible, why
            report = client.get(f"/retention/erasure/{world.requests[level]}")
            assert report.status_code == (200 if visible else 404), why
            assert (world.erased_archives[level] in report.get_data(as_text=True)) is visible
        hidden = 3 - _rank(clearance)
        assert ("clearance-note" in text["batch"]) is bool(hidden), username
        assert ("clearance-note" in text["holds"]) is bool(hidden), username
        # The list offers approval only to whoever may see every item on it.
        approve = f'action="/retention/batches/{world.batch}/approve"'
        if username.startswith("comp"):
            assert (approve in text["batch"]) is (hidden == 0), username


def _cli_listings_as_every_reader(world: World, cli) -> None:
    for username, clearance in _readers():
        plan = json.loads(
            _ok(cli("retention", "plan", "--as-of", AS_OF.isoformat(), "--json", "--as", username))
        )
        in_plan = {e["document"] for e in plan["eligible"] + plan["not_eligible"]}
        listed = json.loads(_ok(cli("hold", "list", "--json", "--as", username)))
        shown = json.loads(
            _ok(cli("retention", "batch", "show", world.batch, "--json", "--as", username))
        )
        for level in LEVELS:
            visible = _rank(level) <= _rank(clearance)
            assert (world.vouchers[level] in in_plan) is visible, (username, level)
            assert (f"hold-{level}" in {h["name"] for h in listed}) is visible
            assert (world.vouchers[level] in {i["document"] for i in shown["items"]}) is visible
        assert shown["hidden_items"] == 3 - _rank(clearance)
        assert plan["hidden"] >= 3 - _rank(clearance)
        report = cli("retention", "erasure", "report", world.requests["secret"], "--as", username)
        assert report.returncode == (0 if clearance == "secret" else 1), username
        if clearance != "secret":
            assert "not found" in report.stderr and world.erased_archives["secret"] not in (
                report.stdout + report.stderr
            )


def _ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_actions_beyond_clearance_are_refused_in_the_services_and_the_web(
    container: Container, world: World, client: FlaskClient
) -> None:
    _refused_in_the_services(container, world)
    _refused_by_count_on_the_web(container, world, client)


def _refused_in_the_services(container: Container, world: World) -> None:
    users = world.users
    low = users["comp-public-1"]
    with container.database.session() as session:
        # A list prepared by a public-cleared user holds only the public voucher.
        mine, batch = batches.create(session, low, AS_OF, required_approvals=2)
        assert [item.record_id for item in batch.items] == [world.vouchers["public"]]
        batches.cancel(session, low, mine.number, "prepared in a test")
    for username, hidden in (("comp-public-1", 3), ("comp-confidential-1", 1)):
        with container.database.session() as session:
            with pytest.raises(ClearanceInsufficient) as refused:
                batches.approve(session, users[username], world.batch)
            assert refused.value.hidden == hidden
            assert all(v not in str(refused.value) for v in world.vouchers.values())
            with pytest.raises(ClearanceInsufficient):
                batches.cancel(session, users[username], world.batch, "not mine to cancel")
            with pytest.raises(NotFound):
                batches.review(
                    session, users[username], world.batch, [world.vouchers["secret"]], "extend"
                )
    with container.database.session() as session:
        for what in (
            lambda: holds.create_hold(
                session, low, "peek", "try", archives=[world.held_archives["secret"]]
            ),
            lambda: holds.create_hold(
                session, low, "peek", "try", documents=[world.vouchers["secret"]]
            ),
            lambda: holds.release_hold(session, low, "hold-secret", "try"),
            lambda: holds.flag_unsettled_claim(session, low, world.vouchers["secret"], "try"),
            lambda: erasure.request_erasure(
                session, low, world.erased_archives["secret"], required_approvals=2
            ),
            lambda: erasure.erasure_report(session, low, world.requests["secret"]),
        ):
            with pytest.raises(NotFound):
                what()
            session.rollback()
        # An admin may not take erasure requests: what they touch is restricted to compliance.
        with pytest.raises(PermissionDenied):
            erasure.request_erasure(
                session,
                users["admi-secret-1"],
                world.voucher_archives["public"],
                required_approvals=2,
            )
    with container.database.session() as session:
        batches.approve(session, users["comp-secret-2"], world.batch)
        batches.approve(session, users["comp-secret-3"], world.batch)
    for username in ("admi-public-1", "admi-confidential-1", "comp-internal-2"):
        with container.database.session() as session:
            with pytest.raises(ClearanceInsufficient):
                destruction.run_batch(container, session, users[username], world.batch)
            with pytest.raises(ClearanceInsufficient):
                destruction.run_batch(
                    container, session, users[username], world.batch, dry_run=True
                )


def _refused_by_count_on_the_web(container: Container, world: World, client: FlaskClient) -> None:
    """The approved list is executed from the web by whoever may see all of it; its
    certificate is then shown only to readers who may see every record on it."""
    page = f"/retention/batches/{world.batch}"
    assert login(client, "admi-internal-1", USER_PASSWORD).status_code == 302
    refused = post_form(client, f"{page}/run", {}, page=page)
    assert refused.status_code == 302
    after = client.get(page).get_data(as_text=True)
    assert "其中 2 份档案超出您的密级或已限制访问" in after  # the page is in Chinese
    client.delete_cookie("archive_session")
    assert login(client, "admi-secret-1", USER_PASSWORD).status_code == 302
    assert post_form(client, f"{page}/run", {}, page=page).status_code == 302
    assert client.get(f"{page}/certificate").status_code == 200
    for username, expected in (("comp-confidential-1", 403), ("audi-secret-1", 200)):
        client.delete_cookie("archive_session")
        assert login(client, username, USER_PASSWORD).status_code == 302
        for suffix in ("", "?format=json", "?format=pdf"):
            response = client.get(f"{page}/certificate{suffix}")
            assert response.status_code == expected, (username, suffix)
            if expected == 403:
                assert world.vouchers["secret"] not in response.get_data(as_text=True)
    client.delete_cookie("archive_session")
    assert login(client, "comp-public-1", USER_PASSWORD).status_code == 302
    erased = post_form(
        client,
        "/retention/erasure",
        {"archive": world.erased_archives["secret"]},
        page="/retention/erasure",
    )
    assert erased.status_code == 302
    # Said in the page's language (Chinese): as missing as a number that does not exist.
    assert "此名称或编号不存在" in client.get("/retention/erasure").get_data(as_text=True)


def test_restricted_records_are_left_out_for_everyone_but_compliance(
    container: Container, admin: User, make_user, tmp_path: Path
) -> None:
    archive = _archive(container, admin, "张三", "internal")
    contract = add_document(
        container, admin, archive, "contract", tmp_path / "r", document_date=date(2020, 1, 1)
    )
    users = {
        "comp-internal-1": make_user("comp-internal-1", "compliance", "internal"),
        "admi-secret-1": make_user("admi-secret-1", "admin", "secret"),
        "audi-secret-1": make_user("audi-secret-1", "auditor", "secret"),
    }
    with container.database.session() as session:
        erasure.request_erasure(session, users["comp-internal-1"], archive, required_approvals=2)
    with container.database.session() as session:
        for username, sees in (
            ("comp-internal-1", True),
            ("admi-secret-1", False),
            ("audi-secret-1", False),
        ):
            report = planning.make_plan(session, users[username], AS_OF)
            assert (contract in report.rows) is sees, username
