"""The audit viewer with 100,000 entries: ``/audit`` over real HTTP, its exports, and
``archive audit list``, on SQLite and PostgreSQL.

Usage: python bench/audit.py [--entries 100000] [--requests 20] [--export-requests 10]
                             [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                             [--only sqlite|postgresql] [--explain] [--seed 1]

Set-up per database (not timed): an instance made by ``archive init`` (SQLite in a
temporary folder; on ``--server`` a fresh database, dropped afterwards), 12 users (staff,
archivists, compliance, two auditors, the admin), 40 customer archives at the four
clearance levels, then audit entries up to ``--entries`` written through the audit
service itself (:func:`archive_app.services.audit.record` one by one for views, updates
with before/after values, refusals and failed logins; :func:`record_many` for bursts of
intake, processing and destruction), so every entry is hashed and chained as in use. The
mix: documents taken in, processed, viewed, updated, located; archives viewed and
updated; checklist lines; retention batches and destructions; logins, logouts, failed
logins (unknown names among them), refusals, password changes, audit views. The service's
clock is set by this script while seeding (the only thing replaced), so the entries are
spread over three years (2023-12-01 to 2026-11-30) in order; it is given back before any
request is measured. PostgreSQL is then analysed (``VACUUM ANALYZE``, what autovacuum
does on its own after such a load); SQLite is left as the application leaves it.

Measured: one ``archive serve --no-worker`` process on a free loopback port; a
``requests`` session logged in as ``auditor1`` (clearance ``internal``: entries about
confidential and secret archives are withheld, so the clearance lookups run). Per case,
2 requests to warm up, then ``--requests`` timed requests one after another (the whole
answer read); printed: median, p95 and max, and whether the median and p95 are under
300 ms. Cases: the first page unfiltered; page 50, reached once through the page's own
"older" links (the walk's median per page is printed too); each filter alone (actor,
action exact and as a prefix, a rare prefix, object type, object number, outcome, a
one-month range); a combination; and the CSV and JSON Lines export of a filtered view of
about 10,000 entries (``--export-requests`` each). Every request is itself audited, as in
use, so the trail grows while it is measured. Then ``archive audit list --limit 50 --as
auditor1`` five times as a child process (wall time, start-up included; ``archive
--help`` beside it for the start-up alone). ``--explain`` prints the database's plan
of each case's listing query.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median, quantiles

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from instances import scratch_instance  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from webserver import free_port, logged_in, wait_listening  # noqa: E402

from archive_app.infra.config import Settings  # noqa: E402
from archive_app.infra.container import Container  # noqa: E402
from archive_app.models import AuditEntry, AuditHead, CustomerArchive, User  # noqa: E402
from archive_app.services import archives, bootstrap, users  # noqa: E402
from archive_app.services import audit as audit_service  # noqa: E402
from archive_app.services.archives import ArchiveInput  # noqa: E402
from archive_app.services.audit_query import AuditFilter  # noqa: E402

PASSWORD = "bench-password-123"
START = datetime(2023, 12, 1, 1, 0, tzinfo=UTC)
END = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
GOAL = 0.300
OLDER = re.compile(r'id="older" href="([^"]+)"')
LEVELS = ("public", "internal", "confidential", "secret")
PEOPLE = [
    *[(f"staff{n}", "staff", "internal") for n in range(1, 6)],
    ("arch1", "archivist", "confidential"),
    ("arch2", "archivist", "secret"),
    ("comp1", "compliance", "secret"),
    ("comp2", "compliance", "secret"),
    ("auditor1", "auditor", "internal"),
    ("auditor2", "auditor", "secret"),
]
UNKNOWN_NAMES = ["root", "administrator", "test", "zhangwei", "guest", "li.na"]
FIELDS = ("contact", "address", "business_unit", "notes", "tax_id")
CLASSES = ("voucher", "ledger", "report", "contract", "invoice")


class Clock:
    """The audit service's clock while seeding: moves forward by each event's share of
    the remaining span, so ``--entries`` entries end near :data:`END`."""

    def __init__(self, draw: random.Random) -> None:
        self.now = START
        self.draw = draw

    def __call__(self) -> datetime:
        # Entries of one burst are a few milliseconds apart, like a bulk write.
        self.now += timedelta(microseconds=self.draw.randint(50, 3000))
        return self.now

    def advance(self, share: float) -> None:
        remaining = (END - self.now).total_seconds()
        self.now += timedelta(seconds=max(1.0, remaining * share * self.draw.expovariate(1.0)))


@dataclass
class World:
    admin: User
    people: dict[str, User]
    archives: list[tuple[str, str]]  # (number, level)
    documents: int = 0
    batches: int = 0


def seed(container: Container, target: int, draw: random.Random) -> None:
    """Create the users and archives, then write entries until the trail holds ``target``."""
    with container.database.session() as session:
        admin = bootstrap.get_admin(session)
        assert admin is not None
        for name, role, clearance in PEOPLE:
            users.create_user(
                session, admin, username=name, role=role, password=PASSWORD, clearance=clearance
            )
    for index in range(40):
        with container.database.session() as session:
            admin = bootstrap.get_admin(session)
            archives.create_archive(
                session,
                admin,
                ArchiveInput(name=f"客户 {index:02d}", level=LEVELS[index % 4]),
                number_pattern="KH-{seq:06d}",
                on_created=container.on_archive_created,
            )
    clock = Clock(draw)
    real_clock = audit_service.utcnow
    audit_service.utcnow = clock
    try:
        while True:
            with container.database.session() as session:
                written = session.get(AuditHead, 1).last_seq
                if written >= target:
                    return
                world = World(
                    admin=bootstrap.get_admin(session),
                    people={u.username: u for u in session.scalars(select(User))},
                    archives=[
                        (number, str(level))
                        for number, level in session.execute(
                            select(CustomerArchive.number, CustomerArchive.level).order_by(
                                CustomerArchive.number
                            )
                        )
                    ],
                    documents=written,  # document numbers: any below the count so far
                )
                chunk = 0
                while chunk < 2000 and written + chunk < target:
                    n = event(session, world, draw, min(target - written - chunk, 200))
                    clock.advance(n / max(1, target - written - chunk))
                    chunk += n
            print(f"  seeded {written + chunk} entries", flush=True)
    finally:
        audit_service.utcnow = real_clock


def event(session, world: World, draw: random.Random, room: int) -> int:
    """Write one event's entries (at most ``room``); returns how many."""
    record = audit_service.record
    staff = [world.people[n] for n in ("staff1", "staff2", "staff3", "staff4", "staff5")]
    keepers = [world.people[n] for n in ("arch1", "arch2")]
    compliance = [world.people[n] for n in ("comp1", "comp2")]
    auditors = [world.people[n] for n in ("auditor1", "auditor2")]
    number, _level = draw.choice(world.archives)
    roll = draw.random()
    if roll < 0.10 and room >= 2:  # an intake burst, then the worker's processing
        size = min(room // 2, draw.randint(1, 40))
        who = draw.choice(staff + keepers)
        first = world.documents
        world.documents += size
        docs = [f"D-{first + k:07d}" for k in range(size)]
        klass = draw.choice(CLASSES)
        audit_service.record_many(
            session,
            who,
            "document.create",
            "document",
            [(d, {"archive": number, "class": klass, "filename": f"{d}.pdf"}) for d in docs],
        )
        audit_service.record_many(
            session, None, "document.processed", "document", [(d, {"pages": 2}) for d in docs]
        )
        return 2 * size
    if roll < 0.12 and room >= 10:  # a destruction: batch entries, then the records
        size = min(room - 4, draw.randint(5, 150))
        world.batches += 1
        batch = f"XH-{2024 + world.batches % 3}-{world.batches:04d}"
        first, second = draw.sample(compliance, 2)
        record(session, first, "retention.batch.create", "disposition_batch", batch)
        record(session, first, "retention.batch.approve", "disposition_batch", batch)
        record(session, second, "retention.batch.approve", "disposition_batch", batch)
        audit_service.record_many(
            session,
            second,
            "document.destroy",
            "document",
            [
                (f"D-{draw.randrange(max(1, world.documents)):07d}", {"batch": batch})
                for _ in range(size)
            ],
        )
        record(
            session,
            second,
            "retention.batch.execute",
            "disposition_batch",
            batch,
            after={"destroyed": size},
        )
        return size + 4
    if roll < 0.42:  # someone reads an archive or a document
        who = draw.choice(staff + keepers + auditors)
        if draw.random() < 0.5:
            record(session, who, "archive.view", "archive", number)
        else:
            doc = f"D-{draw.randrange(max(1, world.documents)):07d}"
            record(session, who, "document.view", "document", doc, after={"archive": number})
        return 1
    if roll < 0.52:  # an archive's details changed
        field = draw.choice(FIELDS)
        record(
            session,
            draw.choice(staff + keepers),
            "archive.update",
            "archive",
            number,
            before={field: f"旧 {draw.randrange(10**6)}"},
            after={field: f"新 {draw.randrange(10**6)}"},
        )
        return 1
    if roll < 0.62:  # a document's metadata or its paper location
        doc = f"D-{draw.randrange(max(1, world.documents)):07d}"
        who = draw.choice(staff + keepers)
        if draw.random() < 0.5:
            record(
                session,
                who,
                "document.update",
                "document",
                doc,
                before={"title": f"凭证 {doc}", "class": "voucher"},
                after={"title": f"记账凭证 {doc}", "class": draw.choice(CLASSES)},
            )
        else:
            record(
                session,
                who,
                "document.locate",
                "document",
                doc,
                after={
                    "location": f"A{draw.randint(1, 9)}-{draw.randint(1, 40)}-{draw.randint(1, 6)}"
                },
            )
        return 1
    if roll < 0.70:  # the filing checklist
        doc = f"D-{draw.randrange(max(1, world.documents)):07d}"
        action = draw.choice(("checklist.submit", "checklist.confirm", "checklist.reject"))
        record(session, draw.choice(keepers + compliance), action, "document", doc)
        return 1
    if roll < 0.86:  # a login or logout
        who = draw.choice([*staff, *keepers, *compliance, *auditors, world.admin])
        action = "user.login" if draw.random() < 0.6 else "user.logout"
        record(session, who, action, "user", who.username)
        return 1
    if roll < 0.90:  # a failed login: a known or an unknown name
        name = draw.choice([*UNKNOWN_NAMES, "staff1", "staff3", "admin"])
        record(
            session,
            None,
            "user.login_failed",
            "user",
            name,
            after={
                "reason": "wrong user name or password",
                "address": f"10.0.0.{draw.randint(2, 250)}",
            },
            outcome=audit_service.FAILED,
            actor_name="anonymous",
        )
        return 1
    if roll < 0.95:  # a refusal: above the clearance, or a capability not held
        who = draw.choice(staff)
        secret = [n for n, lv in world.archives if lv in ("confidential", "secret")]
        if draw.random() < 0.7:
            record(
                session,
                who,
                "access.refused",
                "archive",
                draw.choice(secret),
                after={"where": "archives.detail", "reason": "above the user's clearance"},
                outcome=audit_service.REFUSED,
            )
        else:
            record(
                session,
                who,
                "access.refused",
                "capability",
                "read the audit trail",
                after={"where": "audit.page", "reason": "not allowed", "code": "forbidden"},
                outcome=audit_service.REFUSED,
            )
        return 1
    if roll < 0.97:  # retention housekeeping
        action = draw.choice(
            ("retention.hold.create", "retention.hold.release", "retention.appraisal")
        )
        record(
            session, draw.choice(compliance), action, "archive", number, after={"reason": "bench"}
        )
        return 1
    if roll < 0.98:  # a password change
        who = draw.choice(staff + keepers)
        record(session, who, "password.change", "user", who.username, after={"sessions_ended": 1})
        return 1
    record(  # an auditor reads the trail
        session,
        draw.choice(auditors),
        "audit.view",
        "audit_trail",
        "entries",
        after={"filters": {}, "before": None, "limit": 50, "shown": 50},
    )
    return 1


@dataclass(frozen=True)
class Case:
    name: str
    params: dict[str, str]
    export: str | None = None  # csv or jsonl


def pick_cases(engine) -> tuple[list[Case], int]:
    """The cases, with values taken from the seeded trail; and the export view's size."""
    with engine.connect() as connection:
        total = connection.scalar(select(func.max(AuditEntry.seq)))
        # An export of about 10,000 entries: the days between two entries 10,000 apart.
        low = connection.scalar(select(AuditEntry.at).where(AuditEntry.seq == total // 2))
        high = connection.scalar(
            select(AuditEntry.at).where(AuditEntry.seq == min(total, total // 2 + 10000))
        )
        month = connection.scalar(select(AuditEntry.at).where(AuditEntry.seq == total // 3))
        number = connection.scalar(
            select(AuditEntry.object_id)
            .where(AuditEntry.object_type == "archive")
            .order_by(AuditEntry.object_id)
            .limit(1)
            .offset(13)
        )
    since, until = low.date(), (high - timedelta(days=1)).date()
    export_view = {"since": since.isoformat(), "until": until.isoformat()}
    with engine.connect() as connection:
        exported = connection.scalar(
            AuditFilter.parse(**export_view).apply(select(func.count(AuditEntry.seq)))
        )
    cases = [
        Case("first page, no filter", {}),
        Case("actor (staff3)", {"actor": "staff3"}),
        Case("action exact (archive.update)", {"action": "archive.update"}),
        Case("action prefix (retention.*)", {"action": "retention.*"}),
        Case("action prefix, rare (password.*)", {"action": "password.*"}),
        Case("object type (batch)", {"object_type": "batch"}),
        Case(f"object (archive {number})", {"object_type": "archive", "object_id": number}),
        Case("outcome (refused)", {"outcome": "refused"}),
        Case(
            "date range (one month)",
            {
                "since": month.date().isoformat(),
                "until": (month + timedelta(days=30)).date().isoformat(),
            },
        ),
        Case(
            "combination (staff2, document.*, ok, one year)",
            {
                "actor": "staff2",
                "action": "document.*",
                "outcome": "ok",
                "since": "2025-01-01",
                "until": "2025-12-31",
            },
        ),
        Case(f"export CSV ({exported} entries)", export_view, "csv"),
        Case(f"export JSONL ({exported} entries)", export_view, "jsonl"),
    ]
    return cases, exported


def explain(engine, case: Case, before: int | None = None) -> str:
    query = AuditFilter.parse(**case.params).apply(select(AuditEntry))
    if before is not None:
        query = query.where(AuditEntry.seq < before)
    return plan(engine, query.order_by(AuditEntry.seq.desc()).limit(51))


def plan(engine, query) -> str:
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
    with engine.connect() as connection:
        rows = connection.execute(text(prefix + sql)).all()
    lines = [str(row[-1]) for row in rows]
    return "\n".join(f"      {line}" for line in lines)


def timed(call: Callable[[], requests.Response], count: int, warm: int = 2) -> list[float]:
    for _ in range(warm):
        call().raise_for_status()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        answer = call()
        _ = answer.content
        times.append(time.perf_counter() - started)
        answer.raise_for_status()
    return times


def figures(times: list[float]) -> str:
    p95 = quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]
    mid = median(times)
    verdict = "yes" if p95 < GOAL else ("median only" if mid < GOAL else "NO")
    return (
        f"median {mid * 1000:6.0f} ms  p95 {p95 * 1000:6.0f} ms  max {max(times) * 1000:6.0f} ms"
        f"  < 300 ms: {verdict}"
    )


def env_for(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "ARCHIVE_HOME": str(settings.home),
        "ARCHIVE_DATABASE_URL": settings.database_url,
        "ARCHIVE_SECRET_KEY": settings.secret_key or "",
    }


def serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "archive_app", "serve", "--no-worker", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    wait_listening(base, process, log)
    return process, base


def measure(settings: Settings, args: argparse.Namespace, workdir: Path) -> None:
    engine = create_engine(settings.database_url)
    cases, _ = pick_cases(engine)
    env = env_for(settings)
    process, base = serve(env, workdir / "serve.log")
    try:
        client, _token = logged_in(base, "auditor1", PASSWORD)
        client.headers["Accept-Language"] = "en"
        print(
            f"  {'case':<52} timings of {args.requests} requests (exports {args.export_requests})"
        )
        for case in cases:
            if case.export:
                params = {**case.params, "format": case.export}
                times = timed(
                    lambda p=params: client.get(f"{base}/audit/export", params=p, timeout=120),
                    args.export_requests,
                    warm=1,
                )
            else:
                times = timed(
                    lambda p=case.params: client.get(f"{base}/audit", params=p, timeout=60),
                    args.requests,
                )
            print(f"  {case.name:<52} {figures(times)}", flush=True)
            if args.explain and not case.export:
                print(explain(engine, case))
        # Page 50, reached the way a reader reaches it: the "older" link of each page.
        url, walk = f"{base}/audit", []
        for _ in range(49):
            started = time.perf_counter()
            page = client.get(url, timeout=60)
            walk.append(time.perf_counter() - started)
            found = OLDER.search(page.text)
            assert found, "no older link"
            url = base + found.group(1).replace("&amp;", "&")
        times = timed(lambda: client.get(url, timeout=60), args.requests)
        print(f"  {'page 50 (' + url.rsplit('?', 1)[-1] + ')':<52} {figures(times)}")
        print(f"  {'  the walk there, 49 pages':<52} {figures(walk)}")
        if args.explain:
            before = int(url.rsplit("before=", 1)[1])
            print(explain(engine, Case("page 50", {}), before))
            print("  the form's list of known actions, read on every page:")
            print(plan(engine, select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    cli = [sys.executable, "-m", "archive_app"]
    for label, extra in (
        ("archive --help (start-up alone)", ["--help"]),
        (
            "archive audit list --limit 50 --as auditor1",
            ["audit", "list", "--limit", "50", "--as", "auditor1"],
        ),
    ):
        times = []
        for _ in range(5):
            started = time.perf_counter()
            subprocess.run([*cli, *extra], env=env, cwd=ROOT, check=True, capture_output=True)
            times.append(time.perf_counter() - started)
        print(
            f"  {label:<52} median {median(times) * 1000:6.0f} ms  max {max(times) * 1000:6.0f} ms (5 runs)"
        )
    engine.dispose()


def run(kind: str, args: argparse.Namespace) -> None:
    with scratch_instance(kind, args.server, "audit", admin_password=PASSWORD) as settings:
        workdir, url = settings.home.parent, settings.database_url
        container = Container.from_settings(settings)
        started = time.perf_counter()
        seed(container, args.entries, random.Random(args.seed))
        container.database.engine.dispose()
        if kind == "postgresql":
            engine = create_engine(url, isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                connection.execute(text("VACUUM ANALYZE audit_entries"))
            engine.dispose()
        print(
            f"{kind}: seeded {args.entries} entries in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        measure(settings, args, workdir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--export-requests", type=int, default=10)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    for kind in ("sqlite", "postgresql"):
        if args.only in (None, kind):
            run(kind, args)
            print(f"load average {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
