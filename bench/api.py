"""API search under load: concurrent clients searching through ``GET /api/v1/search``
with a bearer token, on the embedded default deployment (SQLite, Whoosh in the instance
folder, the embedded broker), over loopback.

Usage: python bench/api.py [--clients 20] [--seconds 60] [--archives 10] [--per-archive 12]
                           [--threads 8]

Set-up (not timed): a new instance in a temporary folder (``archive init``'s steps),
``--archives`` customer archives of ``--per-archive`` born-digital contracts each, taken
in and processed in this process (so the index holds their text), one archivist and an
API token for them. Then one ``archive serve --no-worker`` on a free loopback port
(``--threads`` waitress threads).

Load: ``--clients`` threads, each with its own HTTP connection, in a closed loop for
``--seconds`` (a client waits for each answer before the next request, so at most
``--clients`` requests are in flight): a search for one of a few words, alternating plain
queries, a filter by class and a second page. Printed (and as JSON with ``--json``):
requests/s, errors (non-2xx or no answer), p50/p95/p99 latency in ms, the load average.
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
from pathlib import Path
from statistics import quantiles

import requests

ROOT = Path(__file__).resolve().parent.parent
# The repository first: bench/ (this script's folder, put on the path by Python) holds a
# storage.py that would otherwise shadow the storage package.
sys.path.insert(0, str(ROOT))

from webserver import free_port, wait_listening  # noqa: E402

from archive_app.infra.config import Settings  # noqa: E402
from archive_app.infra.container import Container  # noqa: E402
from archive_app.services import api_tokens, archives, bootstrap, users  # noqa: E402
from archive_app.services.archives import ArchiveInput  # noqa: E402
from archive_app.services.initialise import initialise  # noqa: E402
from archive_app.services.intake import IntakeItem, take_in  # noqa: E402
from archive_app.services.processing import process_document  # noqa: E402
from tests.documents import write_text_pdf  # noqa: E402

PASSWORD = "bench-password-0123"
WORDS = ["违约金", "penalty", "合同", "delivery", "付款", "warranty", "甲方", "invoice"]
PHRASES = [
    "违约金 按合同总额 5% 计算",
    "Late delivery incurs a penalty",
    "付款 期限 三十日",
    "warranty twelve months",
    "甲方 乙方 签订",
]


def build(folder: Path, n_archives: int, per_archive: int) -> tuple[Settings, str]:
    settings = Settings(
        home=folder / "instance",
        database_url=f"sqlite:///{folder / 'instance' / 'archive.db'}",
        secret_key="bench-secret-key-0123456789",
    )
    initialise(settings, admin_password=PASSWORD)
    container = Container.from_settings(settings)
    draw = random.Random(7)
    started = time.perf_counter()
    with container.database.session() as session:
        admin = bootstrap.get_admin(session)
        assert admin is not None
        clerk = users.create_user(
            session, admin, username="api-client", role="archivist", password=PASSWORD
        )
        clerk_id = clerk.id
        _row, token = api_tokens.create(session, clerk, "api-client", "bench")
    files = folder / "files"
    files.mkdir()
    for index in range(n_archives):
        with container.database.session() as session:
            admin = bootstrap.get_admin(session)
            number = archives.create_archive(
                session,
                admin,
                ArchiveInput(name=f"华信科技 {index} 有限公司"),
                number_pattern=settings.archive_number_pattern,
                on_created=container.on_archive_created,
            ).number
        for position in range(per_archive):
            lines = [f"Contract {index}-{position}", *draw.sample(PHRASES, 3)]
            path = write_text_pdf([lines], files / f"{index}-{position}.pdf")
            [result] = take_in(
                container,
                clerk_id,
                number,
                [IntakeItem(path=path, filename=path.name)],
                default_class="contract",
            )
            assert result.document_id is not None, result
            process_document(container, result.document_id)
    container.close()
    print(
        f"set-up: {n_archives * per_archive} documents in {n_archives} archives in "
        f"{time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return settings, token


def client_loop(
    base: str, token: str, stop_at: float, seed: int, latencies: list[float], errors: list[str]
) -> None:
    draw = random.Random(seed)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    turn = 0
    while time.monotonic() < stop_at:
        params: dict[str, str] = {"q": draw.choice(WORDS), "per_page": "10"}
        if turn % 3 == 1:
            params["class"] = "contract"
        elif turn % 3 == 2:
            params["page"] = "2"
        turn += 1
        began = time.perf_counter()
        try:
            answer = session.get(f"{base}/api/v1/search", params=params, timeout=60)
            failed = None if answer.ok else f"{answer.status_code}: {answer.text[:200]}"
        except requests.RequestException as error:
            failed = str(error)
        elapsed = time.perf_counter() - began
        latencies.append(elapsed)
        if failed:
            errors.append(failed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--archives", type=int, default=10)
    parser.add_argument("--per-archive", type=int, default=12)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-api-") as temporary:
        folder = Path(temporary)
        settings, token = build(folder, args.archives, args.per_archive)
        env = {
            **os.environ,
            "ARCHIVE_HOME": str(settings.home),
            "ARCHIVE_DATABASE_URL": settings.database_url,
            "ARCHIVE_SECRET_KEY": settings.secret_key or "",
        }
        port = free_port()
        log = folder / "serve.log"
        with log.open("ab") as out:
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "archive_app",
                    "serve",
                    "--no-worker",
                    "--port",
                    str(port),
                    "--threads",
                    str(args.threads),
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_listening(base, server, log)
            check = requests.get(
                f"{base}/api/v1/search",
                params={"q": "违约金"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            )
            check.raise_for_status()
            print(f"warm-up: {check.json()['total']} hits for 违约金", file=sys.stderr)
            per_client: list[list[float]] = [[] for _ in range(args.clients)]
            errors: list[str] = []
            started = time.monotonic()
            stop_at = started + args.seconds
            threads = [
                threading.Thread(
                    target=client_loop,
                    args=(base, token, stop_at, index, per_client[index], errors),
                )
                for index in range(args.clients)
            ]
            for thread in threads:
                thread.start()
            loads = []
            while any(thread.is_alive() for thread in threads):
                time.sleep(5)
                loads.append(os.getloadavg()[0])
            elapsed = time.monotonic() - started
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)

    latencies = sorted(value for values in per_client for value in values)
    cuts = quantiles(latencies, n=100)
    result = {
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "documents": args.archives * args.per_archive,
        "server_threads": args.threads,
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "errors": len(errors),
        "p50_ms": round(cuts[49] * 1000),
        "p95_ms": round(cuts[94] * 1000),
        "p99_ms": round(cuts[98] * 1000),
        "max_ms": round(latencies[-1] * 1000),
        "load_avg_max": round(max(loads), 1) if loads else None,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "error_samples": errors[:5],
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>16}: {value}")


if __name__ == "__main__":
    main()
