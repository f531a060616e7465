"""The year-end review (年终整理) pages, for compliance, auditors and admins.

``/review/year-end`` opens the newest year worth reviewing; ``/review/year-end/<year>``
shows the figures per archive and in total (``?archive=NUMBER`` for one archive), with a
sign-off form for compliance; ``.../print`` is the printable page (print CSS, bilingual like
the checklist) and ``/review/year-end/<year>.pdf`` the same report as a PDF. Everything is
asked of :mod:`archive_app.services.year_end`; refusals reach the one error mapping.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from archive_app.models.base import utcnow
from archive_app.permissions import Capability, allowed
from archive_app.services import printing, year_end
from archive_app.services.year_end_pdf import year_end_pdf
from archive_app.web.context import db_session

blueprint = Blueprint("year_end", __name__, url_prefix="/review/year-end")


def _archive_arg() -> str | None:
    return (request.values.get("archive") or "").strip() or None


@blueprint.route("")
@login_required
def latest():
    today = utcnow().date()
    # In December the closing year is the one being prepared; before that, last year.
    year = today.year if today.month == 12 else today.year - 1
    return redirect(url_for("year_end.page", year=year))


@blueprint.route("/<int:year>")
@login_required
def page(year: int):
    archive = _archive_arg()
    result = year_end.review(db_session(), current_user, year, archive)
    return render_template(
        "year_end/page.html",
        review=result,
        archive=archive,
        this_year=utcnow().year,
        can_sign_off=allowed(current_user, Capability.SIGN_OFF_YEAR_END),
        level_names=printing.LEVEL_NAMES,
    )


@blueprint.route("/<int:year>/sign-off", methods=["POST"])
@login_required
def sign_off(year: int):
    archive = _archive_arg()
    year_end.sign_off(db_session(), current_user, year, archive)
    flash(_("The year-end review %(year)s is signed off.", year=year), "success")
    return redirect(url_for("year_end.page", year=year, archive=archive))


@blueprint.route("/<int:year>/print")
@login_required
def print_page(year: int):
    result = year_end.review(db_session(), current_user, year, _archive_arg())
    return render_template("year_end/print.html", review=result, level_names=printing.LEVEL_NAMES)


@blueprint.route("/<int:year>.pdf")
@login_required
def pdf(year: int):
    result = year_end.review(db_session(), current_user, year, _archive_arg())
    data = year_end_pdf(result, printed_by=current_user.username)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="year-end-{year}.pdf"'
    return response
