"""A live server on a free local port and a headless Chromium driven by Playwright.

Uses the system's Chromium (``ARCHIVE_TEST_CHROMIUM``, default ``/usr/bin/chromium``);
the browser tests skip with the reason when it is not installed, unless services are
required (CI), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from archive_app.app import create_app
from archive_app.infra.config import Settings
from tests.conftest import unavailable

CHROMIUM = os.environ.get("ARCHIVE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        unavailable(f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def app(instance_settings: Settings) -> Iterator[Flask]:
    """The app of the test instance, on a task queue of its own (what a page queues waits
    there for this test's worker, if it has one)."""
    application = create_app(instance_settings, testing=True)
    yield application
    application.extensions["archive"].close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    from waitress import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(timeout=5)


@pytest.fixture
def page(browser, live_server: str):
    context = browser.new_context(base_url=live_server, locale="en-US")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()
