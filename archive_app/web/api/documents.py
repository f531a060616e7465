"""``/api/v1``: upload into an archive, show a document, edit its metadata, download its
original or searchable PDF, and its processing status.

Uploads go through ``services.intake.take_in`` exactly as the web page and ``archive
import`` do, and answer with the same list of ``{file, document, status, error}``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from flask import Response
from flask_login import current_user

from archive_app.permissions import Capability, require
from archive_app.services import archives
from archive_app.services import documents as document_service
from archive_app.services.intake import IntakeItem, take_in
from archive_app.web.api import schemas
from archive_app.web.api.multipart import ApiBlueprint
from archive_app.web.context import db_session, end_unit_of_work, services
from archive_app.web.downloads import attachment
from indexing.extract.preflight import MIME_TYPES

blueprint = ApiBlueprint("api_documents", __name__, url_prefix="/api/v1", description="Documents")


def _file(description: str, *media_types: str) -> dict:
    schema = {"type": "string", "format": "binary"}
    content = {media_type: {"schema": schema} for media_type in media_types}
    return {"responses": {"200": {"description": description, "content": content}}}


@blueprint.route("/archives/<number>/documents", methods=["POST"])
@blueprint.arguments(schemas.Upload, location="multipart", as_kwargs=True)
@blueprint.response(200, schemas.IntakeResultSchema(many=True))
def upload(number: str, file: list, class_code: str | None = None):
    """File one or many scans (repeat the multipart field ``file``); one result per file."""
    require(current_user, Capability.FILE_DOCUMENTS)
    archives.get_visible(db_session(), current_user, number)
    actor_id = current_user.id
    end_unit_of_work()
    # Uploaded scans are customer content: only in the instance's private temporary folder.
    workdir = Path(tempfile.mkdtemp(prefix="api-upload-", dir=services().temp_folder))
    try:
        items = []
        for index, upload in enumerate(file):
            path = workdir / f"{index:05d}"
            upload.save(path)
            items.append(IntakeItem(path=path, filename=upload.filename or "unnamed"))
        results = take_in(services(), actor_id, number, items, default_class=class_code)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return [result.as_dict() for result in results]


@blueprint.route("/documents/<number>", methods=["GET"])
@blueprint.response(200, schemas.DocumentSchema)
def show(number: str):
    return document_service.view_document(db_session(), current_user, number)


@blueprint.route("/documents/<number>", methods=["PATCH"])
@blueprint.arguments(schemas.DocumentEdit, as_kwargs=True)
@blueprint.response(200, schemas.DocumentSchema)
def edit(
    number: str,
    fields_: dict[str, str],
    accept_suggestions: bool,
    class_code: str | None = None,
    title: str | None = None,
):
    """Change class, title and class fields (by field name); nothing changes on an error."""
    return document_service.edit_document(
        db_session(),
        current_user,
        number,
        class_code=class_code,
        title=title,
        values=fields_,
        accept_suggestions=accept_suggestions,
        container=services(),
    )


@blueprint.route("/documents/<number>/status", methods=["GET"])
@blueprint.response(200, schemas.DocumentStatusSchema)
def status(number: str):
    """Processing status, for polling after an upload."""
    return document_service.get_visible(db_session(), current_user, number)


def _download(number: str, kind: str) -> Response:
    handle = document_service.prepare_export(db_session(), current_user, number, kind)
    end_unit_of_work()  # the download is audited before the first byte leaves
    response = Response(
        document_service.stream_export(services(), handle), mimetype=handle.mime_type
    )
    response.headers["Content-Disposition"] = attachment(handle.filename, inline=False)
    if handle.size is not None:
        response.headers["Content-Length"] = str(handle.size)
    return response


@blueprint.route("/documents/<number>/original", methods=["GET"])
@blueprint.doc(**_file("The file as it was filed", *MIME_TYPES.values()))
def original(number: str):
    return _download(number, "original")


@blueprint.route("/documents/<number>/pdf", methods=["GET"])
@blueprint.doc(**_file("The searchable PDF/A rendition", "application/pdf"))
def pdf(number: str):
    return _download(number, "pdf")
