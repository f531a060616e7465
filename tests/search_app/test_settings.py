"""ARCHIVE_SEARCH_URL: the default, the three backends, and one-line errors at start;
ARCHIVE_SEARCH_TOTAL_CAP."""

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


def test_without_a_record_the_default_is_the_whoosh_index_in_the_instance_folder(
    tmp_path: Path,
) -> None:
    """An instance made before ``archive init`` recorded its backend keeps using Whoosh."""
    assert settings(tmp_path, None).resolved_search_url == f"whoosh://{tmp_path}/index"
    (tmp_path / "search-backend").write_text(f"tantivy://{tmp_path}/index2\n")
    assert settings(tmp_path, None).resolved_search_url == f"tantivy://{tmp_path}/index2"
    named = "postgresql://search@db.example/archive"
    assert settings(tmp_path, named).resolved_search_url == named  # the setting wins


def test_total_cap(tmp_path: Path) -> None:
    assert settings(tmp_path, None).search_total_cap == 10_000
    env = {"ARCHIVE_HOME": str(tmp_path)}
    assert Settings.from_env(env | {"ARCHIVE_SEARCH_TOTAL_CAP": "5"}).search_total_cap == 5
    for bad in ("0", "-3", "many", "1000001"):
        with pytest.raises(SettingsError, match="ARCHIVE_SEARCH_TOTAL_CAP"):
            Settings.from_env(env | {"ARCHIVE_SEARCH_TOTAL_CAP": bad})


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
