"""The periodic inspection as a recorded, scheduled run: the history keeps manual runs (with
who ran them) and scheduled ones; one run at a time; a damaged object fails the run and
notifies compliance and admins, not archivists or auditors; the inspection page shows the
latest run, its findings and the trend, to compliance, auditors and admins only; the
schedule setting is validated; and a real worker started with ``--beat`` runs it on the
schedule set through the environment.

Documents go through the real intake and processing in-process
(``tests.retention_app.conftest.add_document``); a stored blob file is damaged on disk as
the storage tamper tests do.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive_app.errors import InspectionRunning, PermissionDenied, SettingsError
from archive_app.infra import workers
from archive_app.infra.config import Settings, parse_inspection_schedule
from archive_app.infra.container import Container
from archive_app.infra.vault import store_root
from archive_app.models import (
    Document,
    InspectionRun,
    InspectionState,
    InspectionTrigger,
    User,
    WorkerKind,
)
from archive_app.models.base import utcnow
from archive_app.services import inspection_runs, notifications
from archive_app.tasks import INSPECTION, beat_schedule
from tests.app.helpers import login, post_form
from tests.app.workers import WorkerProcess
from tests.conftest import USER_PASSWORD
from tests.retention_app.conftest import add_document, make_archive
from tests.storage.conftest import blob_path

DAY = timedelta(days=1)


def _runs(container: Container) -> list[InspectionRun]:
    with container.database.session() as session:
        return list(session.scalars(select(InspectionRun).order_by(InspectionRun.id)))


def _damage_original(container: Container, number: str) -> None:
    with container.database.session() as session:
        document = session.scalar(select(Document).where(Document.number == number))
        assert document is not None
        path = blob_path(
            store_root(container.settings),
            document.archive.storage_id,
            document.original_object_id,
        )
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture
def damaged(container: Container, admin: User, tmp_path: Path) -> str:
    """One filed record whose original's blob file has a flipped byte."""
    archive = make_archive(container, admin)
    number = add_document(
        container, admin, archive, "voucher", tmp_path / "f", document_date=date(2020, 6, 1)
    )
    container.drain_index_updates()
    _damage_original(container, number)
    return number


def _client_as(client: FlaskClient, username: str, *, english: bool = True) -> FlaskClient:
    response = login(client, username, USER_PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    if english:
        post_form(client, "/language/en", {"next": "/inspection"})
    return client


# ---------------------------------------------------------------- history


def test_manual_and_scheduled_runs_are_recorded(
    container: Container, make_user, cli, admin: User
) -> None:
    comp = make_user("comp", "compliance")
    result = cli("verify", "--as", "comp")
    assert result.returncode == 0, result.stderr

    with workers.registered(container.database, WorkerKind.WORKER) as registration:
        scheduled = inspection_runs.run_scheduled(container, registration, DAY)
        assert scheduled is not None and scheduled.state == "passed"
        # A second beat within the interval has nothing to do, and says nothing.
        assert inspection_runs.run_scheduled(container, registration, DAY) is None

    manual, by_schedule = _runs(container)
    assert (manual.trigger, manual.state, manual.actor_id) == (
        InspectionTrigger.MANUAL,
        InspectionState.PASSED,
        comp.id,
    )
    assert manual.finished_at is not None and manual.findings_count == 0
    assert (by_schedule.trigger, by_schedule.actor_id, by_schedule.worker_id) == (
        InspectionTrigger.SCHEDULED,
        None,
        registration.worker_id,
    )
    with container.database.session() as session:
        newest, older = inspection_runs.history(session, comp)
    assert (newest.trigger, newest.actor) == ("scheduled", None)
    assert (older.trigger, older.actor) == ("manual", "comp")


def test_a_running_inspection_is_not_started_twice(
    container: Container, make_user, cli, admin: User
) -> None:
    comp = make_user("comp", "compliance")
    with workers.registered(container.database, WorkerKind.WORKER) as registration:
        with container.database.session() as session:
            session.add(
                InspectionRun(
                    trigger=InspectionTrigger.SCHEDULED,
                    state=InspectionState.RUNNING,
                    worker_id=registration.worker_id,
                    hostname="elsewhere",
                    pid=1,
                    documents=0,
                    objects_checked=0,
                    findings_count=0,
                    counts={},
                    findings=[],
                )
            )
        assert inspection_runs.run_scheduled(container, registration, DAY) is None
        with pytest.raises(InspectionRunning):
            inspection_runs.run_inspection(container, comp)
        refused = cli("verify", "--as", "comp")
        assert refused.returncode == 1
        assert "already running" in refused.stderr and "Traceback" not in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
        assert [r.state for r in _runs(container)] == [InspectionState.RUNNING]

    # Its worker has stopped: the run is closed as interrupted and a new one starts.
    run, _report = inspection_runs.run_inspection(container, comp)
    assert run.state == "passed"
    assert [r.state for r in _runs(container)] == [
        InspectionState.INTERRUPTED,
        InspectionState.PASSED,
    ]


def test_only_compliance_and_admins_run_it(container: Container, make_user) -> None:
    for role in ("archivist", "staff", "auditor"):
        with pytest.raises(PermissionDenied):
            inspection_runs.run_inspection(container, make_user(f"u-{role}", role))
    assert _runs(container) == []


# ---------------------------------------------------------------- a damaged object


def test_a_damaged_object_fails_the_run_and_notifies_compliance_and_admins(
    container: Container, damaged: str, make_user, admin: User, client: FlaskClient
) -> None:
    comp = make_user("comp", "compliance")
    archivist = make_user("arch", "archivist")
    auditor = make_user("aud", "auditor")
    run, report = inspection_runs.run_inspection(container, comp)
    assert (run.state, run.findings_count, run.counts) == ("failed", 1, {"damaged": 1})
    assert [(f.problem.value, f.document) for f in report.findings] == [("damaged", damaged)]
    [stored] = _runs(container)
    assert stored.findings[0]["document"] == damaged and stored.findings[0]["object"] == "original"

    with container.database.session() as session:
        for reader in (comp, admin):
            [note] = notifications.list_notifications(session, reader)
            assert (note.kind, note.inspection_run_id, note.counts) == (
                "inspection",
                run.id,
                {"damaged": 1},
            )
            assert notifications.unread_count(session, reader) == 1
        # Auditors read the appraisal's notes, not the inspection's; archivists only the
        # review queue's reminders.
        assert notifications.list_notifications(session, auditor) == []
        assert notifications.unread_count(session, archivist) == 0
        assert notifications.list_notifications(session, archivist) == []

    # Shown where notifications are shown: the retention page.
    _client_as(client, "comp")
    page = client.get("/retention/").get_data(as_text=True)
    assert "The inspection found 1 problem" in page
    assert 'href="/inspection"' in page


def test_the_page_shows_the_latest_run_and_its_finding(
    container: Container, damaged: str, make_user, client: FlaskClient
) -> None:
    make_user("comp", "compliance")
    assert inspection_runs.run_inspection(container, None)[0].state == "failed"

    _client_as(client, "comp")
    response = client.get("/inspection")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="latest-inspection"' in page
    assert "Problems found" in page and "Damaged object" in page
    assert damaged in page and "Original" in page
    assert 'id="trend"' in page and "Scheduled" in page
    assert 'href="/inspection"' in page  # the side menu

    post_form(client, "/language/zh_CN", {"next": "/inspection"})
    page = client.get("/inspection").get_data(as_text=True)
    assert "对象损坏" in page and "发现问题" in page and damaged in page


def test_findings_above_the_readers_clearance_are_withheld(
    container: Container, damaged: str, make_user, app
) -> None:
    # The damaged record's archive is internal; this auditor is cleared for public only.
    make_user("aud-low", "auditor", clearance="public")
    make_user("aud", "auditor")
    inspection_runs.run_inspection(container, None)

    low = _client_as(app.test_client(), "aud-low")
    page = low.get("/inspection").get_data(as_text=True)
    assert damaged not in page and "KH-000001" not in page
    assert "1 finding concerns archives above your clearance" in page
    assert "Problems found" in page  # the run itself is not hidden

    cleared = _client_as(app.test_client(), "aud")
    assert damaged in cleared.get("/inspection").get_data(as_text=True)


def test_the_page_is_for_compliance_auditors_and_admins(
    container: Container, make_user, app
) -> None:
    make_user("aud", "auditor")
    make_user("staff1", "staff")
    make_user("arch", "archivist")
    with workers.registered(container.database, WorkerKind.WORKER) as registration:
        inspection_runs.run_scheduled(container, registration, DAY)

    auditor = _client_as(app.test_client(), "aud")
    page = auditor.get("/inspection").get_data(as_text=True)
    assert "Passed" in page and 'href="/inspection"' in page

    for name in ("staff1", "arch"):
        other = _client_as(app.test_client(), name)
        response = other.get("/inspection")
        assert response.status_code == 403
        assert "Passed" not in response.get_data(as_text=True)
        assert 'href="/inspection"' not in other.get("/archives").get_data(as_text=True)


# ---------------------------------------------------------------- the setting


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("daily", 86400), ("hourly", 3600), ("6h", 21600), ("30m", 1800), ("2s", 2), ("off", None)],
)
def test_the_schedule_setting_is_read(raw: str, seconds: int | None) -> None:
    assert parse_inspection_schedule(raw) == seconds
    settings = Settings.from_env({"ARCHIVE_INSPECTION_SCHEDULE": raw.upper()})
    assert settings.inspection_interval_seconds == seconds
    entry = beat_schedule(settings).get("inspection")
    assert entry == (None if seconds is None else {"task": INSPECTION, "schedule": seconds})


def test_the_default_schedule_is_daily() -> None:
    assert Settings.from_env({}).inspection_interval_seconds == 86400


@pytest.mark.parametrize("raw", ["weekly", "0h", "-1h", "6 hours", "1.5h", "9999999d"])
def test_a_bad_schedule_stops_the_start_naming_the_setting(
    raw: str, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"ARCHIVE_INSPECTION_SCHEDULE": raw})
    assert error.value.variable == "ARCHIVE_INSPECTION_SCHEDULE"
    assert "ARCHIVE_INSPECTION_SCHEDULE" in str(error.value)

    monkeypatch.setenv("ARCHIVE_INSPECTION_SCHEDULE", raw)
    result = cli("verify")
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert "ARCHIVE_INSPECTION_SCHEDULE" in line and "Traceback" not in result.stderr


# ---------------------------------------------------------------- in a real worker


@pytest.mark.slow
def test_a_worker_with_beat_runs_the_scheduled_inspection_and_notifies(
    instance_settings: Settings, container: Container, damaged: str, tmp_path: Path
) -> None:
    worker = WorkerProcess(
        instance_settings, tmp_path / "worker.log", beat=True, ARCHIVE_INSPECTION_SCHEDULE="2s"
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            runs = [r for r in _runs(container) if r.state != InspectionState.RUNNING]
            if runs:
                break
            assert worker.process.poll() is None, worker.output()
            assert time.monotonic() < deadline, worker.output()
            time.sleep(0.5)
    finally:
        worker.stop()
    run = runs[0]
    assert (run.trigger, run.state, run.actor_id) == (
        InspectionTrigger.SCHEDULED,
        InspectionState.FAILED,
        None,
    )
    assert run.worker_id is not None and run.findings[0]["document"] == damaged
    assert run.started_at > utcnow() - timedelta(minutes=5)
    with container.database.session() as session:
        admin = session.scalar(select(User).where(User.username == "admin"))
        assert admin is not None
        kinds = [
            (n.kind, n.inspection_run_id) for n in notifications.list_notifications(session, admin)
        ]
    assert ("inspection", run.id) in kinds
