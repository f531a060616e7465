"""Tags, notes, bulk edit and saved searches, on SQLite and PostgreSQL: through the
services and the command line, against real documents (intake, processing, the index)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive_app.errors import NotFound, PermissionDenied, ValidationFailed
from archive_app.infra.container import Container
from archive_app.models import AuditEntry, Document, User
from archive_app.search import queries as search_service
from archive_app.search.queries import SearchParams
from archive_app.services import archives, bulk_edit, notes, saved_searches, tags
from archive_app.services.archives import ArchiveInput
from tests.app.helpers import csrf_token
from tests.retention_app.conftest import add_document, declare, make_archive


@pytest.fixture
def filed(container: Container, admin: User, tmp_path: Path) -> dict[str, str]:
    """Two undeclared contracts and a declared one in an internal archive, and a contract
    in a secret archive."""
    archive = make_archive(container, admin)
    numbers = {
        key: add_document(
            container,
            admin,
            archive,
            "contract",
            tmp_path / key,
            document_date=date(2026, 3, 1),
            declared=False,
        )
        for key in ("a", "b", "declared")
    }
    with container.database.session() as session:
        row = session.scalar(select(Document).where(Document.number == numbers["declared"]))
        declare(row, admin)
        secret = archives.create_archive(
            session,
            admin,
            ArchiveInput(name="保密客户", level="secret"),
            number_pattern="KH-{seq:06d}",
            on_created=container.on_archive_created,
        ).number
    numbers["secret"] = add_document(
        container,
        admin,
        secret,
        "contract",
        tmp_path / "secret",
        document_date=date(2026, 3, 1),
        declared=False,
    )
    return numbers


def _found(container: Container, actor: User, **raw: object) -> list[str]:
    with container.database.session() as session:
        outcome = search_service.search(
            container, session, actor, SearchParams.parse({"per_page": "100", **raw})
        )
    return sorted(hit.document for hit in outcome.hits)


def _entries(container: Container, action: str) -> list[AuditEntry]:
    with container.database.session() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
            )
        )


def test_tags_are_audited_and_filter_the_search(
    container: Container, filed: dict[str, str], make_user
) -> None:
    arch = make_user("li", "archivist", "internal")
    staff = make_user("zhao", "staff", "internal")
    with container.database.session() as session:
        after = tags.tag_document(session, arch, filed["a"], add=[" 待补  资料 ", "urgent"])
        tags.tag_document(session, arch, filed["declared"], add=["urgent"])
    assert after == ["urgent", "待补 资料"]
    [first, _second] = _entries(container, "document.tag")
    assert (first.object_id, first.before, first.after) == (
        filed["a"],
        {"tags": []},
        {"tags": ["urgent", "待补 资料"]},
    )
    assert _found(container, staff, tags=["urgent"]) == sorted([filed["a"], filed["declared"]])
    assert _found(container, staff, tags="urgent,待补 资料") == [filed["a"]]
    with container.database.session() as session:
        tags.tag_document(session, arch, filed["a"], remove=["urgent"])
        assert tags.tags_in_use(session, staff) == [("urgent", 1), ("待补 资料", 1)]
    assert _found(container, staff, tags=["urgent"]) == [filed["declared"]]
    with container.database.session() as session, pytest.raises(PermissionDenied):
        tags.tag_document(session, staff, filed["b"], add=["mine"])
    with container.database.session() as session, pytest.raises(ValidationFailed) as bad:
        tags.tag_document(session, arch, filed["b"], add=["a,b"])
    assert "comma" in bad.value.problems["tag"]
    with container.database.session() as session, pytest.raises(NotFound):
        tags.tag_document(session, arch, filed["secret"], add=["x"])


def test_notes_name_their_author_and_are_audited(
    container: Container, filed: dict[str, str], make_user, cli
) -> None:
    arch = make_user("li", "archivist", "internal")
    staff = make_user("zhao", "staff", "internal")
    with container.database.session() as session:
        notes.add_note(session, arch, filed["a"], "原件在财务室，待移交")
    result = cli("notes", "add", filed["a"], "Checked against the ledger", "--as", "li")
    assert result.returncode == 0, result.stderr
    listed = cli("notes", "list", filed["a"], "--as", "zhao", "--json")
    found = json.loads(listed.stdout)
    assert [(n["author"], n["text"]) for n in found] == [
        ("li", "原件在财务室，待移交"),
        ("li", "Checked against the ledger"),
    ]
    assert all(n["at"] for n in found)
    audited = _entries(container, "document.note")
    assert [(e.actor_name, e.object_id, e.after["text"]) for e in audited] == [
        ("li", filed["a"], "原件在财务室，待移交"),
        ("li", filed["a"], "Checked against the ledger"),
    ]
    with container.database.session() as session, pytest.raises(PermissionDenied):
        notes.add_note(session, staff, filed["a"], "hello")
    with container.database.session() as session, pytest.raises(ValidationFailed):
        notes.add_note(session, arch, filed["a"], "   ")
    refused = cli("notes", "add", filed["secret"], "x", "--as", "li")
    assert refused.returncode == 1 and "not found" in refused.stderr


def test_bulk_edit_one_entry_per_record_and_refusals_change_nothing(
    container: Container, filed: dict[str, str], make_user, cli
) -> None:
    make_user("li", "archivist", "internal")
    selection = [
        filed["a"],
        filed["b"],
        filed["declared"],
        filed["secret"],
        "KH-999999-HT-2026-0001",
    ]
    result = cli(
        "bulk-edit",
        *selection,
        "--set",
        "counterparty=上海明远",
        "--add-tag",
        "2026 审计",
        "--as",
        "li",
        "--json",
    )
    assert result.returncode == 1
    outcome = json.loads(result.stdout)
    assert outcome["changed"] == [filed["a"], filed["b"]]
    assert sorted(outcome["refused"]) == sorted(selection[2:])
    assert "change the metadata of a declared record" in outcome["refused"][filed["declared"]]
    assert "refused " + filed["declared"] in result.stderr
    entries = _entries(container, "document.bulk_edit")
    assert sorted(e.object_id for e in entries) == sorted(selection)
    by_number = {e.object_id: e for e in entries}
    assert by_number[filed["a"]].outcome == "ok"
    assert by_number[filed["a"]].before == {"field:counterparty": None, "tags": []}
    assert by_number[filed["a"]].after == {"field:counterparty": "上海明远", "tags": ["2026 审计"]}
    assert by_number[filed["declared"]].outcome == "refused"
    # One entry per record: the edit and the tags are not audited again on their own.
    assert _entries(container, "document.update") == _entries(container, "document.tag") == []
    with container.database.session() as session:
        declared = session.scalar(select(Document).where(Document.number == filed["declared"]))
        assert declared is not None and "counterparty" not in declared.fields
        assert tags.tags_of(session, declared) == []  # its tags were not half-applied
    admin = _admin(container)
    assert _found(container, admin, tags=["2026 审计"]) == [filed["a"], filed["b"]]
    # Applying the same again changes nothing and writes no entry.
    with container.database.session() as session:
        again = bulk_edit.bulk_edit(
            session,
            admin,
            [filed["a"]],
            values={"counterparty": "上海明远"},
            add_tags=["2026 审计"],
        )
    assert (again.changed, again.unchanged) == ([], [filed["a"]])
    assert len(_entries(container, "document.bulk_edit")) == len(entries)
    with container.database.session() as session, pytest.raises(ValidationFailed):
        bulk_edit.bulk_edit(session, admin, [filed["a"]])


def _admin(container: Container) -> User:
    from archive_app.services import bootstrap

    with container.database.session() as session:
        return bootstrap.get_admin(session)


def test_saved_searches_own_and_shared(
    container: Container, filed: dict[str, str], make_user, cli
) -> None:
    make_user("li", "archivist", "secret")
    make_user("zhao", "staff", "internal")
    admin = _admin(container)
    with container.database.session() as session:
        tags.tag_document(session, admin, filed["a"], add=["urgent"])
        tags.tag_document(session, admin, filed["secret"], add=["urgent"])
    saved = cli(
        "searches",
        "save",
        "紧急合同",
        "",
        "--tag",
        "urgent",
        "--class",
        "contract",
        "--shared",
        "--as",
        "li",
        "--json",
    )
    assert saved.returncode == 0, saved.stderr
    assert json.loads(saved.stdout)["params"] == {
        "class_code": "contract",
        "sort": "relevance",
        "tags": ["urgent"],
    }
    assert cli("searches", "save", "mine", "voucher", "--as", "li").returncode == 0
    li_list = json.loads(cli("searches", "list", "--as", "li", "--json").stdout)
    assert [(s["name"], s["own"], s["shared"]) for s in li_list] == [
        ("mine", True, False),
        ("紧急合同", True, True),
    ]
    zhao_list = json.loads(cli("searches", "list", "--as", "zhao", "--json").stdout)
    assert [(s["name"], s["owner"], s["own"]) for s in zhao_list] == [("紧急合同", "li", False)]
    # Each runs the shared search with their own clearance.
    li_run = json.loads(cli("search", "--saved", "紧急合同", "--as", "li", "--json").stdout)
    assert sorted(h["document"] for h in li_run["hits"]) == sorted([filed["a"], filed["secret"]])
    zhao_run = json.loads(cli("search", "--saved", "li/紧急合同", "--as", "zhao", "--json").stdout)
    assert [h["document"] for h in zhao_run["hits"]] == [filed["a"]]
    private = cli("search", "--saved", "mine", "--as", "zhao")
    assert private.returncode == 1 and "not found" in private.stderr
    assert cli("searches", "delete", "紧急合同", "--as", "zhao").returncode == 1
    assert cli("searches", "delete", "紧急合同", "--as", "li").returncode == 0
    assert json.loads(cli("searches", "list", "--as", "zhao", "--json").stdout) == []
    assert [e.action for e in _entries(container, "search.save")] == ["search.save"] * 2
    assert len(_entries(container, "search.delete")) == 1
    with container.database.session() as session, pytest.raises(ValidationFailed):
        saved_searches.save_search(session, admin, "a/b", SearchParams.parse({"query": "x"}))
    usage = cli("search")
    assert usage.returncode == 2


def test_bulk_edit_from_an_archives_own_document_list(
    container: Container, filed: dict[str, str], admin_client: FlaskClient
) -> None:
    """The archive page ticks its documents into the same bulk edit as the search results,
    and the result leads back to the archive."""
    with container.database.session() as session:
        row = session.scalar(select(Document).where(Document.number == filed["a"]))
        assert row is not None
        number = row.archive.number
    url = f"/archives/{number}"
    page = admin_client.get(url).get_data(as_text=True)
    assert 'id="archive-bulk-edit"' in page
    for key in ("a", "b", "declared"):
        assert f'value="{filed[key]}" form="bulk-form"' in page
    result = admin_client.post(
        "/documents/bulk-edit",
        data={
            "csrf_token": csrf_token(admin_client, url),
            "documents": [filed["a"], filed["b"]],
            "add_tags": "移交",
        },
        headers={"Referer": f"http://localhost{url}"},
    )
    shown = result.get_data(as_text=True)
    assert result.status_code == 200 and f'href="http://localhost{url}"' in shown
    entries = _entries(container, "document.bulk_edit")
    assert sorted(e.object_id for e in entries) == sorted([filed["a"], filed["b"]])
    assert all(e.after == {"tags": ["移交"]} for e in entries)
