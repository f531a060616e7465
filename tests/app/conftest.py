"""Fixtures for tests that run real background workers: the broker (embedded or Redis),
settings with a queue of their own, a container, an archive to file into, a worker."""

from __future__ import annotations

import os

import pytest

from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.models import User
from archive_app.services import archives
from archive_app.services.archives import ArchiveInput
from tests.conftest import unavailable

REDIS_URL = os.environ.get("ARCHIVE_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")


@pytest.fixture(params=["embedded", "redis"])
def broker(request: pytest.FixtureRequest) -> str | None:
    if request.param == "embedded":
        return None
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        unavailable(f"Redis is not reachable at {REDIS_URL}: {error}")
    return REDIS_URL


@pytest.fixture
def broker_settings(instance_settings: Settings, broker: str | None) -> Settings:
    """The instance on the embedded broker and on Redis: modules testing task delivery
    use it as their ``instance_settings``."""
    return instance_settings.with_overrides(broker_url=broker)


@pytest.fixture
def archive_number(container: Container, admin: User) -> str:
    with container.database.session() as session:
        archive = archives.create_archive(
            session,
            admin,
            ArchiveInput(name="上海明远贸易有限公司"),
            number_pattern="KH-{seq:06d}",
            on_created=container.on_archive_created,
        )
        return archive.number
