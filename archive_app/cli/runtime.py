"""What every command needs: settings, the database, the acting user, output helpers."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session

from archive_app.errors import CannotWrite, NotFound, NotInitialised
from archive_app.infra import schema
from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.infra.db import Database
from archive_app.models import CustomerArchive, User
from archive_app.services.bootstrap import ADMIN_USERNAME
from archive_app.services.users import get_user


@dataclass
class Runtime:
    """Lazily built per invocation, so ``archive --help`` touches nothing."""

    _settings: Settings | None = None
    _container: Container | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_env()
        return self._settings

    @property
    def container(self) -> Container:
        if self._container is None:
            container = Container.from_settings(self.settings)
            if not schema.is_up_to_date(container.database.engine):
                container.close()
                raise NotInitialised("the database schema is missing or out of date")
            self._container = container
        return self._container

    @property
    def database(self) -> Database:
        return self.container.database

    def on_archive_created(self, archive: CustomerArchive) -> None:
        self.container.on_archive_created(archive)

    def on_archives_created(self, storage_ids: Sequence[str]) -> None:
        self.container.on_archives_created(storage_ids)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.database.session() as session:
            yield session

    def actor(self, session: Session, username: str | None) -> User:
        name = username or ADMIN_USERNAME
        try:
            user = get_user(session, name)
        except NotFound:
            raise NotFound("user", name) from None
        if not user.active:
            raise NotFound("active user", name)
        return user

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None  # a later use (recording a refusal) opens it again


pass_runtime = click.make_pass_decorator(Runtime, ensure=True)


def print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n")


def as_option(function: Any) -> Any:
    return click.option(
        "--as",
        "as_user",
        metavar="USERNAME",
        help="Act as this user (recorded in the audit trail). Default: admin.",
    )(function)


def json_option(function: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")(
        function
    )


def progress_bar(console: Console, description: str) -> Progress:
    """A progress bar for long commands; off when the console is not a terminal, so
    scripts and ``--json`` callers get no control characters."""
    return Progress(
        TextColumn(description),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    )


@contextmanager
def output_file(path: str | Path) -> Iterator[BinaryIO]:
    """Write ``path`` whole or not at all: into ``path.part``, renamed when complete. A file
    system error (no such folder, no permission, disk full) becomes :class:`CannotWrite`."""
    target = Path(path)
    partial = target.with_name(target.name + ".part")
    try:
        with partial.open("wb") as out:
            yield out
        partial.replace(target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise CannotWrite(target, error.strerror or str(error)) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
