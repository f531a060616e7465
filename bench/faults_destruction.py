"""Fault injection, destruction half: kill -9 at random moments of a destruction, recover,
inspect, count.

Usage: python bench/faults_destruction.py [--trials 50] [--database-url URL]
                                          [--archives 20] [--per-archive 15] [--seed N]
                                          [--dir DIR]

Set-up, once (not timed): a template instance made by ``archive init`` with a second
ledger copy (``ARCHIVE_LEDGER_DIR``), ``--archives`` customer archives each holding
``--per-archive`` vouchers dated 1990 (eligible since 2021), every one taken in and
processed by the real intake (born-digital PDFs from the tests' generator: original, text
and searchable rendition stored encrypted, indexed, a checklist line) and declared; the
first three archives also keep one recent voucher, so their objects are shredded one by
one while the others are emptied and lose their archive key. One batch of every eligible
record, reviewed and approved by two compliance users. With ``--database-url`` (a
PostgreSQL server, e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) the
template is a database on that server that every trial clones; otherwise SQLite.

Per trial: a copy of the template (instance folder, ledger copy, database), then the
real command ``archive retention batch run BATCH --as comp3`` as a child process, killed
with SIGKILL at a random moment (:func:`draw_moment`, from the times of its first
progress line and of a whole uninterrupted run, measured first on a copy): in the
re-check, or anywhere from just before the decision commits through the ledger write,
the shredding and the finish to after the final commit. Then recovery exactly as the worker and ``archive serve`` run it
at start (``recover_interrupted``), ``archive verify --json`` and ``archive audit verify
--json`` as child processes, and the counts:

- **lost**: a record neither intact nor destroyed on a certificate: not a stub but its
  content no longer verifies, or a stub without its destruction record or certificate;
- **half-destroyed**: a record still being destroyed after recovery, or a stub whose
  objects are still in the store;
- **orphaned blobs**: objects ``archive verify`` finds unreferenced, and blob files
  without a key;
- **verify / audit verify failures**: a non-zero exit.

Goal: all zero. Also printed: where the kills landed (the database's state when the child
died: no decision, decided, completed; and the last progress line the child printed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from archive_app.infra.config import Settings  # noqa: E402
from archive_app.infra.container import Container  # noqa: E402
from archive_app.infra.vault import store_root  # noqa: E402
from archive_app.models import (  # noqa: E402
    CustomerArchive,
    DestructionCertificate,
    DestructionPlan,
    DestructionRecord,
    Document,
)
from archive_app.services import archives, bootstrap, users  # noqa: E402
from archive_app.services.archives import ArchiveInput  # noqa: E402
from archive_app.services.initialise import initialise  # noqa: E402
from archive_app.services.intake import IntakeItem, take_in  # noqa: E402
from archive_app.services.processing import process_document  # noqa: E402
from archive_app.services.retention import batches, certificate_files  # noqa: E402
from archive_app.services.retention.completion import recover_interrupted  # noqa: E402
from tests.documents import write_text_pdf  # noqa: E402

OLD = date(1990, 3, 5)
RECENT = date(2020, 6, 1)
KEEPING_ARCHIVES = 3  # archives that keep a recent record: objects shredded one by one
PASSWORD = "bench-password-123"


@dataclass(frozen=True)
class Record:
    number: str
    storage_id: str
    objects: tuple[str, ...]
    sha256: str


@dataclass
class Template:
    workdir: Path
    settings: Settings
    batch: str
    records: dict[str, Record]
    admin_url: str | None  # PostgreSQL: the server, to clone the template database
    template_db: str | None


@dataclass
class Outcome:
    state_at_kill: str
    last_line: str
    counts: Counter[str] = field(default_factory=Counter)


def env_for(settings: Settings) -> dict[str, str]:
    env = {
        **os.environ,
        "ARCHIVE_HOME": str(settings.home),
        "ARCHIVE_DATABASE_URL": settings.database_url,
        "ARCHIVE_SECRET_KEY": settings.secret_key or "",
    }
    if settings.ledger_dir is not None:
        env["ARCHIVE_LEDGER_DIR"] = str(settings.ledger_dir)
    return env


def build_template(
    workdir: Path,
    server: str | None,
    n_archives: int,
    per_archive: int,
    *,
    search_in_database: bool = False,
    **more_settings: Any,
) -> Template:
    """The instance described in the module doc. ``search_in_database``: the PostgreSQL
    search backend in the same database (needs ``server``); ``more_settings``:
    further settings (a broker, a queue)."""
    folder = workdir / "template"
    admin_url, name = None, None
    if server:
        admin_url, name = server, f"bench_faults_template_{os.getpid()}"
        _admin(admin_url, f'CREATE DATABASE "{name}"')
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{folder / 'instance' / 'archive.db'}"
    settings = Settings(
        home=folder / "instance",
        database_url=url,
        secret_key="bench-secret-key-0123456789",
        ledger_dir=folder / "ledger-copy",
        search_url=url if search_in_database else None,
        **more_settings,
    )
    initialise(settings, admin_password=PASSWORD)
    container = Container.from_settings(settings)
    started = time.perf_counter()
    with container.database.session() as session:
        admin = bootstrap.get_admin(session)
        assert admin is not None
        people = [
            users.create_user(session, admin, username=name, role="compliance", password=PASSWORD)
            for name in ("comp1", "comp2", "comp3")
        ]
    files = workdir / "files"
    files.mkdir()
    numbers = []
    for index in range(n_archives):
        with container.database.session() as session:
            archive = archives.create_archive(
                session,
                admin,
                ArchiveInput(name=f"客户 {index}"),
                number_pattern="KH-{seq:06d}",
                on_created=container.on_archive_created,
            ).number
        dates = [OLD] * per_archive + ([RECENT] if index < KEEPING_ARCHIVES else [])
        for position, day in enumerate(dates):
            path = write_text_pdf(
                [[f"记账凭证 voucher {index}-{position} {os.urandom(6).hex()}"]],
                files / f"{index}-{position}.pdf",
            )
            [result] = take_in(
                container,
                admin.id,
                archive,
                [IntakeItem(path=path, filename=path.name)],
                default_class="voucher",
            )
            assert result.document_id is not None, result
            process_document(container, result.document_id)
            with container.database.session() as session:
                document = session.get(Document, result.document_id)
                assert document is not None and document.rendition_object_id
                document.document_date = day
                document.declared_at = datetime(1991, 1, 10, tzinfo=UTC)
                document.declared_by_id = admin.id
                numbers.append(document.number)
    with container.database.session() as session:
        row, _batch = batches.create(session, people[0], date.today(), required_approvals=2)
        number = row.number
        batches.review(session, people[0], number, None, "destroy")
        batches.approve(session, people[0], number)
        batches.approve(session, people[1], number)
    records = _records(container)
    container.close()
    print(
        f"set-up: {len(numbers)} records in {n_archives} archives, batch {number}, in "
        f"{time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return Template(workdir, settings, number, records, admin_url, name)


def _records(container: Container) -> dict[str, Record]:
    with container.database.session() as session:
        rows = session.execute(
            select(
                Document.number,
                CustomerArchive.storage_id,
                Document.original_object_id,
                Document.text_object_id,
                Document.rendition_object_id,
                Document.sha256,
            ).join(CustomerArchive, Document.archive_id == CustomerArchive.id)
        ).all()
    return {
        number: Record(number, storage, tuple(o for o in objects if o), sha or "")
        for number, storage, *objects, sha in rows
    }


def _admin(url: str, statement: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def trial_copy(template: Template, name: str) -> Settings:
    folder = template.workdir / name
    shutil.copytree(template.settings.home.parent, folder)
    url = f"sqlite:///{folder / 'instance' / 'archive.db'}"
    if template.admin_url:
        database = f"bench_faults_{os.getpid()}_{name}"
        _admin(
            template.admin_url, f'CREATE DATABASE "{database}" TEMPLATE "{template.template_db}"'
        )
        url = (
            make_url(template.admin_url)
            .set(database=database)
            .render_as_string(hide_password=False)
        )
    return template.settings.with_overrides(
        home=folder / "instance", database_url=url, ledger_dir=folder / "ledger-copy"
    )


def drop_copy(template: Template, settings: Settings) -> None:
    if template.admin_url:
        database = make_url(settings.database_url).database
        _admin(template.admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    shutil.rmtree(settings.home.parent, ignore_errors=True)


def start_run(template: Template, settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    """The real command, its progress lines (stderr) into ``log``."""
    command = ["retention", "batch", "run", template.batch, "--as", "comp3"]
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "archive_app", *command],
            env=env_for(settings),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=ROOT,
        )


def measure(template: Template) -> tuple[float, float]:
    """(seconds to the first progress line, seconds for a whole run) on a copy."""
    settings = trial_copy(template, "measure")
    log = template.workdir / "measure.log"
    started = time.perf_counter()
    child = start_run(template, settings, log)
    first = None
    while child.poll() is None:
        if first is None and log.read_bytes().strip():
            first = time.perf_counter() - started
        time.sleep(0.005)
    whole = time.perf_counter() - started
    assert child.returncode == 0, log.read_text()
    drop_copy(template, settings)
    return first or whole, whole


def state_of(container: Container) -> str:
    """Where the child died, as the database says: before, within or after the sequence."""
    with container.database.session() as session:
        state = session.scalar(select(DestructionPlan.state))
    return state or "no decision"


def count(template: Template, settings: Settings) -> Counter[str]:
    """Classify every record after recovery (see the module doc)."""
    found: Counter[str] = Counter()
    container = Container.from_settings(settings)
    store = container.store
    public = certificate_files.instance_public_key(settings)
    try:
        with container.database.session() as session:
            certificates = {
                c.certificate_id: c for c in session.scalars(select(DestructionCertificate))
            }
            for record in template.records.values():
                document = session.scalar(select(Document).where(Document.number == record.number))
                assert document is not None
                if document.is_being_destroyed:
                    found["half_destroyed"] += 1
                elif document.is_destroyed:
                    entry = session.get(DestructionRecord, document.id)
                    certificate = certificates.get(entry.certificate_id) if entry else None
                    if certificate is None or not _certifies(certificate, record.number, public):
                        found["lost"] += 1
                    elif any(_exists(store, record.storage_id, o) for o in record.objects):
                        found["half_destroyed"] += 1
                    else:
                        found["destroyed"] += 1
                else:
                    try:
                        intact = (
                            store.verify_object(
                                document.archive.storage_id, document.original_object_id
                            )
                            == record.sha256
                        )
                    except Exception:
                        intact = False
                    found["intact" if intact else "lost"] += 1
        found["orphaned_blob_files"] += _blob_files_without_key(container)
    finally:
        container.close()
    return found


def _exists(store, storage_id: str, object_id: str) -> bool:
    return store.archive_exists(storage_id) and store.exists(storage_id, object_id)


def _certifies(certificate: DestructionCertificate, number: str, public: bytes | None) -> bool:
    check = certificate_files.verify_bytes(certificate.signed.encode("utf-8"), public)
    if not check.ok:
        return False
    items = json.loads(certificate.signed)["certificate"]["items"]
    return number in {item["document_number"] for item in items}


def _blob_files_without_key(container: Container) -> int:
    blobs = store_root(container.settings) / "blobs"
    orphans = 0
    for folder in blobs.iterdir():
        if folder.name.startswith(".") or not folder.is_dir():
            continue
        for blob in folder.glob("*.blob"):
            if not _exists(container.store, folder.name, blob.stem):
                orphans += 1
    return orphans


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archive_app", *args],
        env=env_for(settings),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )


@dataclass(frozen=True)
class Moment:
    """When to kill: ``delay`` seconds after the start, or, ``after_first_line``, after
    the child printed its first progress line (the decision is about to commit)."""

    delay: float
    after_first_line: bool


def draw_moment(draw: random.Random, first: float, whole: float) -> Moment:
    """One kill in three lands in the re-check (between half the time to the first
    progress line and that line), two in three anywhere from that line to the end of a
    whole run: that is where a destruction changes things, and anchoring on the line
    keeps start-up jitter from smearing it."""
    if draw.random() < 1 / 3:
        return Moment(draw.uniform(first / 2, first), after_first_line=False)
    return Moment(draw.uniform(0, whole - first), after_first_line=True)


def kill_at(child: subprocess.Popen[bytes], log: Path, moment: Moment) -> None:
    if moment.after_first_line:
        while child.poll() is None and not log.read_bytes().strip():
            time.sleep(0.002)
    time.sleep(moment.delay)
    if child.poll() is None:
        os.kill(child.pid, signal.SIGKILL)


def trial(template: Template, index: int, moment: Moment) -> Outcome:
    settings = trial_copy(template, f"trial-{index:03d}")
    log = settings.home.parent / "run.log"
    try:
        child = start_run(template, settings, log)
        kill_at(child, log, moment)
        child.wait()
        lines = log.read_text(errors="replace").strip().splitlines()
        last = lines[-1].strip() if lines else "(none)"
        if child.returncode == 0:
            last = "(finished)"
        container = Container.from_settings(settings)
        try:
            state = state_of(container)
            recover_interrupted(container)
        finally:
            container.close()
        outcome = Outcome(state, last, count(template, settings))
        inspection = run_cli(settings, "verify", "--json")
        if inspection.returncode != 0:
            outcome.counts["verify_failed"] += 1
        try:
            findings = json.loads(inspection.stdout)["findings"]
        except (ValueError, KeyError):
            findings = []
        outcome.counts["orphaned_objects"] += sum(
            1 for f in findings if f["problem"] == "unreferenced"
        )
        trail = run_cli(settings, "audit", "verify", "--json")
        if trail.returncode != 0:
            outcome.counts["audit_verify_failed"] += 1
        if inspection.returncode != 0 or trail.returncode != 0:
            print(
                f"  trial {index}: {inspection.stdout[-600:]} {trail.stdout[-300:]}",
                file=sys.stderr,
            )
        return outcome
    finally:
        drop_copy(template, settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--database-url", help="a PostgreSQL server to clone databases on")
    parser.add_argument("--archives", type=int, default=20)
    parser.add_argument("--per-archive", type=int, default=15)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--dir")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    draw = random.Random(seed)
    workdir = Path(tempfile.mkdtemp(prefix="bench-faults-destruction-", dir=args.dir))
    template = None
    try:
        template = build_template(workdir, args.database_url, args.archives, args.per_archive)
        first, whole = measure(template)
        print(
            f"uninterrupted run: first progress line after {first:.2f} s, done after "
            f"{whole:.2f} s; kills drawn uniformly in [{first / 2:.2f}, {first:.2f}) s after "
            f"the start (1 in 3) or in [0, {whole - first:.2f}) s after the first progress "
            f"line (2 in 3); seed {seed}",
            file=sys.stderr,
        )
        totals: Counter[str] = Counter()
        states: Counter[str] = Counter()
        stages: Counter[str] = Counter()
        started = time.perf_counter()
        for index in range(args.trials):
            outcome = trial(template, index, draw_moment(draw, first, whole))
            totals.update(outcome.counts)
            states[outcome.state_at_kill] += 1
            stages[outcome.last_line.split(":")[0]] += 1
            print(
                f"trial {index + 1:3d}: killed at {outcome.state_at_kill:<11} "
                f"(last line: {outcome.last_line:<16}) {dict(outcome.counts)}",
                file=sys.stderr,
            )
        elapsed = time.perf_counter() - started
        database = "PostgreSQL" if args.database_url else "SQLite"
        print(f"database: {database}; search: Whoosh; {args.trials} trials in {elapsed:.0f} s")
        print(
            f"machine: {os.cpu_count()} cores, {platform.machine()}, Python "
            f"{platform.python_version()}, load average "
            f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}"
        )
        print(f"records per trial: {len(template.records)}; batch {template.batch}")
        print(f"database state when killed: {dict(states)}")
        print(f"last progress line when killed: {dict(stages)}")
        print(
            "per record, summed over trials: "
            f"intact {totals['intact']}, destroyed on a certificate {totals['destroyed']}"
        )
        for name in (
            "lost",
            "half_destroyed",
            "orphaned_objects",
            "orphaned_blob_files",
            "verify_failed",
            "audit_verify_failed",
        ):
            print(f"  {name:<22} {totals[name]}")
    finally:
        if template is not None and template.admin_url:
            _admin(
                template.admin_url, f'DROP DATABASE IF EXISTS "{template.template_db}" WITH (FORCE)'
            )
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
