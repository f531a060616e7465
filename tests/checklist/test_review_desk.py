"""Review beside the scan: opening a line is audited and is what bulk confirmation requires,
on the server, whatever the form sends; a line submitted again must be opened again."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive_app.infra.container import Container
from archive_app.models import AuditEntry, ChecklistLine, Document, User
from archive_app.services import checklist, review_desk
from archive_app.services.checklist import SelfReviewRefused
from tests.app.helpers import csrf_token, login
from tests.conftest import USER_PASSWORD

pytestmark = pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)


def _state(container: Container, number: str) -> str:
    with container.database.session() as session:
        line = session.scalars(
            select(ChecklistLine).join(Document).where(Document.number == number)
        ).one()
        return line.state.value


@pytest.fixture
def submitted(container: Container, filer: User, ingest, make_ready) -> list[str]:
    numbers = [ingest(filer) for _ in range(3)]
    for number in numbers:
        make_ready(number)
    with container.database.session() as session:
        for number in numbers:
            checklist.submit(session, filer, number)
    return numbers


def test_bulk_confirmation_takes_only_opened_lines(
    container: Container, filer: User, reviewer: User, submitted: list[str]
) -> None:
    first, second, third = submitted
    with container.database.session() as session, pytest.raises(SelfReviewRefused):
        review_desk.open_line(container, session, filer, first)
    with container.database.session() as session:
        view = review_desk.open_line(container, session, reviewer, first)
        assert (view.position, view.total, view.next_number) == (1, 3, second)
    with container.database.session() as session:
        review = review_desk.confirm_opened(session, reviewer, [first, second, third])
    assert review.outcome.confirmed == [first]
    assert review.not_opened == [second, third]
    assert [_state(container, n) for n in submitted] == [
        "filed",
        "awaiting_review",
        "awaiting_review",
    ]
    with container.database.session() as session:
        [entry] = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "checklist.review_open")
        ).all()
        assert (entry.actor_name, entry.object_id) == ("wang.fang", first)


def test_a_line_submitted_again_must_be_opened_again(
    container: Container, filer: User, reviewer: User, submitted: list[str]
) -> None:
    number = submitted[0]
    with container.database.session() as session:
        review_desk.open_line(container, session, reviewer, number)
    with container.database.session() as session:
        checklist.reject(session, reviewer, number, "发票号码与原件不符")
    with container.database.session() as session:
        checklist.submit(session, filer, number)
    with container.database.session() as session:
        review = review_desk.confirm_opened(session, reviewer, [number])
    assert review.not_opened == [number] and review.outcome.confirmed == []
    with container.database.session() as session:
        lines = checklist.review_queue(session, reviewer)
        assert number not in review_desk.opened_numbers(session, reviewer, lines)


def test_the_queue_form_cannot_confirm_an_unopened_line(
    client: FlaskClient, container: Container, reviewer: User, submitted: list[str]
) -> None:
    opened, unopened = submitted[0], submitted[1]
    assert login(client, "wang.fang", USER_PASSWORD).status_code == 302
    queue = client.get("/review").get_data(as_text=True)
    assert f'value="{unopened}"' not in queue  # no checkbox before the line is opened
    desk = client.get(f"/review/{opened}")
    assert desk.status_code == 200
    page = desk.get_data(as_text=True)
    assert f"/documents/{opened}/pages/1.png" in page and "review-fields" in page
    assert f'value="{opened}"' in client.get("/review").get_data(as_text=True)
    # A crafted form naming both lines confirms only the opened one.
    response = client.post(
        "/review/confirm",
        data={"documents": [opened, unopened], "csrf_token": csrf_token(client, "/review")},
        follow_redirects=True,
        headers={"Accept-Language": "en"},
    )
    assert "open it beside its scan first" in response.get_data(as_text=True)
    assert _state(container, opened) == "filed"
    assert _state(container, unopened) == "awaiting_review"


def test_the_desk_refuses_own_lines_and_lines_above_clearance(
    client: FlaskClient, app, container: Container, make_user, submitted: list[str]
) -> None:
    assert login(client, "li.na", USER_PASSWORD).status_code == 302
    assert client.get(f"/review/{submitted[0]}").status_code == 403
    make_user("zhou.min", "archivist", clearance="internal")  # the archive is confidential
    other = app.test_client()
    assert login(other, "zhou.min", USER_PASSWORD).status_code == 302
    assert other.get(f"/review/{submitted[0]}").status_code == 404
    response = other.post(
        "/review/confirm",
        data={"documents": [submitted[0]], "csrf_token": csrf_token(other, "/review")},
        follow_redirects=True,
        headers={"Accept-Language": "en"},
    )
    text = response.get_data(as_text=True)
    assert "open it beside its scan first" not in text  # its existence is not revealed
    assert _state(container, submitted[0]) == "awaiting_review"
