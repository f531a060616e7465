"""Tags through the app on both deployments (SQLite with Whoosh, PostgreSQL with its own
search backend): tagged on the command line, the entry is rewritten through the one way
into the index, and the tag filters the command line, the page and the JSON endpoint,
within the user's clearance. The tags are taken off again (the instance is shared)."""

from __future__ import annotations

import json

from archive_app.services import tags
from tests.app.helpers import login, post_form
from tests.conftest import USER_PASSWORD

from .conftest import Env
from .test_search import found


def test_tag_filter_through_the_app(env: Env) -> None:
    from archive_app.app import create_app

    penalty, secret = env.numbers["penalty"], env.numbers["secret"]
    admin_user = env.admin()
    added = env.cli("tags", "add", penalty, "违约", "--json")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout) == {"document": penalty, "tags": ["违约"]}
    with env.container.database.session() as session:
        tags.tag_document(session, admin_user, secret, add=["违约"])
    app = create_app(env.settings, testing=True)
    try:
        staff = env.cli("search", "", "--tag", "违约", "--as", "staff", "--json")
        assert [h["document"] for h in json.loads(staff.stdout)["hits"]] == [penalty]
        assert found(env, "违约金", tags="违约") == {"penalty", "secret"}

        client = app.test_client()
        assert login(client, "staff", USER_PASSWORD).status_code == 302
        body = client.get("/api/search?tags=违约").get_json()
        assert [hit["document"] for hit in body["hits"]] == [penalty]
        page = client.get("/search?tags=违约").get_data(as_text=True)
        assert penalty in page and secret not in page
        bad = client.get("/search?tags=" + "x" * 65)
        assert bad.status_code == 422
        # Staff may read tags but not change them.
        panel = client.get(f"/documents/{penalty}/annotations").get_data(as_text=True)
        assert "违约" in panel and "remove-tag" not in panel
        refused = post_form(client, f"/documents/{penalty}/tags", {"add": "x"})
        assert refused.status_code == 403
    finally:
        app.extensions["archive"].close()
        with env.container.database.session() as session:
            for number in (penalty, secret):
                tags.tag_document(session, admin_user, number, remove=["违约"])
    assert found(env, "", tags="违约") == set()
