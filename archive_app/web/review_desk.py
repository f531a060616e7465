"""The review desk: one checklist line awaiting review, beside its scan, with keyboard
shortcuts to confirm, reject and go on to the next line (``static/review.js``).

Confirming and rejecting post to the checklist's own routes, which return here, to the
next line, or to the queue when none is left.
"""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_login import current_user, login_required

from archive_app.services import review_desk
from archive_app.web.context import db_session, services

blueprint = Blueprint("review_desk", __name__)


@blueprint.route("/review/<number>")
@login_required
def line(number: str):
    view = review_desk.open_line(services(), db_session(), current_user, number)
    after = (
        url_for("review_desk.line", number=view.next_number)
        if view.next_number
        else url_for("checklist.queue")
    )
    return render_template(
        "checklist/review.html",
        view=view,
        document=view.document,
        pages=view.pages,
        after=after,
    )
