"""The API's marshmallow schemas: the same classes validate requests (through
flask-smorest's ``arguments``) and describe them and the responses in the OpenAPI document.

Request schemas refuse unknown fields (marshmallow's default, kept on purpose: a misspelt
field must not be silently ignored). Response schemas read the models' attributes.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate
from werkzeug.datastructures import FileStorage

from archive_app.models.archive import CustomerType
from archive_app.models.user import Level
from archive_app.search.queries import MAX_PER_PAGE, SORTS, STATES
from archive_app.services.archives import FIELD_LIMITS, SORTABLE

MAX_PAGE_SIZE = 100
LEVELS = [level.value for level in Level]
CUSTOMER_TYPES = [kind.value for kind in CustomerType]


class ProblemSchema(Schema):
    """RFC 9457 problem details, with ``code`` (the product's error code) and, for
    invalid input, ``errors`` (field name to messages)."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String()
    code = fields.String()
    errors = fields.Dict()


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10_000))
    per_page = fields.Integer(load_default=25, validate=validate.Range(1, MAX_PAGE_SIZE))


class PageMeta(Schema):
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


# ------------------------------------------------------------------------------ archives


class ArchiveQuery(PageQuery):
    q = fields.String(load_default="", validate=validate.Length(max=200))
    level = fields.String(validate=validate.OneOf(LEVELS))
    sort = fields.String(load_default="number", validate=validate.OneOf(list(SORTABLE)))
    dir = fields.String(load_default="asc", validate=validate.OneOf(["asc", "desc"]))


class ArchiveValues(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=FIELD_LIMITS["name"]))
    customer_type = fields.String(validate=validate.OneOf(CUSTOMER_TYPES))
    contact = fields.String(validate=validate.Length(max=FIELD_LIMITS["contact"]))
    address = fields.String(validate=validate.Length(max=FIELD_LIMITS["address"]))
    business_unit = fields.String(validate=validate.Length(max=FIELD_LIMITS["business_unit"]))
    tax_id = fields.String(validate=validate.Length(max=FIELD_LIMITS["tax_id"]))
    level = fields.String(validate=validate.OneOf(LEVELS))
    notes = fields.String(validate=validate.Length(max=FIELD_LIMITS["notes"]))
    relationship_end = fields.Date(
        metadata={"description": "The customer relationship ended (starts retention clocks)."}
    )


class ArchiveEdit(ArchiveValues):
    """The fields to change; those not given keep their values."""

    name = fields.String(validate=validate.Length(min=1, max=FIELD_LIMITS["name"]))


class ArchiveSchema(Schema):
    number = fields.String(required=True)
    name = fields.String(required=True)
    customer_type = fields.Enum(CustomerType, by_value=True, required=True)
    contact = fields.String()
    address = fields.String()
    business_unit = fields.String()
    tax_id = fields.String()
    level = fields.Enum(Level, by_value=True, required=True)
    notes = fields.String()
    relationship_end = fields.Date(allow_none=True)
    created_at = fields.DateTime(required=True)


class ArchiveListItem(ArchiveSchema):
    documents = fields.Integer(required=True)
    unlocated = fields.Integer(required=True)


class ArchivePage(PageMeta):
    items = fields.List(fields.Nested(ArchiveListItem), required=True)


class CustomerImport(Schema):
    """The multipart body of a customer information table import."""

    file = fields.Raw(
        required=True,
        validate=lambda value: isinstance(value, FileStorage),
        metadata={"type": "string", "format": "binary", "description": "A .csv or .xlsx table."},
    )
    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "Report only; write nothing."}
    )
    skip_invalid = fields.Boolean(
        load_default=False, metadata={"description": "Import the good rows, report the bad."}
    )


class ImportReason(Schema):
    code = fields.String(required=True)
    data = fields.Dict(keys=fields.String(), required=True)


class ImportRowSchema(Schema):
    line = fields.Integer(required=True)
    name = fields.String(required=True)
    action = fields.String(
        required=True, validate=validate.OneOf(["create", "update", "unchanged", "invalid"])
    )
    number = fields.String(allow_none=True, required=True)
    problems = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "Field (or ``row``) to its reason, in English."},
    )
    reasons = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(ImportReason),
        required=True,
        metadata={"description": "The same reasons as a stable code and its data."},
    )


class ImportReportSchema(Schema):
    """What was (or, on a dry run or a refused file, would be) created and updated, and
    every bad row with its line and reasons. ``refused``: a bad row and no
    ``skip_invalid``, so nothing was written."""

    file = fields.String(required=True)
    dry_run = fields.Boolean(required=True)
    skip_invalid = fields.Boolean(required=True)
    refused = fields.Boolean(required=True)
    written = fields.Boolean(required=True)
    create = fields.Integer(required=True)
    update = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    invalid = fields.Integer(required=True)
    rows = fields.List(fields.Nested(ImportRowSchema), required=True)


# ------------------------------------------------------------------------------ documents


class Upload(Schema):
    """The multipart body of an upload: one or more files and an optional class."""

    file = fields.List(
        fields.Raw(metadata={"type": "string", "format": "binary"}),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "One or more files (repeat the field)."},
    )
    class_code = fields.String(
        data_key="class",
        validate=validate.Length(min=1, max=20),
        metadata={"description": "Document class code for every file (else guessed)."},
    )


class IntakeResultSchema(Schema):
    file = fields.String(required=True)
    document = fields.String(allow_none=True, required=True)
    status = fields.String(
        required=True, validate=validate.OneOf(["queued", "duplicate", "rejected"])
    )
    error = fields.String(allow_none=True, required=True)


class DocumentSchema(Schema):
    document = fields.String(attribute="number", required=True)
    archive = fields.Function(lambda d: d.archive.number, required=True)
    class_code = fields.Function(lambda d: d.document_class.code, data_key="class", required=True)
    class_version = fields.Integer(
        allow_none=True,
        metadata={"description": "The version of the class definition the record is held to."},
    )
    title = fields.String(allow_none=True)
    status = fields.Function(lambda d: d.status.value, required=True)
    error = fields.String(attribute="failure_reason", allow_none=True)
    file = fields.String(attribute="original_filename", allow_none=True)
    mime_type = fields.String(allow_none=True)
    size = fields.Integer(attribute="size_bytes", allow_none=True)
    pages = fields.Integer(attribute="page_count", allow_none=True)
    document_date = fields.Date(allow_none=True)
    amount = fields.Decimal(as_string=True, allow_none=True)
    fields_ = fields.Dict(attribute="fields", data_key="fields", allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()
    declared_at = fields.DateTime(allow_none=True)


class DocumentEdit(Schema):
    class_code = fields.String(data_key="class", validate=validate.Length(min=1, max=20))
    title = fields.String(validate=validate.Length(max=500))
    fields_ = fields.Dict(
        data_key="fields", keys=fields.String(), values=fields.String(), load_default=dict
    )
    accept_suggestions = fields.Boolean(load_default=False)


class DocumentStatusSchema(Schema):
    document = fields.String(attribute="number", required=True)
    status = fields.Function(lambda d: d.status.value, required=True)
    done = fields.Integer(attribute="progress_done", allow_none=True)
    total = fields.Integer(attribute="progress_total", allow_none=True)
    error = fields.String(attribute="failure_reason", allow_none=True)


# ------------------------------------------------------------------------------ search


class SearchQuery(Schema):
    q = fields.String(load_default="", metadata={"description": "The search language of /search."})
    archive = fields.String()
    class_code = fields.String(data_key="class")
    state = fields.String(validate=validate.OneOf(STATES))
    date_from = fields.Date()
    date_to = fields.Date()
    amount_min = fields.String(metadata={"description": "An amount like 12000.00"})
    amount_max = fields.String(metadata={"description": "An amount like 12000.00"})
    sort = fields.String(load_default="relevance", validate=validate.OneOf(SORTS))
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, MAX_PER_PAGE))


class SearchHitSchema(Schema):
    document = fields.String(required=True)
    archive = fields.String(required=True)
    title = fields.String(allow_none=True)
    class_code = fields.String(data_key="class")
    snippet = fields.String(allow_none=True)
    score = fields.Float()


class SearchResult(Schema):
    total = fields.Integer(required=True)
    # False: more than ``total`` documents match (ARCHIVE_SEARCH_TOTAL_CAP); the facet
    # counts are then lower bounds.
    total_exact = fields.Boolean(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    hits = fields.List(fields.Nested(SearchHitSchema), required=True)
    facets = fields.Dict(keys=fields.String(), values=fields.Dict(), required=True)
    ranked_window = fields.Integer(allow_none=True)


# ------------------------------------------------------------------------------ checklist


class ChecklistQuery(PageQuery):
    state = fields.String(validate=validate.OneOf(["draft", "awaiting_review", "filed"]))
    location = fields.String(load_default="", validate=validate.Length(max=200))
    unlocated = fields.Boolean(load_default=False)


class ChecklistProblemSchema(Schema):
    field = fields.String()
    code = fields.String()
    message = fields.String()


class ChecklistLineSchema(Schema):
    document = fields.String(required=True)
    archive = fields.String(required=True)
    file = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    class_code = fields.String(data_key="class")
    pages = fields.Integer(allow_none=True)
    version = fields.Integer()
    status = fields.String()
    electronic_location = fields.String(allow_none=True)
    paper_location = fields.String(allow_none=True)
    state = fields.String(required=True)
    filer = fields.String()
    created_at = fields.String()
    submitted_by = fields.String(allow_none=True)
    submitted_at = fields.String(allow_none=True)
    reviewer = fields.String(allow_none=True)
    reviewed_at = fields.String(allow_none=True)
    rejection_reason = fields.String(allow_none=True)
    declared_at = fields.String(allow_none=True)
    missing = fields.List(fields.Nested(ChecklistProblemSchema))


class ChecklistPage(PageMeta):
    items = fields.List(fields.Nested(ChecklistLineSchema), required=True)


class Rejection(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


# ------------------------------------------------------------------------------ retention


class PlanQuery(Schema):
    as_of = fields.Date(metadata={"description": "Default: today."})


class HoldSchema(Schema):
    name = fields.String(required=True)
    reason = fields.String()
    owner = fields.Function(lambda h: h.owner.username)
    active = fields.Boolean()
    targets = fields.List(fields.String())
    created_at = fields.DateTime()
    released_at = fields.DateTime(allow_none=True)
    release_reason = fields.String(allow_none=True)


class HoldList(PageMeta):
    items = fields.List(fields.Nested(HoldSchema), required=True)
    hidden = fields.Integer(required=True)


class BatchSummary(Schema):
    batch = fields.String(required=True)
    state = fields.String(required=True)
    as_of = fields.Date()
    items = fields.Integer()
    hidden_items = fields.Integer()


class BatchList(PageMeta):
    items = fields.List(fields.Nested(BatchSummary), required=True)
    hidden = fields.Integer(required=True)
