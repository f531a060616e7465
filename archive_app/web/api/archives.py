"""``/api/v1/archives``: list (filters, paging, document counts), create, show, edit, and
the customer information table import (the same report as ``archive archives import
--json``).

Translation only: every call goes through ``services.archives`` as the token's user.
"""

from __future__ import annotations

from flask_login import current_user
from werkzeug.datastructures import FileStorage

from archive_app.services import archives, checklist, customer_import, customer_table
from archive_app.services import documents as document_service
from archive_app.services.archives import ArchiveInput as ArchiveValues
from archive_app.web.api import schemas
from archive_app.web.api.multipart import ApiBlueprint
from archive_app.web.context import db_session, services

blueprint = ApiBlueprint(
    "api_archives", __name__, url_prefix="/api/v1/archives", description="Customer archives"
)


@blueprint.route("", methods=["GET"])
@blueprint.arguments(schemas.ArchiveQuery, location="query", as_kwargs=True)
@blueprint.response(200, schemas.ArchivePage)
def list_archives(q: str, sort: str, dir: str, page: int, per_page: int, level: str | None = None):
    """Archives the caller may see, filtered by a number or name fragment and level."""
    session = db_session()
    result = archives.list_archives(
        session,
        current_user,
        query=q,
        level=level,
        sort=sort,
        descending=dir == "desc",
        page=page,
        per_page=per_page,
    )
    ids = [archive.id for archive in result.items]
    counts = document_service.document_counts(session, ids)
    unlocated = checklist.unlocated_counts(session, ids)
    return {
        "items": [
            {
                **{name: getattr(archive, name) for name in schemas.ArchiveSchema().fields},
                "documents": counts.get(archive.id, 0),
                "unlocated": unlocated.get(archive.id, 0),
            }
            for archive in result.items
        ],
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
        "pages": result.pages,
    }


@blueprint.route("", methods=["POST"])
@blueprint.arguments(schemas.ArchiveValues)
@blueprint.response(201, schemas.ArchiveSchema)
def create(values: dict):
    """Create an archive; its number comes from the instance's numbering pattern."""
    return archives.create_archive(
        db_session(),
        current_user,
        ArchiveValues.from_mapping(values),
        number_pattern=services().settings.archive_number_pattern,
        on_created=services().on_archive_created,
    )


@blueprint.route("/import", methods=["POST"])
@blueprint.arguments(schemas.CustomerImport, location="multipart", as_kwargs=True)
@blueprint.response(200, schemas.ImportReportSchema)
def import_table(file: FileStorage, dry_run: bool, skip_invalid: bool):
    """Import the customer information table (客户信息表, CSV or XLSX): rows match
    archives by tax ID, then exact name. A file with a bad row is refused whole
    (``refused``, nothing written) unless ``skip_invalid``; an unreadable file is a 422
    problem."""
    report = customer_import.import_customers(
        db_session(),
        current_user,
        file.read(customer_table.MAX_BYTES + 1),
        file.filename or "unnamed",
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        number_pattern=services().settings.archive_number_pattern,
        on_created=services().on_archives_created,
    )
    return report.as_dict()


@blueprint.route("/<number>", methods=["GET"])
@blueprint.response(200, schemas.ArchiveSchema)
def show(number: str):
    return archives.view_archive(db_session(), current_user, number)


@blueprint.route("/<number>", methods=["PATCH"])
@blueprint.arguments(schemas.ArchiveEdit)
@blueprint.response(200, schemas.ArchiveSchema)
def edit(values: dict, number: str):
    """Change the fields given; the others keep their values."""
    session = db_session()
    current = archives.get_visible(session, current_user, number)
    merged: dict[str, object] = dict(current.snapshot())
    merged.update(values)
    return archives.update_archive(
        session, current_user, number, ArchiveValues.from_mapping(merged)
    )
