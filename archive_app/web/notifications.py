"""The notifications bell and page (``/notifications``): the unread count in the header of
every page for whoever reads some kind of note, the notes with links to their subject, and
mark read (one, or all) by POST with the CSRF token. Each route calls
:mod:`archive_app.services.notifications` only; a user who may read no kind gets 403.
"""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, url_for
from flask_login import current_user, login_required

from archive_app.models import RetentionNotification
from archive_app.services import notifications
from archive_app.services.notifications import APPRAISAL, APPROVAL, INSPECTION, REVIEW
from archive_app.web.context import db_session

blueprint = Blueprint("notifications", __name__, url_prefix="/notifications")


def install(app: Flask) -> None:
    app.register_blueprint(blueprint)

    @app.context_processor
    def _bell() -> dict[str, object]:
        # Computed here, once per page, so base.html runs no query; None: no bell at all.
        if not current_user.is_authenticated or not notifications.readable_kinds(current_user):
            return {"unread_notes": None, "note_link": subject_link}
        return {
            "unread_notes": notifications.unread_count(db_session(), current_user),
            "note_link": subject_link,
        }


def subject_link(note: RetentionNotification) -> str:
    """Where the note's subject is dealt with."""
    name = (note.subject or "").split(":", 1)[-1]
    if note.kind == REVIEW:
        return url_for("checklist.queue")
    if note.kind == APPROVAL and name:
        return url_for("retention.batch_page", number=name)
    if note.kind == INSPECTION:
        return url_for("inspection.page")
    if note.kind == APPRAISAL:
        return url_for("retention.plan_page", as_of=note.as_of.isoformat())
    return url_for("notifications.page")


@blueprint.route("")
@login_required
def page():
    views = notifications.list_views(db_session(), current_user, limit=200)
    return render_template("notifications/page.html", views=views)


@blueprint.route("/<int:note_id>/read", methods=["POST"])
@login_required
def read_one(note_id: int):
    notifications.mark_read(db_session(), current_user, note_id)
    return redirect(url_for("notifications.page"))


@blueprint.route("/read", methods=["POST"])
@login_required
def read_all():
    notifications.mark_read(db_session(), current_user)
    return redirect(url_for("notifications.page"))
