"""Benchmark: destroy 10,000 records in one disposition batch.

Usage: python bench/destroy.py [--records 10000] [--archives 10] [--objects 2]
                               [--database-url URL] [--dir DIR]

Set-up (not timed): a fresh instance (``archive init``: schema, keys, rules), ``--archives``
customer archives, and per record ``--objects`` small encrypted objects (original and OCR
text) written with ``put_many``, a declared voucher row dated 1990 (eligible since
2021-01-01) written in bulk, and an entry in the search index (Whoosh by default). A batch
of every eligible record is created, reviewed 'destroy' and approved by two compliance
users. Then ``run_batch`` is timed as an operator runs it (the executor is a third user):
re-check of every item, signed certificate and ledger entry, the decision committed
(``decide``), the ledger files written (``ledger``), crypto-shredding (one
``shred_objects`` per archive, one key rotation each, ``shred``), stubs, destruction
records, one audit entry per record plus one for the batch, index delete (``finish``),
the commit and index purge (``done``). Prints records/s overall and the time of each
stage. Asserts nothing except that everything was destroyed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select

from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.models import AuditEntry, Document, DocumentClass
from archive_app.services import archives, bootstrap, users
from archive_app.services.archives import ArchiveInput
from archive_app.services.initialise import initialise
from archive_app.services.retention import batches, destruction
from indexing.search import IndexDocument


def build(container: Container, records: int, n_archives: int, objects: int) -> None:
    database = container.database
    with database.session() as session:
        admin = bootstrap.get_admin(session)
        for name in ("comp1", "comp2", "comp3"):
            users.create_user(
                session, admin, username=name, role="compliance", password="bench-password-1"
            )
        voucher = session.scalar(select(DocumentClass).where(DocumentClass.code == "voucher"))
        numbers = []
        for index in range(n_archives):
            archive = archives.create_archive(
                session,
                admin,
                ArchiveInput(name=f"客户 {index}"),
                number_pattern="KH-{seq:06d}",
                on_created=container.on_archive_created,
            )
            numbers.append((archive.id, archive.number, archive.storage_id))
    per_archive = records // n_archives
    declared = datetime(1991, 1, 10, tzinfo=UTC)
    started = time.perf_counter()
    index_entries = []
    for archive_id, archive_number, storage_id in numbers:
        payloads = [os.urandom(2048) for _ in range(per_archive * objects)]
        stored = container.store.put_many(storage_id, payloads)
        rows = []
        for i in range(per_archive):
            original = payloads[i * objects]
            ids = [s.object_id for s in stored[i * objects : (i + 1) * objects]]
            number = f"{archive_number}-PZ-1990-{i + 1:05d}"
            rows.append(
                {
                    "number": number,
                    "archive_id": archive_id,
                    "class_id": voucher.id,
                    "title": f"记账凭证 {i + 1}",
                    "status": "ready",
                    "original_filename": f"voucher-{i + 1}.pdf",
                    "mime_type": "application/pdf",
                    "size_bytes": len(original),
                    "page_count": 1,
                    "sha256": hashlib.sha256(original).hexdigest(),
                    "original_object_id": ids[0],
                    "text_object_id": ids[1] if objects > 1 else None,
                    "rendition_object_id": ids[2] if objects > 2 else None,
                    "fields": {"voucher_number": str(i + 1), "fiscal_period": "1990-03"},
                    "document_date": date(1990, 3, 5),
                    "declared_at": declared,
                    "declared_by_id": admin.id,
                    "created_by_id": admin.id,
                    "created_at": declared,
                    "updated_at": declared,
                }
            )
        with database.session() as session:
            session.execute(insert(Document), rows)
            ids = dict(
                session.execute(
                    select(Document.number, Document.id).where(Document.archive_id == archive_id)
                ).all()
            )
        index_entries += [
            IndexDocument(
                doc_id=str(ids[row["number"]]),
                archive_id=str(archive_id),
                archive_number=archive_number,
                class_code="voucher",
                status="declared",
                level="internal",
                title=row["title"],
                text=f"记账凭证 付款 voucher {row['number']}",
                document_date=row["document_date"],
            )
            for row in rows
        ]
    container.search.add(index_entries)
    print(
        f"set-up: {records} records, {records * objects} objects, {len(index_entries)} index "
        f"entries in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--archives", type=int, default=10)
    parser.add_argument("--objects", type=int, default=2, choices=(1, 2, 3))
    parser.add_argument("--database-url")
    parser.add_argument("--dir")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-destroy-", dir=args.dir))
    home = workdir / "instance"
    settings = Settings(
        home=home,
        database_url=args.database_url or f"sqlite:///{home / 'archive.db'}",
        secret_key="bench-secret-key-0123456789",
    )
    try:
        initialise(settings, admin_password="bench-admin-password")
        container = Container.from_settings(settings)
        build(container, args.records, args.archives, args.objects)
        with container.database.session() as session:
            actor = lambda name: users.get_user(session, name)  # noqa: E731
            row, batch = batches.create(session, actor("comp1"), date.today(), required_approvals=2)
            number = row.number
            batches.review(session, actor("comp1"), number, None, "destroy")
            batches.approve(session, actor("comp1"), number)
            batches.approve(session, actor("comp2"), number)
            assert len(batch.items) == args.records, len(batch.items)
        audit_before = _count(container, AuditEntry)

        stages: list[tuple[str, float]] = []
        started = time.perf_counter()

        def progress(stage: str, done: int, total: int) -> None:
            if done == total:
                stages.append((stage, time.perf_counter() - started))

        with container.database.session() as session:
            # run_batch commits its decision and its finish itself; its stages are timed.
            report = destruction.run_batch(
                container,
                session,
                users.get_user(session, "comp3"),
                number,
                on_progress=progress,
            )
        elapsed = time.perf_counter() - started

        destroyed = len(report.destroyed)
        assert destroyed == args.records, destroyed
        with container.database.session() as session:
            live = session.scalar(
                select(func.count(Document.id)).where(Document.destroyed_at.is_(None))
            )
        assert live == 0
        audit_written = _count(container, AuditEntry) - audit_before
        print(
            f"database: {container.database.engine.dialect.name}; search: {settings.resolved_search_url.split(':')[0]}"
        )
        print(
            f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
            f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
        )
        print(
            f"destroyed {destroyed} records ({report.objects_shredded} objects, "
            f"{len(report.archive_keys_destroyed)} archive keys, {report.index_entries_purged} "
            f"index entries purged, {audit_written} audit entries) in {elapsed:.2f} s: "
            f"{destroyed / elapsed:.0f} records/s"
        )
        previous = 0.0
        for stage, at in stages:
            print(f"  {stage:<45} {at - previous:7.2f} s")
            previous = at
        container.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _count(container: Container, model: type) -> int:
    with container.database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


if __name__ == "__main__":
    main()
