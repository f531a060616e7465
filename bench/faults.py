"""Fault injection: kill -9 at random moments, recover, and count what was lost, stuck or
left behind.

Usage: python bench/faults.py [--trials 50] [--part ingest]
                              [--deployments embedded,servers] [--seed N] [--dir DIR]
                              [--postgres-url URL] [--redis-url URL] [--verbose]

Deployments: ``embedded`` is SQLite with the embedded broker (the one-machine default);
``servers`` is PostgreSQL with Redis (a fresh database is created and dropped).

Parts: a part is one kind of work to interrupt, with its own set-up, trial and counts, run
by the same loop (:func:`run_part`). ``ingest`` is implemented; a ``destruction`` part
(kill ``retention batch run``) plugs in beside it with the same interface.

Ingest, per trial (each in a new customer archive, with files no other trial has):

1. start a worker (``archive worker``) and an importer (``archive import FILES``) of
   ``--files`` files: one-page and two-page scans for the OCR and a born-digital PDF;
2. SIGKILL, chosen at random, the worker's process group at a random moment of the whole
   trial, or the importer, alone or with the worker (a machine losing power), at a random
   moment while it takes the files in (the times of an undisturbed trial are measured
   first and not counted);
3. recovery as an operator does it: stop what still runs, run the import again if it was
   killed (files already filed are reported as duplicates), start a worker (its start-up
   recovery) and wait until every document is ready or failed (at most ``--settle``
   seconds);
4. the periodic inspection (``archive verify``'s ``inspect``) and the audit chain check.

Counts per trial: *lost* (a file without a ready document, or a document whose original is
missing or damaged), *stuck* (a document neither ready nor failed after recovery, or
reported stuck), *failed*, *orphaned* (objects no live document references, as the
inspection reports them), *keyless* (blob files without a key: the store's own crash
leftovers, invisible to everything and removed by ``BlobStore.collect_orphans`` after an
hour), and whether the inspection was clean and the audit chain intact. The goal is zero
everywhere. Asserts nothing; prints the counts, the recovery time and the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.infra.vault import store_root
from archive_app.models import CustomerArchive, Document, DocumentStatus
from archive_app.services import archives, bootstrap, inspection
from archive_app.services.archives import ArchiveInput
from archive_app.services.audit import verify_chain
from archive_app.services.initialise import initialise
from archive_app.services.intake import sha256_of
from tests import documents as docs

PYTHON = [sys.executable, "-m", "archive_app"]


# ------------------------------------------------------------------ deployments


@dataclass
class Deployment:
    name: str
    settings: Settings
    env: dict[str, str]
    container: Container
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            process = subprocess.Popen(
                [*PYTHON, *args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a group of its own: killed with its children
            )
        self.started.append(process)
        return process


@contextmanager
def deployment(name: str, root: Path, postgres_url: str, redis_url: str) -> Iterator[Deployment]:
    home = root / name
    database_url = f"sqlite:///{home / 'archive.db'}"
    broker_url = None
    cleanup: list[Callable[[], None]] = []
    if name == "servers":
        database = f"archive_faults_{os.getpid()}"
        admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))

        def drop() -> None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            admin.dispose()

        cleanup.append(drop)
        database_url = make_url(postgres_url).set(database=database).render_as_string(False)
        broker_url = redis_url
    settings = Settings(
        home=home,
        database_url=database_url,
        broker_url=broker_url,
        queue_name=f"faults-{uuid.uuid4().hex[:8]}",
        ocr_workers=1,
    )
    initialise(settings, admin_password="faults-admin-password", on_step=lambda _m: None)
    env = {
        **os.environ,
        "ARCHIVE_HOME": str(home),
        "ARCHIVE_DATABASE_URL": database_url,
        "ARCHIVE_QUEUE": settings.queue_name,
        "ARCHIVE_OCR_WORKERS": "1",
    }
    if broker_url:
        env["ARCHIVE_BROKER_URL"] = broker_url
    container = Container.from_settings(settings)
    target = Deployment(name, settings, env, container)
    try:
        yield target
    finally:
        for process in target.started:
            _kill(process)
        if broker_url:
            with container.celery.connection_for_write() as connection:
                connection.default_channel.queue_purge(settings.queue_name)
        container.close()
        for step in cleanup:
            step()


# ------------------------------------------------------------------ parts


@dataclass
class Outcome:
    """What one trial left behind; every count's goal is zero."""

    victim: str
    killed_at: float
    lost: int = 0
    stuck: int = 0
    failed: int = 0
    orphaned: int = 0
    keyless: int = 0
    inspection_clean: bool = True
    audit_intact: bool = True
    recovery_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


class Part(Protocol):
    name: str

    def calibrate(self, target: Deployment, workdir: Path) -> dict[str, float]:
        """Times (seconds) of an undisturbed trial, which the kills are drawn within."""

    def trial(
        self, target: Deployment, workdir: Path, rng: random.Random, times: dict[str, float]
    ) -> Outcome: ...


def run_part(
    part: Part, target: Deployment, trials: int, rng: random.Random, workdir: Path, verbose: bool
) -> list[Outcome]:
    times = part.calibrate(target, workdir / "calibration")
    described = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in times.items())
    print(f"  {part.name} on {target.name}, undisturbed: {described}")
    outcomes = []
    for number in range(1, trials + 1):
        outcome = part.trial(target, workdir / f"trial-{number:03d}", rng, times)
        outcomes.append(outcome)
        if verbose or _bad(outcome):
            print(
                f"    trial {number:3d}: killed {outcome.victim:<8} at {outcome.killed_at:5.2f} s"
                f"  lost {outcome.lost} stuck {outcome.stuck} failed {outcome.failed}"
                f" orphaned {outcome.orphaned} keyless {outcome.keyless}"
                f" inspection {'clean' if outcome.inspection_clean else 'FINDINGS'}"
                f" audit {'intact' if outcome.audit_intact else 'BROKEN'}"
                f" recovered in {outcome.recovery_seconds:.1f} s"
                + (f"  ({'; '.join(outcome.notes)})" if outcome.notes else "")
            )
    return outcomes


def _bad(outcome: Outcome) -> bool:
    return bool(
        outcome.lost
        or outcome.stuck
        or outcome.failed
        or outcome.orphaned
        or outcome.keyless
        or not outcome.inspection_clean
        or not outcome.audit_intact
    )


class IngestPart:
    """Kill the worker, the importer or both while files are taken in and processed."""

    name = "ingest"
    VICTIMS = ("worker", "importer", "both")

    def __init__(self, files: int, settle: float) -> None:
        self.files = files
        self.settle = settle

    def calibrate(self, target: Deployment, workdir: Path) -> dict[str, float]:
        """When the first document row appears, when the import ends, when all is ready:
        the quicker of two runs (the first one also warms caches up)."""
        runs = [self._undisturbed(target, workdir / f"run-{run}") for run in (1, 2)]
        return {name: min(run[name] for run in runs) for name in runs[0]}

    def _undisturbed(self, target: Deployment, workdir: Path) -> dict[str, float]:
        workdir.mkdir(parents=True)
        archive, paths = self._prepare(target, workdir)
        started = time.monotonic()
        worker = target.start("worker", log=workdir / "worker.log")
        importer = target.start(
            "import", *map(str, paths), "--archive", archive, log=workdir / "import.log"
        )
        while not _documents(target, archive) and importer.poll() is None:
            time.sleep(0.01)
        first_row = time.monotonic() - started
        importer.wait()
        imported = time.monotonic() - started
        _wait_settled(target, archive, len(paths), self.settle)
        settled = time.monotonic() - started
        _stop(worker)
        return {"first document row": first_row, "import done": imported, "all ready": settled}

    def trial(
        self, target: Deployment, workdir: Path, rng: random.Random, times: dict[str, float]
    ) -> Outcome:
        workdir.mkdir(parents=True)
        archive, paths = self._prepare(target, workdir)
        victim = rng.choice(self.VICTIMS)
        # The worker at any moment of the whole trial; the importer (alone or with the
        # worker, as when the machine loses power) while it takes the files in: from a
        # little before its first row (its first file being stored) to its end.
        if victim == "worker":
            moment = rng.uniform(0, times["all ready"])
        else:
            moment = rng.uniform(0.8 * times["first document row"], times["import done"])
        outcome = Outcome(victim=victim, killed_at=moment)
        worker = target.start("worker", log=workdir / "worker.log")
        import_args = ("import", *map(str, paths), "--archive", archive)
        importer = target.start(*import_args, log=workdir / "import.log")
        time.sleep(moment)
        if victim in ("importer", "both"):
            if importer.poll() is not None:
                outcome.notes.append("the import had finished")
            _kill(importer)
        if victim in ("worker", "both"):
            _kill(worker)

        # Recovery, as an operator does it after a crash.
        recovering = time.monotonic()
        _stop(worker)
        if importer.wait() != 0:  # killed: run it again, the filed files are duplicates
            target.start(*import_args, log=workdir / "import-again.log").wait()
        successor = target.start("worker", log=workdir / "successor.log")
        settled = _wait_settled(target, archive, len(paths), self.settle)
        outcome.recovery_seconds = time.monotonic() - recovering
        _stop(successor)
        if not settled:
            outcome.notes.append(f"not settled within {self.settle:.0f} s")
        self._count(target, archive, paths, outcome)
        return outcome

    def _prepare(self, target: Deployment, workdir: Path) -> tuple[str, list[Path]]:
        with target.container.database.session() as session:
            admin = bootstrap.get_admin(session)
            number = archives.create_archive(
                session,
                admin,
                ArchiveInput(name=f"故障注入 {workdir.name}"),
                number_pattern=target.settings.archive_number_pattern,
                on_created=target.container.on_archive_created,
            ).number
        folder = workdir / "files"
        folder.mkdir()
        tag = uuid.uuid4().hex[:10]
        paths = []
        for index in range(self.files):
            lines = [f"Trial {tag} file {index}", *docs.ENGLISH_INVOICE_LINES]
            kind = index % 3
            if kind == 0:
                paths.append(docs.write_png(docs.render_page(lines), folder / f"{index}.png"))
            elif kind == 1:
                pages = [docs.render_page(lines), docs.render_page([f"page 2 {tag}", *lines])]
                paths.append(docs.write_scanned_pdf(pages, folder / f"{index}.pdf"))
            else:
                paths.append(docs.write_text_pdf([lines], folder / f"{index}.pdf"))
        return number, paths

    def _count(self, target: Deployment, archive: str, paths: list[Path], outcome: Outcome) -> None:
        container = target.container
        digests = {sha256_of(path) for path in paths}
        with container.database.session() as session:
            rows = session.execute(
                select(Document.number, Document.status, Document.sha256)
                .join(CustomerArchive, Document.archive_id == CustomerArchive.id)
                .where(CustomerArchive.number == archive)
            ).all()
            admin = bootstrap.get_admin(session)
            outcome.audit_intact = verify_chain(session).ok
        ready = {sha for _, status, sha in rows if status == DocumentStatus.READY}
        outcome.lost = len(digests - ready)
        outcome.failed = sum(1 for _, status, _ in rows if status == DocumentStatus.FAILED)
        outcome.stuck = sum(
            1
            for _, status, _ in rows
            if status not in (DocumentStatus.READY, DocumentStatus.FAILED)
        )
        container.drain_index_updates()
        with container.database.session() as session:
            report = inspection.inspect(container, session, admin)
        outcome.inspection_clean = report.clean
        problems = Counter(finding.problem for finding in report.findings)
        outcome.orphaned = problems[inspection.Problem.UNREFERENCED]
        outcome.lost += sum(
            problems[p]
            for p in (
                inspection.Problem.MISSING,
                inspection.Problem.DAMAGED,
                inspection.Problem.CHECKSUM_MISMATCH,
            )
        )
        if not outcome.stuck:
            outcome.stuck = problems[inspection.Problem.STUCK]
        if report.findings:
            outcome.notes += sorted({f"{f.problem.value}: {f.detail}" for f in report.findings})
        outcome.keyless = _keyless_blobs(container)


def _kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and everything in its group (its beat, its OCR processes)."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            _kill(process)
    _kill(process)  # whatever of its group is left


def _documents(target: Deployment, archive: str) -> list[DocumentStatus]:
    with target.container.database.session() as session:
        return list(
            session.scalars(
                select(Document.status)
                .join(CustomerArchive, Document.archive_id == CustomerArchive.id)
                .where(CustomerArchive.number == archive)
            )
        )


def _wait_settled(target: Deployment, archive: str, files: int, timeout: float) -> bool:
    """Until the archive holds a document for each file, all ready or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = _documents(target, archive)
        if len(statuses) >= files and all(
            status in (DocumentStatus.READY, DocumentStatus.FAILED) for status in statuses
        ):
            return True
        time.sleep(0.2)
    return False


def _keyless_blobs(container: Container) -> int:
    """Blob files on disk that the key store does not know (see the module docstring)."""
    known = {(o.archive_id, o.object_id) for o in container.store.iter_objects()}
    blobs = store_root(container.settings) / "blobs"
    return sum(
        1
        for path in blobs.glob("*/*.blob")
        if not path.parent.name.startswith(".") and (path.parent.name, path.stem) not in known
    )


PARTS: dict[str, Callable[[argparse.Namespace], Part]] = {
    "ingest": lambda args: IngestPart(files=args.files, settle=args.settle),
}


def summarise(name: str, outcomes: list[Outcome]) -> None:
    victims = Counter(outcome.victim for outcome in outcomes)
    recovery = [outcome.recovery_seconds for outcome in outcomes]
    print(
        f"  {name}: {len(outcomes)} trials, kills: "
        + ", ".join(f"{v} {n}" for v, n in sorted(victims.items()))
    )
    for label, value in (
        ("documents lost", sum(o.lost for o in outcomes)),
        ("documents stuck", sum(o.stuck for o in outcomes)),
        ("documents failed", sum(o.failed for o in outcomes)),
        ("orphaned objects (unreferenced)", sum(o.orphaned for o in outcomes)),
        ("keyless blob files", sum(o.keyless for o in outcomes)),
        ("inspections with findings", sum(not o.inspection_clean for o in outcomes)),
        ("audit chains broken", sum(not o.audit_intact for o in outcomes)),
    ):
        print(f"    {label:<34} {value}")
    print(
        f"    recovery (kill to settled)         median {statistics.median(recovery):.1f} s, "
        f"max {max(recovery):.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--part", choices=sorted(PARTS), default="ingest")
    parser.add_argument("--deployments", default="embedded,servers")
    parser.add_argument("--files", type=int, default=3, help="files per ingest trial")
    parser.add_argument("--settle", type=float, default=180.0, help="seconds to wait for recovery")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--dir", help="where the instances go (default: a temporary folder)")
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--verbose", action="store_true", help="a line per trial")
    args = parser.parse_args()
    # Stopped with SIGTERM, clean up as after Ctrl+C (the temporary folder, the database).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    rng = random.Random(seed)
    root = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="archive-faults-"))
    root.mkdir(parents=True, exist_ok=True)
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} cores, "
        f"{platform.machine()}, Python {platform.python_version()}; seed {seed}; "
        f"{args.trials} trials of {args.part}"
    )
    try:
        for name in args.deployments.split(","):
            with deployment(name, root, args.postgres_url, args.redis_url) as target:
                outcomes = run_part(
                    PARTS[args.part](args),
                    target,
                    args.trials,
                    rng,
                    root / name / "runs",
                    args.verbose,
                )
                summarise(name, outcomes)
    finally:
        if not args.dir:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
