"""The README's API example works as typed: its shell block is run by bash, with the real
``archive`` command and curl, against the app served by waitress on a loopback port (only
the address is changed to that port)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from waitress import create_server

from archive_app.services import bootstrap, users
from tests import documents as docs
from tests.api.conftest import ApiInstance
from tests.conftest import USER_PASSWORD

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def served(api: ApiInstance) -> Iterator[str]:
    server = create_server(api.app, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=10)


def test_readme_curl_upload(api: ApiInstance, served: str, tmp_path: Path) -> None:
    block = re.search(r"<!-- api-example -->\n```sh\n(.*?)```", README.read_text(), re.S)
    assert block, "the README lost its API example"
    script = block.group(1).replace("http://127.0.0.1:5000", served)
    assert api.archive in script
    with api.container.database.session() as session:
        users.create_user(
            session,
            bootstrap.get_admin(session),
            username="li",
            role="archivist",
            password=USER_PASSWORD,
        )
    for index in (1, 2):
        docs.write_text_pdf(
            [[f"Supply Contract {index}", "违约金 5%"]], tmp_path / f"scan-00{index}.pdf"
        )
    environment = {
        **os.environ,
        "ARCHIVE_HOME": str(api.settings.home),
        "ARCHIVE_DATABASE_URL": api.settings.database_url,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    upload, search = run.stdout.strip().splitlines()
    results = json.loads(upload)
    assert [(r["file"], r["status"]) for r in results] == [
        ("scan-001.pdf", "queued"),
        ("scan-002.pdf", "queued"),
    ]
    assert "total" in json.loads(search)
