"""Every page in Chinese, from an instance with a record in every state (``tests.showcase``):
the walk follows the application's URL map, so a new page is walked (or the test names it);
each HTML page must render without asking for a message id the catalogue does not
translate, show no raw value of the enumerations that reach pages (collected from the
code: decision reasons, batch and checklist states, roles, class codes, ...), and no run of
English words (a hard-coded or passed-through English sentence).
Also: every such value has a label in :mod:`archive_app.web.labels`, every audit action the
code records has one in :mod:`archive_app.web.audit_labels` (and the audit page shows it in
Chinese), and the catalogue has no fuzzy entry.
"""

from __future__ import annotations

import ast
import gettext
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import get_translations

from archive_app.domain.classes import DEFAULT_CLASSES
from archive_app.infra.container import Container
from archive_app.models import User
from archive_app.web.audit_labels import ACTION_LABELS
from archive_app.web.labels import ENUM_LABELS, STRING_CODE_LABELS
from tests import showcase
from tests.app.helpers import login, post_form
from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "archive_app/translations/zh/LC_MESSAGES"
# Values of enumerations that are also words of the showcase's own data (user names).
DATA_WORDS = {"admin", "comp1", "comp2", "comp3", "arch"}
# Endpoints that answer with no HTML page of their own (files, JSON, fragments, redirects).
NOT_PAGES = {
    "static",
    "archives.quick_find",
    "audit.export",
    "checklist.download_version",
    "checklist.checklist_pdf",
    "checklist.cover_pdf",
    "dashboard.index",
    "documents.status",
    "documents.download",
    "search.api",
    "year_end.pdf",
    "retention.certificate_page",  # walked by hand below: it takes the batch number
    "archives.export_list",
    "archives.import_template",
    "viewer.page_image",
    "viewer.thumbnail",
}
# The JSON API (and its browsable description, Swagger UI's own page) is not a page of ours.
NOT_PAGE_PREFIXES = ("/api/",)


# Pages whose words may coincide with codes, and why they are not searched for them (they
# are still checked for untranslated messages).
WORDS_NOT_CHECKED = {
    # The trail shows each entry's recorded before/after values verbatim: the evidence.
    "/audit",
    # Class administration shows each class's code: the identifier the administrator sets.
    "/admin/classes/",
    "/admin/classes/contract",
    # Printed for the paper folder in both languages side by side: "Accounting voucher",
    # "filed" are English words there, not codes.
    "/checklist/print",
    "/cover",
    "/print",
}


def raw_codes() -> set[str]:
    values = {member.value for enum in ENUM_LABELS for member in enum}
    values |= {spec.code for spec in DEFAULT_CLASSES}
    values |= {code for labels in STRING_CODE_LABELS.values() for code in labels}
    return {value for value in values if isinstance(value, str)} - DATA_WORDS


class _Text(HTMLParser):
    """The text a reader sees: text nodes outside scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def visible_words(html: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_.\-]*", visible_text(html)))


# Three English words in a row on a Chinese page: a sentence nobody translated (a
# hard-coded string, or a service's English words passed through).
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z']+(?:[ ,;:]+[A-Za-z][A-Za-z']+){2,}")


class _Missing(gettext.NullTranslations):
    """Placed behind the catalogue: it sees exactly the message ids it lacks."""

    def __init__(self, seen: set[str]) -> None:
        super().__init__()
        self.seen = seen

    def gettext(self, message: str) -> str:
        self.seen.add(message)
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        self.seen.add(singular)
        return singular if n == 1 else plural


def record_untranslated(app: Flask) -> set[str]:
    seen: set[str] = set()

    @app.before_request
    def _behind_the_catalogue() -> None:
        translations = get_translations()
        if not getattr(translations, "_walk_recorder", False):
            translations.add_fallback(_Missing(seen))
            translations._walk_recorder = True  # type: ignore[attr-defined]

    return seen


def pages(app: Flask, case: showcase.Showcase) -> list[str]:
    """One address per page endpoint, its arguments taken from the showcase."""
    arguments = {
        "archives.detail": {"number": case.archive},
        "archives.edit": {"number": case.archive},
        "checklist.section": {"number": case.archive},
        "checklist.print_checklist": {"number": case.archive},
        "checklist.print_cover": {"number": case.archive},
        "documents.upload_page": {"number": case.archive},
        "documents.detail": {"number": case.draft},
        # The draft is not submitted: its review page is the refusal, in the user's language.
        "review_desk.line": {"number": case.draft},
        "catalogue.panel": {"number": case.filed},
        "classes.detail": {"code": "contract"},
        "retention.batch_page": {"number": case.open_batch},
        "retention.erasure_report": {"number": case.erasure_request},
        "users.detail": {"username": "arch"},
        "year_end.page": {"year": 2026},
        "year_end.print_page": {"year": 2026},
    }
    found: list[str] = []
    unknown: list[str] = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if (
                "GET" not in (rule.methods or ())
                or rule.endpoint in NOT_PAGES
                or rule.rule.startswith(NOT_PAGE_PREFIXES)
            ):
                continue
            if rule.arguments and rule.endpoint not in arguments:
                unknown.append(rule.endpoint)
                continue
            found.append(url_for(rule.endpoint, **arguments.get(rule.endpoint, {})))
    assert unknown == [], f"pages the walk does not know how to open: {unknown}"
    return sorted(set(found))


def test_every_enumeration_value_has_a_label() -> None:
    missing = [
        f"{enum.__name__}.{member.name}"
        for enum, labels in ENUM_LABELS.items()
        for member in enum
        if member.value not in labels
    ]
    assert missing == []


RECORDERS = ("record", "record_many")


def _recorded_actions() -> set[str]:
    """Every audit action code the application's code names as a string: the third argument
    of ``audit.record`` and ``audit.record_many`` calls and the constants and values handed to them (``*_ACTION``,
    ``action=``), with f-strings expanded by hand below."""
    codes: set[str] = set()
    for path in (ROOT / "archive_app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in RECORDERS:
                if len(node.args) >= 3 and isinstance(node.args[2], ast.Constant):
                    codes.add(node.args[2].value)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                names = [getattr(target, "id", "") for target in node.targets]
                if any(name.endswith("ACTION") for name in names):
                    codes.add(node.value.value)
    # document.download_{kind} (EXPORT_KINDS), {what}.print (checklist, cover), the edit's
    # two actions, the viewer's and the class administration's.
    codes |= {"document.download_original", "document.download_pdf", "checklist.print"}
    codes |= {"cover.print", "document.update", "document.amend_declared"}
    codes |= {"document.view_page", "document.view_thumbnail", "class.edit", "class.retire"}
    codes |= {"class.field.add"}
    return codes


def test_every_audit_action_has_a_label() -> None:
    assert sorted(_recorded_actions() - set(ACTION_LABELS)) == []


def test_the_catalogue_has_no_fuzzy_or_empty_entry() -> None:
    with open(CATALOGUE / "messages.po", "rb") as handle:
        catalogue = read_po(handle)
    bad = [
        message.id
        for message in catalogue
        if message.id
        and (
            message.fuzzy
            or not message.string
            or (not isinstance(message.string, str) and not all(message.string))
        )
    ]
    assert bad == []


def _get(client: FlaskClient, address: str, failures: list[str], codes: set[str]) -> None:
    response = client.get(address, headers={"Accept": "text/html"}, follow_redirects=True)
    if response.status_code >= 500 or response.mimetype != "text/html":
        failures.append(f"{address}: {response.status_code} {response.mimetype}")
        return
    if any(address.split("?")[0].endswith(suffix) for suffix in WORDS_NOT_CHECKED):
        return
    html = response.get_data(as_text=True)
    leaked = visible_words(html) & codes
    if leaked:
        failures.append(f"{address}: raw codes {sorted(leaked)}")
    english = ENGLISH_RUN.findall(visible_text(html))
    if english:
        failures.append(f"{address}: English on a Chinese page {english}")


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_every_page_in_chinese(
    app: Flask,
    client: FlaskClient,
    container: Container,
    admin: User,
    people: dict[str, User],
    tmp_path: Path,
) -> None:
    case = showcase.build(container, admin, people, tmp_path / "scans")
    untranslated = record_untranslated(app)
    codes = raw_codes()
    failures: list[str] = []
    assert login(client, "admin", ADMIN_PASSWORD).status_code == 302
    post_form(client, "/language/zh_CN", {"next": "/dashboard"})
    walked = pages(app, case)
    admin_pages = (
        walked
        + [
            f"/documents/{number}"
            for number in (case.filed, case.held, case.destroyed, case.listed)
        ]
        + [
            f"/retention/batches/{case.executed_batch}",
            "/retention/plan?as_of=2026-12-31",
            "/search?q=付款单据",
            "/no-such-page",
            f"/documents/{case.destroyed}/original",
        ]
    )
    for address in admin_pages:
        _get(client, address, failures, codes)
    # The trail's values are evidence (not checked above), but its action column is said in
    # Chinese: a label that is its own code or English words was not translated.
    trail = client.get("/audit?limit=500").get_data(as_text=True)
    labels = re.findall(r'<span class="action-label">([^<]*)</span>', trail)
    assert labels, "the audit page shows no action"
    failures += [
        f"/audit: action {label!r}"
        for label in labels
        if re.fullmatch(r"[a-z_.]+", label) or ENGLISH_RUN.search(label)
    ]

    # No form the reader could only have refused: an admin may not approve destruction.
    approve = f'action="/retention/batches/{case.open_batch}/approve"'
    assert approve not in client.get(f"/retention/batches/{case.open_batch}").get_data(True)

    compliance = client.application.test_client()
    assert login(compliance, "comp1", USER_PASSWORD).status_code == 302
    post_form(compliance, "/language/zh_CN", {"next": "/dashboard"})
    for address in (
        f"/documents/{case.restricted}",
        f"/retention/batches/{case.executed_batch}",
        f"/retention/batches/{case.executed_batch}/certificate",
        f"/retention/erasure/{case.erasure_request}",
    ):
        _get(compliance, address, failures, codes)
    assert approve in compliance.get(f"/retention/batches/{case.open_batch}").get_data(True)
    archivist = client.application.test_client()
    assert login(archivist, "arch", USER_PASSWORD).status_code == 302
    post_form(archivist, "/language/zh_CN", {"next": "/dashboard"})
    _get(archivist, f"/documents/{case.restricted}", failures, codes)

    assert failures == [], "\n".join(failures)
    assert sorted(untranslated) == []
    assert len(walked) >= 20
