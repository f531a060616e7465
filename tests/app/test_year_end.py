"""The year-end review (年终整理): the figures on a prepared instance, per archive and in
total; a lower clearance sees fewer archives (counted, never named); the sign-off by a
compliance user, recorded with the figures' hash and audited, once per year and scope;
the command line's exit codes and JSON; the screen, print and PDF reports.

Documents are born-digital PDFs taken in through the real intake; their reading is stood in
for (status, title, fields) as the checklist tests do, then they go through the checklist,
location and version services. Two things are written directly: a record's date and
declaration day in an earlier year (the clock cannot be turned back), and the inspection
history rows (a real inspection's findings are tested in test_inspection_history).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pypdf
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive_app.errors import (
    NotFound,
    PermissionDenied,
    YearEndAlreadySignedOff,
    YearEndScopeHidden,
)
from archive_app.infra.container import Container
from archive_app.models import (
    AuditEntry,
    Document,
    DocumentStatus,
    InspectionRun,
    InspectionState,
    InspectionTrigger,
    User,
    YearEndReview,
)
from archive_app.models.base import utcnow
from archive_app.services import archives, checklist, locations, versions, year_end
from archive_app.services.archives import ArchiveInput
from archive_app.services.intake import IntakeItem, take_in
from tests import documents as docs
from tests.app.helpers import csrf_token, login
from tests.conftest import USER_PASSWORD

YEAR = utcnow().year
CONTRACT_FIELDS = {
    "counterparty": "北京华信科技有限公司",
    "contract_number": "HT-2026-0315",
    "sign_date": "2026-03-05",
    "end_date": "2027-03-04",
    "amount": "128000.00",
}


class Instance:
    """Two archives (internal A, secret S), the people, and helpers to file into them."""

    def __init__(self, container: Container, admin: User, make_user, folder: Path) -> None:
        self.container = container
        self.folder = folder
        self.count = 0
        self.filer = make_user("arch1", "archivist", "secret")
        self.reviewer = make_user("arch2", "archivist", "secret")
        self.comp = make_user("comp1", "compliance")
        self.comp_low = make_user("comp.low", "compliance", "internal")
        self.auditor_low = make_user("aud.low", "auditor", "internal")
        self.staff = make_user("staff1", "staff")
        self.a = self._archive(admin, "上海明远贸易有限公司", "internal")
        self.s = self._archive(admin, "机密客户有限公司", "secret")

    def _archive(self, admin: User, name: str, level: str) -> str:
        with self.container.database.session() as session:
            return archives.create_archive(
                session,
                admin,
                ArchiveInput(name=name, level=level),
                number_pattern="KH-{seq:06d}",
                on_created=self.container.on_archive_created,
            ).number

    def take_in(self, archive: str, class_code: str) -> str:
        self.count += 1
        path = docs.write_text_pdf(
            [[f"Record {self.count} {class_code}", "年终整理 year-end"]],
            self.folder / f"record-{self.count}.pdf",
        )
        [result] = take_in(
            self.container,
            self.filer.id,
            archive,
            [IntakeItem(path, f"record-{self.count}.pdf")],
            default_class=class_code,
        )
        assert result.status == "queued" and result.document, result
        # Stand-in for the worker's reading: the test is about the year, not OCR.
        with self.container.database.session() as session:
            document = session.scalars(
                select(Document).where(Document.number == result.document)
            ).one()
            document.status = DocumentStatus.READY
            document.title = f"记录 {self.count}"
            document.fields = dict(CONTRACT_FIELDS)
        return result.document

    def submitted(self, archive: str) -> str:
        number = self.take_in(archive, "contract")
        with self.container.database.session() as session:
            checklist.submit(session, self.filer, number)
        return number

    def filed(self, archive: str) -> str:
        number = self.submitted(archive)
        with self.container.database.session() as session:
            checklist.confirm(session, self.reviewer, number)
        return number

    def locate(self, number: str) -> None:
        with self.container.database.session() as session:
            locations.set_location(session, self.filer, number, room="A101", shelf="3", box="12")

    def change(self, number: str, **values) -> None:
        with self.container.database.session() as session:
            document = session.scalars(select(Document).where(Document.number == number)).one()
            for name, value in values.items():
                setattr(document, name, value)

    def inspection(self, started: datetime, findings: list[dict]) -> None:
        with self.container.database.session() as session:
            session.add(
                InspectionRun(
                    trigger=InspectionTrigger.SCHEDULED,
                    state=InspectionState.FAILED if findings else InspectionState.PASSED,
                    hostname="test",
                    pid=1,
                    started_at=started,
                    heartbeat_at=started,
                    finished_at=started,
                    documents=10,
                    objects_checked=30,
                    findings_count=len(findings),
                    counts={"damaged": len(findings)} if findings else {},
                    findings=findings,
                )
            )


def _finding(problem: str, archive: str) -> dict:
    return {"problem": problem, "archive": archive, "document": None, "detail": "x"}


@pytest.fixture
def instance(container: Container, admin: User, make_user, tmp_path: Path) -> Instance:
    """Archive A: a contract filed, located, then corrected (a version waits for review);
    an invoice declared with its date in YEAR-10 (due for appraisal next year) and no
    location; a line awaiting review; a draft voucher line; a contract filed last year,
    unlocated. Archive S (secret): a contract filed without location. The latest
    inspection of the year found one damaged object in each archive."""
    inst = Instance(container, admin, make_user, tmp_path)
    corrected = inst.filed(inst.a)
    inst.locate(corrected)
    replacement = docs.write_text_pdf([["Corrected record", "更正"]], tmp_path / "fix.pdf")
    versions.add_version(container, inst.filer.id, corrected, replacement, "fix.pdf")

    invoice = inst.take_in(inst.a, "invoice")
    inst.change(
        invoice,
        document_date=date(YEAR - 10, 6, 1),
        declared_at=utcnow(),
        declared_by_id=inst.reviewer.id,
    )
    inst.submitted(inst.a)
    inst.take_in(inst.a, "voucher")
    last_year = inst.filed(inst.a)
    earlier = datetime(YEAR - 1, 6, 1, tzinfo=UTC)
    inst.change(last_year, created_at=earlier, declared_at=earlier)

    inst.filed(inst.s)

    # An older run of the year and one of last year: only the year's latest counts.
    inst.inspection(datetime(YEAR - 1, 12, 30, tzinfo=UTC), [_finding("missing", inst.a)] * 5)
    inst.inspection(datetime(YEAR, 1, 2, tzinfo=UTC), [_finding("damaged", inst.a)] * 3)
    inst.inspection(
        datetime(YEAR, 1, 3, tzinfo=UTC),
        [
            _finding("damaged", inst.a),
            _finding("damaged", inst.s),
            _finding("index_missing", inst.a),  # not a fixity problem
        ],
    )
    return inst


def _review(container: Container, user: User, year: int = YEAR, archive: str | None = None):
    with container.database.session() as session:
        return year_end.review(session, user, year, archive)


# ---------------------------------------------------------------- the figures


def test_the_figures_per_archive_and_in_total(container: Container, instance: Instance) -> None:
    review = _review(container, instance.comp)
    figures = {row.archive: row.as_dict() for row in review.archives}
    assert review.hidden_archives == 0
    assert figures[instance.a] == {
        "archive": instance.a,
        "name": "上海明远贸易有限公司",
        "level": "internal",
        "filed": {"contract": 1, "invoice": 1},
        "filed_total": 2,
        "unconfirmed": {"draft": 1, "awaiting_review": 1},
        "unconfirmed_total": 2,
        # The invoice of this year and the contract of last year; the corrected one is located.
        "unlocated": 2,
        "paper_not_returned": None,
        "versions_awaiting_review": 1,
        "appraisal_due": 1,
        "fixity_problems": 1,
    }
    assert figures[instance.s]["filed"] == {"contract": 1}
    assert figures[instance.s]["unlocated"] == 1
    assert figures[instance.s]["fixity_problems"] == 1
    total = review.as_dict()["total"]
    assert total["filed"] == {"contract": 2, "invoice": 1}
    assert (total["unconfirmed_total"], total["unlocated"], total["fixity_problems"]) == (2, 3, 2)
    assert review.as_dict()["borrowing_register"] is False
    assert review.inspection is not None and review.inspection["started_at"].startswith(
        f"{YEAR}-01-03"
    )

    earlier = _review(container, instance.comp, YEAR - 1)
    assert earlier.total.filed == {"contract": 1}
    assert earlier.total.unlocated == 1  # only what was declared by that year's end
    assert earlier.total.fixity_problems == 5

    one = _review(container, instance.comp, archive=instance.s)
    assert [row.archive for row in one.archives] == [instance.s]
    assert one.scope == instance.s and one.total.filed_total == 1


def test_a_lower_clearance_sees_only_its_archives(container: Container, instance: Instance) -> None:
    review = _review(container, instance.auditor_low)
    assert [row.archive for row in review.archives] == [instance.a]
    assert review.hidden_archives == 1
    assert review.total.filed == {"contract": 1, "invoice": 1}
    assert review.total.fixity_problems == 1
    assert instance.s not in json.dumps(review.as_dict(), ensure_ascii=False)
    with pytest.raises(NotFound):
        _review(container, instance.auditor_low, archive=instance.s)
    with pytest.raises(PermissionDenied):
        _review(container, instance.staff)


# ---------------------------------------------------------------- signing off


def test_sign_off_is_recorded_audited_and_not_repeated(
    container: Container, instance: Instance, admin: User
) -> None:
    with container.database.session() as session, pytest.raises(PermissionDenied):
        year_end.sign_off(session, admin, YEAR)
    with (
        container.database.session() as session,
        pytest.raises(YearEndScopeHidden, match="1 archive"),
    ):
        year_end.sign_off(session, instance.comp_low, YEAR)
    with container.database.session() as session:
        # Within their clearance the lower-cleared compliance user may sign an archive off.
        year_end.sign_off(session, instance.comp_low, YEAR, instance.a)
    with container.database.session() as session:
        signed = year_end.sign_off(session, instance.comp, YEAR)
    assert signed.sign_off is not None and signed.sign_off.signed_by == "comp1"

    with container.database.session() as session:
        row = session.scalars(select(YearEndReview).where(YearEndReview.scope == "all")).one()
        assert row.figures_sha256 == year_end.figures_hash(row.figures)
        assert row.figures["total"]["filed_total"] == 3
        entry = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "year_end.sign_off")
            .order_by(AuditEntry.seq)
        ).all()[-1]
        assert entry.object_id == f"{YEAR}/all"
        assert entry.after["figures_sha256"] == row.figures_sha256
        assert entry.after["filed"] == 3

    with (
        container.database.session() as session,
        pytest.raises(YearEndAlreadySignedOff, match="comp1"),
    ):
        year_end.sign_off(session, instance.comp, YEAR)
    review = _review(container, instance.comp)
    assert review.sign_off is not None and review.sign_off.current
    # A late confirmation changes the figures: the review says they differ from the signed.
    instance.filed(instance.a)
    assert _review(container, instance.comp).sign_off.current is False


# ---------------------------------------------------------------- command line


def test_cli_exit_codes_and_json(cli, instance: Instance, tmp_path: Path) -> None:
    result = cli("review", "year-end", str(YEAR), "--json", "--as", "aud.low")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [row["archive"] for row in report["archives"]] == [instance.a]
    assert report["hidden_archives"] == 1 and report["sign_off"] is None

    pdf = tmp_path / "year-end.pdf"
    assert cli("review", "year-end", str(YEAR), "--pdf", str(pdf)).returncode == 0
    assert pdf.read_bytes().startswith(b"%PDF")

    one = cli("review", "year-end", str(YEAR), "--archive", instance.a, "--json", "--as", "comp1")
    assert json.loads(one.stdout)["scope"] == instance.a

    assert cli("review", "year-end", "last-year").returncode == 2
    for args, reason in (
        ([str(YEAR + 1)], "year"),
        ([str(YEAR), "--archive", instance.s, "--as", "aud.low"], "not found"),
        ([str(YEAR), "--sign-off", "--as", "comp.low"], "1 archive(s) in scope"),
        ([str(YEAR), "--sign-off"], "may not sign off"),  # admin
    ):
        refused = cli("review", "year-end", *args)
        assert refused.returncode == 1, (args, refused.stdout)
        assert reason in refused.stderr and len(refused.stderr.strip().splitlines()) == 1

    signed = cli("review", "year-end", str(YEAR), "--sign-off", "--as", "comp1", "--json")
    assert signed.returncode == 0, signed.stderr
    assert json.loads(signed.stdout)["sign_off"]["signed_by"] == "comp1"
    again = cli("review", "year-end", str(YEAR), "--sign-off", "--as", "comp1")
    assert again.returncode == 1 and "already signed off" in again.stderr


# ---------------------------------------------------------------- web


def _client(app, username: str, language: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    assert login(client, username, USER_PASSWORD).status_code == 302
    return client


def test_page_sign_off_print_and_pdf(app, instance: Instance) -> None:
    staff = _client(app, "staff1", "en")
    assert staff.get(f"/review/year-end/{YEAR}").status_code == 403
    assert "/review/year-end" not in staff.get("/archives").get_data(as_text=True)

    auditor = _client(app, "aud.low", "en")
    assert "Year-end review" in auditor.get("/archives").get_data(as_text=True)
    page = auditor.get(f"/review/year-end/{YEAR}").get_data(as_text=True)
    assert instance.a in page and instance.s not in page
    assert "1 archive above your clearance is not included." in page
    assert "Sign off</button>" not in page
    assert auditor.get(f"/review/year-end/{YEAR}?archive={instance.s}").status_code == 404

    comp = _client(app, "comp1", "en")
    page = comp.get(f"/review/year-end/{YEAR}").get_data(as_text=True)
    assert "Sign off</button>" in page and instance.s in page
    response = comp.post(
        f"/review/year-end/{YEAR}/sign-off",
        data={"csrf_token": csrf_token(comp, f"/review/year-end/{YEAR}")},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert f"The year-end review {YEAR} is signed off." in response.get_data(as_text=True)
    again = comp.post(
        f"/review/year-end/{YEAR}/sign-off",
        data={"csrf_token": csrf_token(comp, f"/review/year-end/{YEAR}")},
    )
    assert again.status_code == 409

    chinese = _client(app, "comp1", "zh-CN")
    screen = chinese.get(f"/review/year-end/{YEAR}").get_data(as_text=True)
    assert "年终整理" in screen and "已由 comp1 签核" in screen
    for client, toolbar in (
        (chinese, "请使用浏览器的打印功能"),
        (comp, "Use your browser's print command"),
    ):
        printed = client.get(f"/review/year-end/{YEAR}/print").get_data(as_text=True)
        assert toolbar in printed
        # The sheet itself is bilingual, whatever the screen language.
        assert "年终整理" in printed and "Year-end review" in printed
        assert "no borrowing register" in printed and "本系统无借阅登记" in printed
        assert 'id="signed-off"' in printed and "comp1" in printed

    pdf = comp.get(f"/review/year-end/{YEAR}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    assert "年终整理" in text and "Year-end review" in text and instance.a in text
