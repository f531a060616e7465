"""The embedded broker: Kombu's SQLAlchemy transport on a SQLite file in the instance folder,
polled often enough that a worker does not sit idle between documents.

Kombu polls a database-backed queue once a second by default; an import of many small
documents then spent up to a second idle before each one. A poll is one indexed query on a
local file, so ten a second cost nothing noticeable. (The transport passes its transport
options to ``create_engine``, so the interval cannot be set as an option: it is a class
attribute of this subclass.)
"""

from __future__ import annotations

from kombu.transport.sqlalchemy import Transport as SQLAlchemyTransport

POLL_SECONDS = 0.1


class Transport(SQLAlchemyTransport):
    polling_interval = POLL_SECONDS
