"""Page paging for lists a service returns whole (an archive's checklist, holds,
destruction lists): the same ``items, total, page, per_page, pages`` as the paged queries,
with the page size bounded by the request schemas (``schemas.PageQuery``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def page_of(items: Sequence[Any], page: int, per_page: int) -> dict[str, Any]:
    return {
        "items": list(items[(page - 1) * per_page : page * per_page]),
        "total": len(items),
        "page": page,
        "per_page": per_page,
        "pages": max(1, -(-len(items) // per_page)),
    }
