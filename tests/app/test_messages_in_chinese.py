"""Reasons that come from typed errors and checks, said in Chinese: the text reader's checks
on a suggestion (every code), an upload's refusal (every reject code), a failed extraction,
and the user form's "name taken" and rule messages over HTTP."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale

from archive_app.web.check_messages import check_text
from archive_app.web.intake_messages import failure_text, rejection_text
from indexing.extract.checks import date_problem, sum_problem, uscc_problem, words_problem
from indexing.extract.errors import RejectCode
from tests.app.helpers import post_form

ENGLISH = re.compile(r"[A-Za-z]{3,}(?: [A-Za-z]+){1,}")


def _stored(problem) -> dict[str, object]:
    return {"code": problem.code, "data": problem.as_dict()}  # as the suggestion keeps it


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_every_check_every_refusal_and_failures_in_chinese(app: Flask) -> None:
    today = date(2026, 12, 3)
    problems = [
        uscc_problem("12345"),
        uscc_problem("91350100M000100Y40"),
        sum_problem(Decimal("100"), Decimal("13"), Decimal("120")),
        words_problem(Decimal("120"), Decimal("113")),
        date_problem(date(1980, 1, 1), today),
        date_problem(date(2200, 1, 1), today, future=True),
        date_problem(date(2027, 6, 1), today),
    ]
    assert {p.code for p in problems if p} == {
        "uscc_format",
        "uscc_check_digit",
        "sum",
        "words",
        "date_too_early",
        "date_too_late",
        "date_future",
    }
    failures = [
        "will retry: the worker processing it stopped",
        "file: the file is empty [empty]",
        "OCR engine unavailable: tesseract not found",
        "storage: object missing",
        "extraction failed (page 2): no text",
        "unexpected error: ValueError: bad",
    ]
    with app.test_request_context(), force_locale("zh_CN"):
        fallback = check_text({"code": "unheard_of"})
        texts = [check_text(_stored(p)) for p in problems if p]
        texts += [rejection_text(code.value, "English words here") for code in RejectCode]
        texts.append(rejection_text("duplicate", "already filed", "KH-000001-HT-2026-0001"))
        texts += [failure_text(reason) for reason in failures]
        assert fallback not in texts
        assert "113" in texts[2] and "120" in texts[2]  # the figures stay
        # Each reason its own sentence; a file refused at processing says what its refusal says.
        assert len(set(texts)) == len(texts) - 1
        assert [t for t in texts if ENGLISH.search(t) or not re.search("[\u4e00-\u9fff]", t)] == []
    with app.test_request_context(), force_locale("en"):
        assert failure_text(failures[3]) == failures[3]  # English pages keep the details
        assert check_text(_stored(problems[1])).startswith("the check digit of")


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_a_taken_user_name_and_a_bad_one_in_chinese(admin_client: FlaskClient) -> None:
    post_form(admin_client, "/language/zh_CN", {"next": "/admin/users/"})
    form = {"display_name": "", "role": "archivist", "clearance": "", "password": "long-enough-pw"}
    taken = post_form(admin_client, "/admin/users/", {**form, "username": "admin"}, "/admin/users/")
    assert taken.status_code == 409
    assert "已有名为 admin 的用户。" in taken.get_data(as_text=True)
    bad = post_form(admin_client, "/admin/users/", {**form, "username": "X"}, "/admin/users/")
    assert bad.status_code == 422
    assert "以字母开头" in bad.get_data(as_text=True)
    assert "lower-case" not in bad.get_data(as_text=True)
