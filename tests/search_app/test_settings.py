"""ARCHIVE_SEARCH_URL: the default, the three backends, and one-line errors at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive_app.errors import SettingsError
from archive_app.infra.config import Settings


def settings(tmp_path: Path, url: str | None) -> Settings:
    env = {"ARCHIVE_HOME": str(tmp_path)}
    if url is not None:
        env["ARCHIVE_SEARCH_URL"] = url
    return Settings.from_env(env)


def test_default_is_a_whoosh_index_in_the_instance_folder(tmp_path: Path) -> None:
    assert settings(tmp_path, None).resolved_search_url == f"whoosh://{tmp_path}/index"


@pytest.mark.parametrize(
    "url",
    [
        "whoosh:///srv/archive/index",
        "tantivy:///srv/archive/index",
        "postgresql://search@db.example/archive",
        "postgresql+psycopg://postgres@127.0.0.1:5432/archive?table=search_documents",
    ],
)
def test_accepted(tmp_path: Path, url: str) -> None:
    assert settings(tmp_path, url).resolved_search_url == url


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("elasticsearch://localhost:9200", "unsupported search backend 'elasticsearch'"),
        ("whoosh://relative/index", "absolute folder"),
        ("tantivy://relative/index", "a Tantivy index needs an absolute folder"),
        ("postgresql://", "name the database"),
        ("postgresql://db/archive?table=Search-Docs", "table="),
    ],
)
def test_refused_with_one_line(tmp_path: Path, url: str, says: str) -> None:
    with pytest.raises(SettingsError) as error:
        settings(tmp_path, url)
    message = str(error.value)
    assert "ARCHIVE_SEARCH_URL" in message and says in message
    assert "\n" not in message


def test_tantivy_url_opens_the_index_in_that_folder(tmp_path: Path) -> None:
    from archive_app.search.backend import open_search_backend

    backend = open_search_backend(settings(tmp_path, f"tantivy://{tmp_path}/tantivy-index"))
    try:
        assert backend.name == "tantivy"
        assert backend.path == str(tmp_path / "tantivy-index")
    finally:
        backend.close()
