"""Full-text search as a use case: one function for the web page, the JSON API and the CLI.

:func:`search` runs a query for an acting user. It restricts the index search to the
confidentiality levels the user may see (hits, totals and facet counts alike), applies the
filters (archive, class, tags, document date, amount, filing state), sorts and pages, then loads
the hits of the current page from the database, re-checks each against the user's
clearance, and cuts snippets from their decrypted text (never stored; only this page's
hits are decrypted). Every search is audited with its query, filters and result count.

Raw strings from a form or the command line become a :class:`SearchParams` through
:meth:`SearchParams.parse`, whose errors name the field. A malformed query raises
:class:`InvalidQuery` with the position and what was expected.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from archive_app.domain.tags import clean_tags
from archive_app.errors import AppError, NotFound, UnknownDocumentClass, ValidationFailed
from archive_app.infra.container import Container
from archive_app.models import CustomerArchive, Document, DocumentClass, User
from archive_app.permissions import Capability, may_see_level, require, visible_levels
from archive_app.search.backend import translate
from archive_app.search.entries import decrypted_text, indexable
from archive_app.services import audit

if TYPE_CHECKING:
    from indexing.search import SearchRequest, SearchResults

SORTS = ("relevance", "-date", "date")
STATES = ("ready", "declared")
MAX_PER_PAGE = 100
MAX_QUERY_CHARS = 500
MAX_AMOUNT = Decimal("1e15")


class InvalidQuery(AppError):
    """The query string cannot be parsed; ``position`` is the 0-based character offset."""

    http_status = 400
    code = "invalid_query"

    def __init__(self, query: str, position: int, problem: str) -> None:
        super().__init__(f"the search query is not valid: {problem}")
        self.query = query
        self.position = position
        self.problem = problem


def parse_amount(value: str) -> Decimal:
    """An amount filter such as ``12,000.00``; ValueError says what is wrong (the form, the
    API and the command line's option type all apply this one rule)."""
    try:
        amount = Decimal(value.strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError("must be an amount like 12000.00, below 10^15") from None
    # Amounts are stored below 10^15 (see fieldtypes); beyond that is a typo or a probe.
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise ValueError("must be an amount like 12000.00, below 10^15")
    return amount


@dataclass(frozen=True)
class SearchParams:
    query: str = ""
    archive: str | None = None  # archive number
    class_code: str | None = None
    state: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    tags: tuple[str, ...] = ()  # documents carrying every one of them
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> SearchParams:
        """From strings (form fields, CLI options); empty strings mean "not given"."""
        problems: dict[str, str] = {}

        def text(name: str) -> str | None:
            value = raw.get(name)
            return str(value).strip() or None if value is not None else None

        def day(name: str) -> date | None:
            value = text(name)
            if value is None:
                return None
            try:
                return date.fromisoformat(value)
            except ValueError:
                problems[name] = "must be a date like 2026-03-05"
                return None

        def money(name: str) -> Decimal | None:
            value = text(name)
            if value is None:
                return None
            try:
                return parse_amount(value)
            except ValueError as error:
                problems[name] = str(error)
                return None

        def whole(name: str, default: int, low: int, high: int) -> int:
            value = text(name)
            if value is None:
                return default
            try:
                number = int(value)
            except ValueError:
                problems[name] = "must be a whole number"
                return default
            if not low <= number <= high:
                problems[name] = f"must be between {low} and {high}"
                return default
            return number

        query = str(raw.get("query") or "").strip()
        if len(query) > MAX_QUERY_CHARS:
            problems["query"] = f"is longer than {MAX_QUERY_CHARS} characters"
        sort = text("sort") or "relevance"
        if sort not in SORTS:
            problems["sort"] = f"must be one of {', '.join(SORTS)}"
        raw_tags = raw.get("tags") or ()
        if isinstance(raw_tags, str):
            raw_tags = raw_tags.split(",")
        try:
            tags = tuple(clean_tags(t for t in raw_tags if str(t).strip()))
        except ValueError as error:
            problems["tags"] = str(error)
            tags = ()
        state = text("state")
        if state is not None and state not in STATES:
            problems["state"] = f"must be one of {', '.join(STATES)}"
        params = cls(
            query=query,
            archive=text("archive"),
            class_code=text("class_code"),
            state=state,
            date_from=day("date_from"),
            date_to=day("date_to"),
            amount_min=money("amount_min"),
            amount_max=money("amount_max"),
            tags=tags,
            sort=sort,
            page=whole("page", 1, 1, 10_000),
            per_page=whole("per_page", 20, 1, MAX_PER_PAGE),
        )
        if params.date_from and params.date_to and params.date_from > params.date_to:
            problems["date_to"] = "is before the start date"
        if (
            params.amount_min is not None
            and params.amount_max is not None
            and params.amount_min > params.amount_max
        ):
            problems["amount_max"] = "is below the minimum amount"
        if problems:
            raise ValidationFailed(problems)
        return params

    def audit_values(self) -> dict[str, Any]:
        values = {
            key: str(value)
            for key, value in asdict(self).items()
            if value is not None and key not in ("page", "per_page", "tags")
        }
        if self.tags:
            values["tags"] = ",".join(self.tags)
        return values

    def form_values(self) -> dict[str, Any]:
        """The fields as the search form and :meth:`parse` take them (without paging):
        what a saved search keeps."""
        values: dict[str, Any] = {
            key: str(value)
            for key, value in asdict(self).items()
            if value not in (None, "", ()) and key not in ("page", "per_page", "tags")
        }
        if self.tags:
            values["tags"] = list(self.tags)
        return values


@dataclass(frozen=True)
class SearchHit:
    document: str
    title: str
    archive: str
    archive_name: str
    class_code: str
    class_name_zh: str
    class_name_en: str
    document_date: date | None
    amount: Decimal | None
    state: str
    snippet: str  # HTML: escaped text with <mark> around the matched terms
    score: float


@dataclass(frozen=True)
class Facet:
    key: str  # class code or archive number
    label_zh: str
    label_en: str
    count: int


@dataclass
class SearchOutcome:
    params: SearchParams
    total: int
    hits: list[SearchHit]
    class_facets: list[Facet] = field(default_factory=list)
    archive_facets: list[Facet] = field(default_factory=list)
    # Set when relevance ranking covered only this many of the newest matches.
    ranked_window: int | None = None
    # False: more than ``total`` documents match (counting stopped at the cap), and the
    # facet counts are lower bounds.
    total_exact: bool = True

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.params.per_page))

    def as_json(self) -> dict[str, Any]:
        """The JSON shape of the API and of ``archive search --json``."""
        return {
            "total": self.total,
            "total_exact": self.total_exact,
            "hits": [
                {
                    "document": hit.document,
                    "archive": hit.archive,
                    "title": hit.title,
                    "class": hit.class_code,
                    "snippet": hit.snippet,
                    "score": round(hit.score, 4),
                }
                for hit in self.hits
            ],
            "facets": {
                "class": {facet.key: facet.count for facet in self.class_facets},
                "archive": {facet.key: facet.count for facet in self.archive_facets},
            },
            "ranked_window": self.ranked_window,
        }


def search(
    container: Container, session: Session, actor: User, params: SearchParams
) -> SearchOutcome:
    """Run ``params`` as ``actor``: only archives within their clearance are searched, every
    hit is re-checked against the database, snippets are cut from the decrypted text now,
    and the search is audited."""
    require(actor, Capability.VIEW_ARCHIVES)
    classes = {c.code: c for c in session.scalars(select(DocumentClass))}
    request = _request_for(session, actor, params, classes)
    request.total_cap = container.settings.search_total_cap
    results = _run(container, request, params)
    outcome = SearchOutcome(
        params,
        results.total,
        _hits(container, session, actor, results, params.query),
        _class_facets(results, classes),
        _archive_facets(session, actor, results),
        results.ranked_window,
        results.total_exact,
    )
    audit.record(
        session,
        actor,
        "search",
        "search",
        "*",
        after={**params.audit_values(), "page": params.page, "results": results.total},
    )
    return outcome


def _request_for(
    session: Session, actor: User, params: SearchParams, classes: dict[str, DocumentClass]
) -> SearchRequest:
    from indexing.search import SearchRequest

    archive_ids = None
    if params.archive is not None:
        archive = session.scalar(
            select(CustomerArchive).where(CustomerArchive.number == params.archive)
        )
        if archive is None or not may_see_level(actor, archive.level):
            raise NotFound("archive", params.archive)
        archive_ids = [str(archive.id)]
    if params.class_code is not None and params.class_code not in classes:
        raise UnknownDocumentClass(params.class_code, ", ".join(sorted(classes)))
    return SearchRequest(
        query=params.query,
        allowed_levels={level.value for level in visible_levels(actor)},
        archive_ids=archive_ids,
        class_codes=[params.class_code] if params.class_code else None,
        statuses=[params.state] if params.state else None,
        date_from=params.date_from,
        date_to=params.date_to,
        amount_min=params.amount_min,
        amount_max=params.amount_max,
        tags=list(params.tags) or None,
        sort=params.sort,
        page=params.page,
        per_page=params.per_page,
    )


def _run(container: Container, request: SearchRequest, params: SearchParams) -> SearchResults:
    from indexing.search import InvalidSearchRequest, QuerySyntaxError, SearchError

    try:
        return container.search.search(request)
    except QuerySyntaxError as error:
        raise InvalidQuery(params.query, error.position, str(error)) from error
    except InvalidSearchRequest as error:
        raise ValidationFailed({error.field: str(error)}) from error
    except SearchError as error:
        raise translate(error) from error


def _hits(
    container: Container, session: Session, actor: User, results: SearchResults, query: str
) -> list[SearchHit]:
    from indexing.search import make_snippet

    ids = [int(hit.doc_id) for hit in results.hits if hit.doc_id.isdigit()]
    rows = {
        d.id: d
        for d in session.scalars(
            select(Document)
            .options(
                joinedload(Document.archive),
                joinedload(Document.document_class),
                joinedload(Document.checklist_line),
                joinedload(Document.class_definition),
            )
            .where(Document.id.in_(ids))
        )
    }
    hits: list[SearchHit] = []
    for hit in results.hits:
        document = rows.get(int(hit.doc_id)) if hit.doc_id.isdigit() else None
        # The index may lag behind a change by a moment: the database has the last word.
        if (
            document is None
            or not indexable(document)
            or not may_see_level(actor, document.archive.level)
        ):
            continue
        hits.append(
            SearchHit(
                document=document.number,
                title=document.display_title,
                archive=document.archive.number,
                archive_name=document.archive.name,
                class_code=document.document_class.code,
                class_name_zh=document.document_class.name_zh,
                class_name_en=document.document_class.name_en,
                document_date=document.document_date,
                amount=document.amount,
                state=_filing_state(document),
                snippet=make_snippet(decrypted_text(container, document), query),
                score=hit.score,
            )
        )
    return hits


def _filing_state(document: Document) -> str:
    """``declared``, else the checklist line's state once the reading is done (a draft is
    not awaiting review), else how far the reading got."""
    if document.declared_at:
        return "declared"
    line = document.checklist_line
    if line is not None and document.status.value == "ready":
        return line.state.value
    return document.status.value


def _class_facets(results: SearchResults, classes: dict[str, DocumentClass]) -> list[Facet]:
    return [
        Facet(code, classes[code].name_zh, classes[code].name_en, count)
        if code in classes
        else Facet(code, code, code, count)
        for code, count in sorted(results.facets.get("class", {}).items(), key=lambda kv: -kv[1])
    ]


def _archive_facets(session: Session, actor: User, results: SearchResults) -> list[Facet]:
    counts = {
        int(key): count for key, count in results.facets.get("archive", {}).items() if key.isdigit()
    }
    archives = {
        a.id: a
        for a in session.scalars(
            select(CustomerArchive).where(CustomerArchive.id.in_(list(counts)))
        )
    }
    return [
        Facet(archives[i].number, archives[i].name, archives[i].name, count)
        for i, count in sorted(counts.items(), key=lambda kv: -kv[1])
        if i in archives and may_see_level(actor, archives[i].level)
    ]
