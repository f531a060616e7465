"""Searching through the app: Chinese and English text, phrases and NOT, filters, facets,
permissions, snippets, the page, the JSON endpoint and the command line."""

from __future__ import annotations

import json

import pytest

from archive_app.search import queries as search_service
from archive_app.search.queries import InvalidQuery, SearchOutcome, SearchParams
from archive_app.services import api_tokens, users
from tests.app.helpers import login
from tests.app.workers import worker_env
from tests.conftest import USER_PASSWORD, run_cli

from .conftest import Env


def find(env: Env, query: str, user: str = "admin", **filters: str) -> SearchOutcome:
    params = SearchParams.parse({"query": query, **filters})
    with env.container.database.session() as session:
        actor = env.user(user)
        return search_service.search(env.container, session, actor, params)


def found(env: Env, query: str, user: str = "admin", **filters: str) -> set[str]:
    numbers = {value: key for key, value in env.numbers.items()}
    return {numbers[hit.document] for hit in find(env, query, user, **filters).hits}


def test_chinese_word_inside_a_long_run(env: Env) -> None:
    assert found(env, "违约金") == {"penalty", "secret", "scan"}
    assert found(env, "守约方") == {"penalty"}


def test_ocr_text_of_a_scan_is_indexed(env: Env) -> None:
    assert "scan" in found(env, "逾期交货")


def test_short_company_name_finds_the_full_name(env: Env) -> None:
    assert {"penalty", "secret"} <= found(env, "华信")
    assert found(env, "明远") >= {"penalty", "invoice", "scan"}


def test_english_stemming(env: Env) -> None:
    for word in ("deliver", "delivered", "delivery", "DELIVERIES"):
        assert found(env, word) == {"agreement", "delivery_note"}, word


def test_phrase_and_not(env: Env) -> None:
    assert found(env, '"late delivery"') == {"agreement"}
    assert found(env, "deliver NOT late") == {"delivery_note"}
    assert found(env, "deliver -penalty") == {"delivery_note"}
    assert found(env, '"向守约方支付"') == {"penalty"}
    assert found(env, '"支付违约金"') == {"penalty", "scan"}
    assert found(env, "违约金 NOT 保密") == {"penalty", "scan"}


def test_filters_sort_and_pages(env: Env) -> None:
    assert found(env, "明远", class_code="invoice") == {"invoice"}
    assert found(env, "", archive=env.archives["harbour"]) == {"agreement", "delivery_note"}
    # The invoice's date (2026-03-18) and amount (12,000.00), accepted from its text.
    assert found(env, "", date_from="2026-03-01", date_to="2026-03-31") >= {"invoice"}
    assert "invoice" not in found(env, "", date_from="2026-04-01")
    assert "invoice" in found(env, "", amount_min="11000", amount_max="13000")
    assert "invoice" not in found(env, "", amount_min="12000.01")
    assert found(env, "deliver", state="declared") == set()
    first = find(env, "明远", per_page="2")
    second = find(env, "明远", per_page="2", page="2")
    assert first.total == second.total >= 3
    assert len(first.hits) == 2 and first.pages >= 2
    assert not {h.document for h in first.hits} & {h.document for h in second.hits}
    dated = find(env, "", sort="-date")
    dates = [h.document_date for h in dated.hits if h.document_date]
    assert dates == sorted(dates, reverse=True)


def test_facets_count_per_class_and_archive(env: Env) -> None:
    outcome = find(env, "违约金")
    assert outcome.as_json()["facets"] == {
        "class": {"contract": 3},
        "archive": {env.archives["mingyuan"]: 2, env.archives["secret"]: 1},
    }


def test_staff_never_sees_a_secret_archive(env: Env) -> None:
    outcome = find(env, "违约金", user="staff")
    assert {h.document for h in outcome.hits} == {env.numbers["penalty"], env.numbers["scan"]}
    assert outcome.total == 2
    assert outcome.as_json()["facets"] == {
        "class": {"contract": 2},
        "archive": {env.archives["mingyuan"]: 2},
    }
    assert found(env, "zanzibarite", user="staff") == set()
    assert found(env, "", user="staff", class_code="contract") == {"penalty", "scan", "agreement"}
    with pytest.raises(Exception) as refused:
        find(env, "违约金", user="staff", archive=env.archives["secret"])
    assert getattr(refused.value, "http_status", None) == 404


def test_snippets_are_highlighted_and_escaped(env: Env) -> None:
    [hit] = find(env, "conditions").hits
    assert "<mark>conditions</mark>" in hit.snippet
    assert "&lt;b&gt;bold&lt;/b&gt; &amp;" in hit.snippet
    assert "<b>" not in hit.snippet
    [hit] = find(env, "守约方").hits
    assert "<mark>守约方</mark>" in hit.snippet


def test_query_syntax_error_is_a_clear_error(env: Env) -> None:
    with pytest.raises(InvalidQuery) as error:
        find(env, '"unclosed')
    assert "quotation mark" in str(error.value)
    assert error.value.http_status == 400


def test_searches_are_audited(env: Env) -> None:
    from sqlalchemy import select

    from archive_app.models import AuditEntry

    find(env, "守约方 OR zanzibarite", user="staff")
    with env.container.database.session() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "search").order_by(AuditEntry.seq.desc())
        ).first()
        assert entry.actor_name == "staff"
        assert entry.after["query"] == "守约方 OR zanzibarite"
        assert entry.after["results"] == 1


def test_page_and_json_endpoint(env: Env) -> None:
    from archive_app.app import create_app

    app = create_app(env.settings, testing=True)
    try:
        client = app.test_client()
        assert login(client, "staff", USER_PASSWORD).status_code == 302
        page = client.get("/search?q=违约金")
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert env.numbers["penalty"] in html and env.numbers["scan"] in html
        assert env.numbers["secret"] not in html and env.archives["secret"] not in html
        assert "<mark>违约金</mark>" in html
        assert 'href="/search"' in client.get("/archives").get_data(as_text=True)

        escaped = client.get("/search?q=conditions").get_data(as_text=True)
        assert "&lt;b&gt;bold&lt;/b&gt;" in escaped and "<b>bold" not in escaped

        api = client.get("/api/search?q=违约金")
        assert api.status_code == 200
        body = api.get_json()
        assert body["total"] == 2
        assert set(body) == {"total", "total_exact", "hits", "facets", "ranked_window"}
        assert body["total_exact"] is True
        assert body["ranked_window"] is None  # a handful of matches: all ranked
        assert {tuple(sorted(hit)) for hit in body["hits"]} == {
            ("archive", "class", "document", "score", "snippet", "title")
        }
        assert {hit["document"] for hit in body["hits"]} == {
            env.numbers["penalty"],
            env.numbers["scan"],
        }
        assert body["facets"]["archive"] == {env.archives["mingyuan"]: 2}

        bad = client.get('/api/search?q="unclosed')
        assert bad.status_code == 400
        assert bad.get_json()["error"] == "invalid_query"
        bad_page = client.get('/search?q="unclosed')
        assert bad_page.status_code == 400
        assert "检索式第 1 个字符处无法识别" in bad_page.get_data(as_text=True)
        bad_date = client.get("/search?q=x&date_from=yesterday")
        assert bad_date.status_code == 422
        assert "2026-03-05" in bad_date.get_data(as_text=True)
        hidden = client.get(f"/search?q=x&archive={env.archives['secret']}")
        assert hidden.status_code == 404
        assert "没有您有权查看的档案" in hidden.get_data(as_text=True)
        assert client.get("/api/search?q=x&date_from=yesterday").status_code == 422
    finally:
        app.extensions["archive"].close()


def test_command_line(env: Env) -> None:
    result = env.cli("search", "违约金", "--as", "staff", "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["total"] == 2
    assert {hit["document"] for hit in body["hits"]} == {
        env.numbers["penalty"],
        env.numbers["scan"],
    }
    assert body["hits"][0].keys() >= {"document", "archive", "title", "class", "snippet", "score"}
    assert env.archives["secret"] not in result.stdout

    limited = env.cli("search", "明远", "--class", "invoice", "--limit", "1", "--json")
    assert json.loads(limited.stdout)["hits"][0]["document"] == env.numbers["invoice"]

    hidden = env.cli("search", "违约金", "--archive", env.archives["secret"], "--as", "staff")
    assert hidden.returncode == 1
    assert "not found" in hidden.stderr and "Traceback" not in hidden.stderr

    bad = env.cli("search", '"unclosed', "--json")
    assert bad.returncode == 1 and bad.stdout == ""
    assert len(bad.stderr.strip().splitlines()) == 1


def test_totals_are_exact_up_to_the_cap_and_say_so_beyond(env: Env) -> None:
    """With ARCHIVE_SEARCH_TOTAL_CAP=2, staff sees 2 of the 2 matches of 违约金 exactly and
    "2+" of the 3 or more matches of 明远, in the JSON of the page, the API, the command line, and
    on the page in both languages."""
    from archive_app.app import create_app

    matches = find(env, "明远", "staff").total
    assert matches > 2
    capped = env.settings.with_overrides(search_total_cap=2)
    app = create_app(capped, testing=True)
    try:
        with env.container.database.session() as session:
            staff = users.get_user(session, "staff")
            _row, token = api_tokens.create(session, staff, "staff", "cap")
        api = app.test_client().get(
            "/api/v1/search?q=明远", headers={"Authorization": f"Bearer {token}"}
        )
        assert api.status_code == 200, api.get_data(as_text=True)
        body = api.get_json()
        assert (body["total"], body["total_exact"]) == (2, False)
        assert len(body["hits"]) == matches  # the cap bounds the counting, not the pages
        assert all(n <= 2 for n in body["facets"]["class"].values())

        client = app.test_client()
        assert login(client, "staff", USER_PASSWORD).status_code == 302
        exact = client.get("/api/search?q=违约金").get_json()
        assert (exact["total"], exact["total_exact"]) == (2, True)
        zh = client.get("/search?q=明远").get_data(as_text=True)
        assert "约 2+ 件" in zh and 'data-total-exact="false"' in zh
        with client.session_transaction() as cookie_session:
            cookie_session["language"] = "en"
        en = client.get("/search?q=明远").get_data(as_text=True)
        assert "2+ documents found" in en
    finally:
        app.extensions["archive"].close()

    result = run_cli(
        worker_env(env.settings, **env.extra_env(), ARCHIVE_SEARCH_TOTAL_CAP="2"),
        *("search", "明远", "--as", "staff", "--json"),
    )
    assert result.returncode == 0, result.stderr
    assert {k: json.loads(result.stdout)[k] for k in ("total", "total_exact")} == {
        "total": 2,
        "total_exact": False,
    }
