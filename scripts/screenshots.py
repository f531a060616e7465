"""Screenshots of the main pages in both languages, for the README's tour.

Builds a throw-away instance in a temporary folder with a record in every state (the same
instance the page tests use, ``tests.showcase``), serves it on a free loopback port, and
photographs each page with headless Chromium (``ARCHIVE_TEST_CHROMIUM``, default
``/usr/bin/chromium``), in English and in Chinese, plus the navigation at 375 px. The PNGs
are reduced to a 256-colour palette to stay small.

    .venv/bin/python scripts/screenshots.py [OUTPUT_FOLDER]   # default docs/screenshots
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402
from waitress import create_server  # noqa: E402

from archive_app.app import create_app  # noqa: E402
from archive_app.infra import schema, vault  # noqa: E402
from archive_app.infra.config import Settings  # noqa: E402
from archive_app.infra.container import Container  # noqa: E402
from archive_app.infra.db import Database  # noqa: E402
from archive_app.services import bootstrap, users  # noqa: E402
from archive_app.services.retention.schedule import seed_rules  # noqa: E402
from tests import showcase  # noqa: E402

PASSWORD = "screenshot-password-1"
CHROMIUM = os.environ.get("ARCHIVE_TEST_CHROMIUM", "/usr/bin/chromium")


def _instance(folder: Path) -> tuple[Settings, showcase.Showcase]:
    home = folder / "instance"
    home.mkdir()
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{home / 'archive.db'}",
        secret_key="screenshots-secret-key-0123456789",
        ocr_workers=1,
    )
    vault.ensure_master_key(settings)
    vault.open_store(settings, create=True).close()
    database = Database(settings.database_url)
    schema.upgrade(database.engine)
    with database.session() as session:
        bootstrap.seed_chain_and_counters(session)
        bootstrap.seed_document_classes(session)
        bootstrap.ensure_admin(session, PASSWORD)
        seed_rules(session)
    people = {}
    with database.session() as session:
        admin = bootstrap.get_admin(session)
        assert admin is not None
        for key, name, role in (
            ("c1", "comp1", "compliance"),
            ("c2", "comp2", "compliance"),
            ("c3", "comp3", "compliance"),
            ("arch", "arch", "archivist"),
        ):
            people[key] = users.create_user(
                session, admin, username=name, role=role, password=PASSWORD
            )
    container = Container.from_settings(settings)
    try:
        case = showcase.build(container, admin, people, folder / "scans")
    finally:
        container.close()
        database.dispose()
    return settings, case


def _shoot(page: Page, address: str, target: Path, *, open_menu: bool = False) -> None:
    page.goto(address)
    page.wait_for_load_state("networkidle")
    if open_menu:
        page.locator("#menu-button").click()
        page.locator("#main-nav").wait_for(state="visible")
        page.wait_for_timeout(400)  # the panel's slide-in transition
    page.screenshot(path=target)
    image = Image.open(target).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
    print(target.relative_to(ROOT) if target.is_relative_to(ROOT) else target)


def main(output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as temporary:
        settings, case = _instance(Path(temporary))
        app = create_app(settings)
        server = create_server(app, host="127.0.0.1", port=0, threads=4)
        threading.Thread(target=server.run, daemon=True).start()
        base = f"http://127.0.0.1:{server.effective_port}"
        pages = {
            "dashboard": "/dashboard",
            "archive": f"/archives/{case.archive}",
            "document": f"/documents/{case.draft}",
            "destroyed-record": f"/documents/{case.destroyed}",
            "search": "/search?q=付款单据",
            "retention-plan": "/retention/plan?as_of=2026-12-31",
            "destruction-list": f"/retention/batches/{case.open_batch}",
        }
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
                )
                for language in ("en", "zh_CN"):
                    suffix = "zh" if language == "zh_CN" else "en"
                    for width, names in ((1280, pages), (375, {"navigation": "/dashboard"})):
                        context = browser.new_context(
                            base_url=base,
                            viewport={"width": width, "height": 800},
                            locale="zh-CN" if suffix == "zh" else "en-US",
                        )
                        page = context.new_page()
                        page.goto("/login")
                        page.locator("input[name=username]").fill("admin")
                        page.locator("input[name=password]").fill(PASSWORD)
                        page.locator("form button[type=submit]").last.click()
                        page.locator(f'button[data-language="{language}"]').click()
                        for name, address in names.items():
                            target = output / f"{name}-{suffix}.png"
                            _shoot(page, address, target, open_menu=width == 375)
                        context.close()
                browser.close()
        finally:
            server.close()
            app.extensions["archive"].close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
