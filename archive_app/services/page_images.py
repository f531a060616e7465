"""Page images of a document for the viewer and thumbnails for lists, from its encrypted
original.

Contract: ``prepare_page(session, actor, number, page)`` and ``prepare_thumbnail(session,
actor, number)`` check access exactly as a download does (``documents.get_content_visible``:
sight of the record and of its content, not destroyed, not being destroyed), refuse a page the
document does not have (``NotFound``, so the web answers 404), and record the view in the audit
trail (``document.view_page`` with the page number, ``document.view_thumbnail``) before any
byte is decrypted. ``render(container, handle)`` then decrypts the original into memory and
renders the one page (``indexing.extract.preview``).

Nothing decrypted touches the disk: neither the original nor the image. There is no cache, so
there is nothing to crypto-shred when a record is destroyed: a page of an A4 scan renders in
well under the half second a viewer may wait (``bench/viewer.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from archive_app.errors import Conflict, NotFound
from archive_app.infra.container import Container
from archive_app.models import User
from archive_app.services import audit
from archive_app.services.documents import get_content_visible
from indexing.extract.preflight import MIME_TYPES
from indexing.extract.preview import PageImage, PageOutOfRange, render_page

PAGE_SIDE = 1400  # pixels on the longer side: an A4 page at 120 dpi, sharp at 2x zoom
THUMBNAIL_SIDE = 200  # twice the size lists show, for high-density screens
KINDS = {mime: kind for kind, mime in MIME_TYPES.items()}


@dataclass(frozen=True)
class PageHandle:
    document: str
    storage_id: str
    object_id: str
    kind: str
    index: int  # 0-based
    max_side: int


def prepare_page(session: Session, actor: User, number: str, page: int) -> PageHandle:
    return _prepare(session, actor, number, page, PAGE_SIDE, "document.view_page")


def prepare_thumbnail(session: Session, actor: User, number: str) -> PageHandle:
    return _prepare(session, actor, number, 1, THUMBNAIL_SIDE, "document.view_thumbnail")


def _prepare(
    session: Session, actor: User, number: str, page: int, max_side: int, action: str
) -> PageHandle:
    document = get_content_visible(session, actor, number)
    if not 1 <= page <= max(document.page_count, 1):
        raise NotFound("page", f"{document.number} page {page}")
    kind = KINDS.get(document.mime_type)
    if document.original_object_id is None or kind is None:
        raise Conflict(f"document {document.number} has no page images")
    audit.record(
        session,
        actor,
        action,
        "document",
        document.number,
        after={"page": page} if action == "document.view_page" else None,
    )
    return PageHandle(
        document.number,
        document.archive.storage_id,
        document.original_object_id,
        kind,
        page - 1,
        max_side,
    )


def render(container: Container, handle: PageHandle) -> PageImage:
    data = container.store.read_bytes(handle.storage_id, handle.object_id)
    try:
        return render_page(data, handle.kind, handle.index, handle.max_side)  # type: ignore[arg-type]
    except PageOutOfRange as error:
        raise NotFound("page", f"{handle.document} page {error.index + 1}") from error
