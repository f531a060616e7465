"""A deployment under load while a destruction runs: two web processes, two workers,
PostgreSQL, Redis and the PostgreSQL search backend on this machine.

Usage: python bench/load.py [--minutes 5] [--clients 6] [--upload-share 0.05]
                            [--scan-share 0.25] [--scans 60]
                            [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                            [--redis redis://127.0.0.1:6379/9] [--archives 20] [--per-archive 15]

Set-up (not timed): the destruction benchmark's instance (:mod:`faults_destruction`:
``--archives`` customer archives of ``--per-archive`` vouchers dated 1990, declared, one
approved batch of every eligible record) on a new PostgreSQL database, with the search
index in that database and Redis as the broker (its own queue). Then two ``archive serve
--no-worker`` processes on two loopback ports and two ``archive worker`` processes.

Load: ``--clients`` threads, each logged in as the admin on one of the two servers (half
each), in a closed loop for ``--minutes``: with probability ``--upload-share`` an upload
of one new file to a random archive (with probability ``--scan-share`` one of ``--scans``
distinct one-page scans that need OCR, else a born-digital PDF made for it), otherwise a search (``/api/search``) for one of a few words. A client
waits for each answer before the next request (bounded load: at most ``--clients``
requests in flight). After 30 s the batch is executed (``archive retention batch run``)
as a child process while the load goes on.

Afterwards: every upload that was answered with a document number is waited for (ready
or failed, up to 10 minutes), then counted: **lost** (a number answered but no such
document), **stuck** (not ready after the wait), **failed**; the destruction's outcome
(records destroyed, certificate); ``archive verify`` and ``archive audit verify``.
Printed: requests/s overall, per kind the count, errors (non-2xx or no answer) and
p50/p95/p99 latency.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from statistics import quantiles

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faults_destruction import PASSWORD, _admin, build_template  # noqa: E402
from sqlalchemy import create_engine, select  # noqa: E402
from webserver import free_port, logged_in, wait_listening  # noqa: E402

from archive_app.models import CustomerArchive, Document  # noqa: E402
from tests import documents as docs  # noqa: E402

SEARCH_WORDS = ["凭证", "voucher", "记账", "合同", "违约金", "invoice"]


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_samples: list[str] = field(default_factory=list)
    uploaded: list[str] = field(default_factory=list)

    def add(self, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            if error:
                self.errors[kind] += 1
                if len(self.error_samples) < 10:
                    self.error_samples.append(f"{kind}: {error}")


def env_for(settings, queue: str) -> dict[str, str]:  # type of settings: archive Settings
    return {
        **os.environ,
        "ARCHIVE_HOME": str(settings.home),
        "ARCHIVE_DATABASE_URL": settings.database_url,
        "ARCHIVE_SECRET_KEY": settings.secret_key or "",
        "ARCHIVE_SEARCH_URL": settings.search_url or "",
        "ARCHIVE_BROKER_URL": settings.broker_url or "",
        "ARCHIVE_QUEUE": queue,
        "ARCHIVE_LEDGER_DIR": str(settings.ledger_dir),
    }


def start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "archive_app", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )


class Uploads:
    """A new file for every upload: a born-digital PDF made on the spot, or (``scan_share``)
    one of a pool of distinct one-page scans, each used once while the pool lasts. Every
    file is different, so uploads are filed, not answered as duplicates."""

    def __init__(self, folder: Path, scans: int, scan_share: float) -> None:
        folder.mkdir()
        self.folder = folder
        self.scan_share = scan_share
        self.lock = threading.Lock()
        self.counter = 0
        docs.require_cjk_font()
        self.scans = [
            docs.write_png(
                docs.render_page([f"合同附件 第{index}号", *docs.CONTRACT_LINES]),
                folder / f"scan-{index}.png",
            ).read_bytes()
            for index in range(scans)
        ]

    def next(self, draw: random.Random) -> tuple[str, bytes, str]:
        with self.lock:
            self.counter += 1
            serial = self.counter
            scan = self.scans.pop() if self.scans and draw.random() < self.scan_share else None
        if scan is not None:
            return f"scan-{serial}.png", scan, "image/png"
        path = docs.write_text_pdf(
            [[f"记账凭证 load {serial} {os.urandom(4).hex()}", "借方 管理费用 贷方 银行存款"]],
            self.folder / f"voucher-{serial}.pdf",
        )
        content = path.read_bytes()
        path.unlink()
        return path.name, content, "application/pdf"


def client_loop(
    base: str,
    archives: list[str],
    uploads: Uploads,
    upload_share: float,
    stop_at: float,
    tally: Tally,
    seed: int,
) -> None:
    draw = random.Random(seed)
    client, token = logged_in(base, "admin", PASSWORD)
    while time.monotonic() < stop_at:
        if draw.random() < upload_share:
            kind = "upload"
            name, content, mime = uploads.next(draw)
            archive = draw.choice(archives)
            started = time.perf_counter()
            try:
                answer = client.post(
                    f"{base}/archives/{archive}/documents",
                    files={"files": (name, content, mime)},
                    headers={"X-CSRFToken": token},
                    timeout=120,
                )
                error = None if answer.ok else f"HTTP {answer.status_code}"
                if answer.ok:
                    for result in answer.json():
                        if result.get("document") and result.get("code") != "duplicate":
                            with tally.lock:
                                tally.uploaded.append(result["document"])
            except requests.RequestException as exc:
                error = type(exc).__name__
        else:
            kind = "search"
            started = time.perf_counter()
            try:
                answer = client.get(
                    f"{base}/api/search", params={"q": draw.choice(SEARCH_WORDS)}, timeout=120
                )
                error = None if answer.ok else f"HTTP {answer.status_code}"
            except requests.RequestException as exc:
                error = type(exc).__name__
        tally.add(kind, time.perf_counter() - started, error)


def percentile_line(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    cuts = quantiles(values, n=100, method="inclusive")
    return (
        f"p50 {cuts[49] * 1000:.0f} ms, p95 {cuts[94] * 1000:.0f} ms, p99 {cuts[98] * 1000:.0f} ms"
    )


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archive_app", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--upload-share", type=float, default=0.05)
    parser.add_argument("--scan-share", type=float, default=0.25)
    parser.add_argument("--scans", type=int, default=60)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--archives", type=int, default=20)
    parser.add_argument("--per-archive", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="archive-load-"))
    queue = f"bench-load-{os.getpid()}"
    template = build_template(
        workdir,
        args.server,
        args.archives,
        args.per_archive,
        search_in_database=True,
        broker_url=args.redis,
        queue_name=queue,
    )
    settings = template.settings
    env = env_for(settings, queue)
    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        archives = list(connection.scalars(select(CustomerArchive.number)))
    uploads = Uploads(workdir / "load-files", args.scans, args.scan_share)

    processes: list[subprocess.Popen[bytes]] = []
    logs = workdir / "logs"
    logs.mkdir()
    ports = [free_port(), free_port()]
    try:
        for index, port in enumerate(ports):
            processes.append(
                start(env, logs / f"web-{index}.log", "serve", "--no-worker", "--port", str(port))
            )
        for index in range(2):
            processes.append(
                start(env, logs / f"worker-{index}.log", "worker", "--concurrency", "1")
            )
        for index, port in enumerate(ports):
            wait_listening(f"http://127.0.0.1:{port}", processes[index], logs / f"web-{index}.log")

        tally = Tally()
        started = time.monotonic()
        stop_at = started + args.minutes * 60
        clients = [
            threading.Thread(
                target=client_loop,
                args=(
                    f"http://127.0.0.1:{ports[index % 2]}",
                    archives,
                    uploads,
                    args.upload_share,
                    stop_at,
                    tally,
                    args.seed * 1000 + index,
                ),
            )
            for index in range(args.clients)
        ]
        for thread in clients:
            thread.start()
        time.sleep(min(30.0, args.minutes * 60 / 4))
        destruction_started = time.monotonic()
        destruction = run_cli(
            env, "retention", "batch", "run", template.batch, "--as", "comp3", "--json"
        )
        destruction_seconds = time.monotonic() - destruction_started
        loads = [os.getloadavg()[0]]
        for thread in clients:
            while thread.is_alive():
                thread.join(timeout=15)
                loads.append(os.getloadavg()[0])
        elapsed = time.monotonic() - started

        # Everything accepted must end ready (or failed, said plainly), nothing lost.
        numbers = set(tally.uploaded)
        deadline = time.monotonic() + 600
        while True:
            with engine.connect() as connection:
                rows = dict(
                    connection.execute(
                        select(Document.number, Document.status).where(Document.number.in_(numbers))
                    ).all()
                )
            pending = [n for n, s in rows.items() if s.value not in ("ready", "failed")]
            if not pending or time.monotonic() > deadline:
                break
            time.sleep(2)
        drained = time.monotonic() - started - elapsed
        verify = run_cli(env, "verify", "--json")
        audit = run_cli(env, "audit", "verify", "--json")
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    statuses = [s.value for s in rows.values()]
    requests_total = sum(len(v) for v in tally.latencies.values())
    print(
        f"\n{args.clients} clients for {elapsed:.0f} s against 2 web processes and 2 workers "
        f"(PostgreSQL, Redis, PostgreSQL search); load average during the run "
        f"{min(loads):.1f}-{max(loads):.1f}"
    )
    print(f"requests: {requests_total}, {requests_total / elapsed:.1f}/s")
    for kind in ("search", "upload"):
        values = tally.latencies.get(kind, [])
        print(
            f"  {kind}: {len(values)} ({len(values) / elapsed:.2f}/s), errors "
            f"{tally.errors.get(kind, 0)}, {percentile_line(values)}"
        )
    for sample in tally.error_samples:
        print(f"  error: {sample}")
    report = json.loads(destruction.stdout) if destruction.returncode == 0 else None
    print(
        f"destruction during the load: exit {destruction.returncode} in {destruction_seconds:.1f} s"
        + (
            f", {len(report['destroyed'])} records destroyed, certificate {report['certificate']}"
            if report
            else f": {destruction.stderr.strip()[-300:]}"
        )
    )
    print(
        f"uploads accepted: {len(numbers)}; lost {len(numbers) - len(rows)}, ready "
        f"{statuses.count('ready')}, failed {statuses.count('failed')}, stuck "
        f"{len(statuses) - statuses.count('ready') - statuses.count('failed')} "
        f"(queue drained {drained:.0f} s after the load ended)"
    )
    print(f"archive verify: exit {verify.returncode}; audit verify: exit {audit.returncode}")
    if verify.returncode:
        print(verify.stdout[-1500:])
    engine.dispose()
    _admin(args.server, f'DROP DATABASE IF EXISTS "{template.template_db}" WITH (FORCE)')


if __name__ == "__main__":
    main()
