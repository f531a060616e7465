"""Schema migrations: bring any database to the newest revision with Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from storage import BlobStore

MIGRATIONS_DIR = Path(__file__).parent.parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(engine: Engine, *, store: BlobStore | None = None) -> None:
    """Migrate to the newest revision. ``store``: the encrypted store, for migrations that
    move content into it (0008); work they defer until after the commit runs then."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["store"] = store
        command.upgrade(config, "heads")
    for action in config.attributes.get("after_commit", []):
        action()


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def current_revision(engine: Engine) -> str | None:
    """The applied revisions as one readable string (several while branches are open)."""
    return ",".join(sorted(current_revisions(engine))) or None


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def is_up_to_date(engine: Engine) -> bool:
    return current_revisions(engine) == head_revisions()
