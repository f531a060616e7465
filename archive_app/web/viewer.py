"""Page images and thumbnails of a document, rendered from its encrypted original.

Access is checked and audited by the service before a byte is decrypted, like a download;
the response asks the browser not to keep the image (``no-store``): a confidential page
should not outlive the visit in a browser's disk cache.
"""

from __future__ import annotations

from flask import Blueprint, Response
from flask_login import current_user, login_required

from archive_app.services import page_images
from archive_app.web.context import db_session, end_unit_of_work, services

blueprint = Blueprint("viewer", __name__)


@blueprint.route("/documents/<number>/pages/<int:page>.png")
@login_required
def page_image(number: str, page: int):
    return _png(page_images.prepare_page(db_session(), current_user, number, page))


@blueprint.route("/documents/<number>/thumbnail.png")
@login_required
def thumbnail(number: str):
    return _png(page_images.prepare_thumbnail(db_session(), current_user, number))


def _png(handle: page_images.PageHandle) -> Response:
    end_unit_of_work()  # the view is audited before the first byte is decrypted
    image = page_images.render(services(), handle)
    response = Response(image.png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, no-store"
    return response
