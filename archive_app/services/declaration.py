"""What changing a record does to its filing checklist line.

The access rules around declaration live in :mod:`archive_app.permissions`: reviewers
(复核) hold ``REVIEW_CHECKLIST``; nobody confirms or rejects a line they filed or
submitted themselves (the four-eyes rule, enforced by the checklist service); after
declaration a record's metadata is amended only with ``AMEND_DECLARED``. The original file
never changes: a corrected scan is a new version (:mod:`archive_app.services.versions`).

**Changing metadata while a line awaits review** sends the line back to draft: the
reviewer confirms what was submitted, nothing else.
"""

from __future__ import annotations

from archive_app.models.checklist import ChecklistState
from archive_app.models.document import Document


def withdraw_changed_line(document: Document) -> bool:
    """Metadata changed while the line awaited review: what the reviewer would confirm is
    no longer what was submitted, so the line goes back to draft to be submitted again.
    Returns True when it did."""
    line = document.checklist_line
    if line is None or line.state != ChecklistState.AWAITING_REVIEW:
        return False
    line.state = ChecklistState.DRAFT
    line.submitted_by_id = None
    line.submitted_at = None
    return True
