"""The document viewer's page image of an A4 scan: ``/documents/NUMBER/pages/1.png`` over
real HTTP, cold and warm, against the goal of 500 ms.

Usage: python bench/viewer.py [--requests 30] [--cold-starts 3]

Set-up (not timed): an instance made by ``archive init`` on SQLite in a temporary folder,
an archivist, one archive, and three A4 scans at 300 dpi (2480 x 3508 pixels) taken in
through the real intake (stored encrypted; no OCR is needed for page images): a grayscale
PNG, a colour JPEG (quality 85, with a red seal, so it stays in colour) and a scanned PDF (the page as a JPEG image inside). Each
page holds 44 lines of Chinese and English text and scanner grain (Gaussian noise, sigma 6),
so it compresses like a scan rather than like a drawing.

Measured, per scan: cold, the first page image a freshly started ``archive serve
--no-worker`` answers (its imports, database connections and PDFium not yet warm, and the
encrypted blob dropped from the page cache with ``posix_fadvise(DONTNEED)``), over
``--cold-starts`` server starts; warm, ``--requests`` requests one after another after two
to warm up, and the thumbnail the same way. Every request is the whole answer read by a
``requests`` session logged in as the archivist, and each is audited, as in use. Beside it,
the rendering alone in this process (decrypt + render + PNG), with the CPU time it takes
(what a request costs on an idle core: on a shared machine the wall time also counts the
wait for a core).
Printed: median (p50), p95 and max, and whether p50 and p95 are under 500 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median, quantiles

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw  # noqa: E402
from sqlalchemy import select  # noqa: E402
from webserver import free_port, logged_in, wait_listening  # noqa: E402

from archive_app.infra.config import Settings  # noqa: E402
from archive_app.infra.container import Container  # noqa: E402
from archive_app.models import Document  # noqa: E402
from archive_app.services import archives, bootstrap, page_images, users  # noqa: E402
from archive_app.services.archives import ArchiveInput  # noqa: E402
from archive_app.services.initialise import initialise  # noqa: E402
from archive_app.services.intake import IntakeItem, take_in  # noqa: E402
from tests import documents as docs  # noqa: E402

PASSWORD = "bench-password-123"
GOAL = 0.500
A4 = (2480, 3508)
LINES = [
    "增值税专用发票 发票代码 3100212130 发票号码 08741295",
    "购买方名称 上海明远贸易有限公司 纳税人识别号 91310000MA1K3XYZ2B",
    "Service Agreement No. HT-2026-0315 between the parties named below",
    "货物或应税劳务名称 规格型号 单位 数量 单价 金额 税率 税额",
]


def a4_scan(colour: bool, seed: int) -> Image.Image:
    """A full A4 page of text at 300 dpi with scanner grain; colour adds a paper tint and a
    red seal."""
    import numpy as np

    draw_rng = random.Random(seed)
    page = Image.new("L", A4, 250)
    draw = ImageDraw.Draw(page)
    font = docs._font(44)
    for row in range(44):
        draw.text((180, 200 + row * 72), draw_rng.choice(LINES), fill=20, font=font)
    rng = np.random.default_rng(seed)
    grain = np.asarray(page, dtype=np.int16) + rng.normal(0, 6, page.size[::-1]).astype(np.int16)
    gray = np.clip(grain, 0, 255).astype(np.uint8)
    if not colour:
        return Image.fromarray(gray)
    wide = gray.astype(np.int16)
    tint = np.stack([np.clip(wide + 3, 0, 255), wide, np.clip(wide - 8, 0, 255)], -1)
    scan = Image.fromarray(tint.astype(np.uint8))
    # A red company seal (公章) over the text: the page must stay in colour.
    ImageDraw.Draw(scan).ellipse((1500, 2700, 2100, 3300), outline=(200, 30, 30), width=28)
    return scan


def write_scans(folder: Path) -> dict[str, Path]:
    gray, colour = a4_scan(False, 1), a4_scan(True, 2)
    paths = {
        "PNG, grayscale": folder / "scan.png",
        "JPEG, colour": folder / "scan.jpg",
        "PDF (scanned)": folder / "scan.pdf",
    }
    gray.save(paths["PNG, grayscale"], "PNG", dpi=(300, 300))
    colour.save(paths["JPEG, colour"], "JPEG", quality=85, dpi=(300, 300))
    gray.save(paths["PDF (scanned)"], "PDF", resolution=300.0, quality=85)
    return paths


def summary(times: list[float]) -> str:
    mid = median(times)
    p95 = quantiles(times, n=20)[-1] if len(times) >= 2 else times[0]
    verdict = "yes" if mid < GOAL and p95 < GOAL else "NO"
    return (
        f"p50 {mid * 1000:5.0f} ms  p95 {p95 * 1000:5.0f} ms  max {max(times) * 1000:5.0f} ms"
        f"  < 500 ms: {verdict}"
    )


def timed(call: Callable[[], object], count: int, warm: int = 2) -> list[float]:
    for _ in range(warm):
        call()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def fetch(client, url: str) -> int:
    answer = client.get(url, timeout=60)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/png", (
        answer.status_code,
        answer.text[:200],
    )
    return len(answer.content)


def drop_cache(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def serve(settings: Settings, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        **os.environ,
        "ARCHIVE_HOME": str(settings.home),
        "ARCHIVE_DATABASE_URL": settings.database_url,
        "ARCHIVE_SECRET_KEY": settings.secret_key or "",
    }
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
    try:
        wait_listening(base, process, log)
    except BaseException:
        stop(process)
        raise
    return process, base


def stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--cold-starts", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="archive-viewer-bench-"))
    try:
        run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace, workdir: Path) -> None:
    settings = Settings(
        home=workdir / "instance",
        database_url=f"sqlite:///{workdir / 'instance' / 'archive.db'}",
        secret_key="bench-secret-key-0123456789",
    )
    initialise(settings, admin_password=PASSWORD)
    container = Container.from_settings(settings)
    container.open_store()
    with container.database.session() as session:
        admin = bootstrap.get_admin(session)
        archivist = users.create_user(
            session, admin, username="arch1", role="archivist", password=PASSWORD
        )
        archive = archives.create_archive(
            session,
            admin,
            ArchiveInput(name="上海明远贸易有限公司"),
            number_pattern="KH-{seq:06d}",
            on_created=container.on_archive_created,
        ).number
    numbers = {}
    for label, path in write_scans(workdir).items():
        [result] = take_in(container, archivist.id, archive, [IntakeItem(path, path.name)])
        assert result.document, result
        numbers[label] = result.document
        print(f"{label:<16} {path.stat().st_size / 1e6:5.1f} MB  {result.document}")

    print("\nrendering alone, in this process (decrypt + render + PNG), 10 runs:")
    for label, number in numbers.items():
        with container.database.session() as session:
            document = session.scalars(select(Document).where(Document.number == number)).one()
            handle = page_images.PageHandle(
                number,
                document.archive.storage_id,
                document.original_object_id or "",
                page_images.KINDS[document.mime_type],
                0,
                page_images.PAGE_SIDE,
            )
        cpu_before = time.process_time()
        times = timed(lambda h=handle: page_images.render(container, h), 10, warm=1)
        cpu = (time.process_time() - cpu_before) / 11
        size = len(page_images.render(container, handle).png)
        print(f"  {label:<16} {summary(times)}  CPU {cpu * 1000:4.0f} ms  PNG {size / 1e3:.0f} kB")
    container.close()

    print(f"\ncold: the first page image after a server start ({args.cold_starts} starts):")
    cold: dict[str, list[float]] = {label: [] for label in numbers}
    for _ in range(args.cold_starts):
        for label, number in numbers.items():
            drop_cache(settings.home / "store")
            process, base = serve(settings, workdir / "serve.log")
            try:
                client, _token = logged_in(base, "arch1", PASSWORD)
                started = time.perf_counter()
                fetch(client, f"{base}/documents/{number}/pages/1.png")
                cold[label].append(time.perf_counter() - started)
            finally:
                stop(process)
    for label, times in cold.items():
        print(f"  {label:<16} {summary(times)}")

    print(f"\nwarm: {args.requests} requests one after another:")
    process, base = serve(settings, workdir / "serve.log")
    try:
        client, _token = logged_in(base, "arch1", PASSWORD)
        for label, number in numbers.items():
            url = f"{base}/documents/{number}/pages/1.png"
            times = timed(lambda u=url: fetch(client, u), args.requests)
            print(
                f"  page      {label:<16} {summary(times)}  PNG {fetch(client, url) / 1e3:.0f} kB"
            )
        for label, number in numbers.items():
            url = f"{base}/documents/{number}/thumbnail.png"
            times = timed(lambda u=url: fetch(client, u), args.requests)
            print(f"  thumbnail {label:<16} {summary(times)}")
    finally:
        stop(process)
    load = os.getloadavg()
    print(
        f"\nload average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
