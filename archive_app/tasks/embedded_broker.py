"""The embedded broker: Kombu's SQLAlchemy transport on a SQLite file in the instance folder,
polled often enough that a worker does not sit idle between documents, and safe when two
processes create its queue at once.

Kombu polls a database-backed queue once a second by default; an import of many small
documents then spent up to a second idle before each one. A poll is one indexed query on a
local file, so ten a second cost nothing noticeable. (The transport passes its transport
options to ``create_engine``, so the interval cannot be set as an option: it is a class
attribute of this subclass.)

Kombu creates its tables, and a queue's row on first use, behind a lock that only
serialises the threads of one process: the web server and a worker (or two processes
serving uploads) doing it at once made the second fail ("table already exists", or the
unique queue name), and the upload answered 500. The channel here takes what the other
process created instead.
"""

from __future__ import annotations

from typing import Any

from kombu.transport.sqlalchemy import Channel as SQLAlchemyChannel
from kombu.transport.sqlalchemy import Transport as SQLAlchemyTransport
from sqlalchemy.exc import IntegrityError, OperationalError

POLL_SECONDS = 0.1
CREATE_ATTEMPTS = 5


class Channel(SQLAlchemyChannel):
    def _open(self) -> Any:
        # Each failure means another process created one of the tables between our check
        # and our CREATE; the next attempt skips it. With two tables, three attempts
        # always suffice; the bound only guards against an error that is not this race.
        for _ in range(CREATE_ATTEMPTS - 1):
            try:
                return super()._open()
            except OperationalError as error:
                if "already exists" not in str(error):
                    raise
        return super()._open()

    def _get_or_create(self, queue: str) -> Any:
        try:
            return super()._get_or_create(queue)
        except IntegrityError:  # another process created it between our look and insert
            self.session.rollback()
            return self.session.query(self.queue_cls).filter(self.queue_cls.name == queue).one()


class Transport(SQLAlchemyTransport):
    Channel = Channel
    polling_interval = POLL_SECONDS
