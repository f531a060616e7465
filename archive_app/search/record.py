"""Which search backend an instance uses, recorded in the instance folder.

The record is one URL in ``search-backend`` (read by ``Settings.resolved_search_url``).
``archive init`` writes it once: the Tantivy index in ``index/`` for a new instance, the
Whoosh index in ``index/`` for an instance made before the record existed (it keeps what
it has). ``archive reindex --to URL`` replaces it when the new index is complete. The file
is replaced atomically, so a reader sees the old URL or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from archive_app.infra.private_files import write_private_file

if TYPE_CHECKING:
    from archive_app.infra.config import Settings


def default_url(settings: Settings, *, new_instance: bool) -> str:
    kind = "tantivy" if new_instance else "whoosh"
    return f"{kind}://{settings.home / 'index'}"


def is_recorded(settings: Settings) -> bool:
    return settings.search_record_path.exists()


def record(settings: Settings, url: str) -> None:
    path = settings.search_record_path
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    write_private_file(tmp, url.encode("utf-8") + b"\n")
    os.replace(tmp, path)
