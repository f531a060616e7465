"""The command line's contract (the design's cli.md), command by command: bad values are
usage errors (exit 2) caught by the option types, refusals exit 1, both with one line on
stderr and never a traceback; every command that reports a result prints one JSON
document with --json; --as names who acts, and the permission is checked before anything
is asked.

Commands run in this process through the real entry point (the shared ``cli`` fixture:
argument parsing, the error mapping, exit codes), so a sweep over every command costs no
Python start-up per command. SQLite only: none of this depends on the database.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from archive_app.infra.container import Container
from archive_app.models import AuditEntry, User
from tests import documents as docs
from tests.conftest import CliResult
from tests.retention_app.conftest import add_document, make_archive

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_kind", ["sqlite"])]

# Seeded retention rules and real documents (intake and processing in this process).

OLD = date(1990, 3, 5)
CONTRACT_FIELDS = [
    "counterparty=北京华信科技有限公司",
    "contract_number=HT-2026-0315",
    "sign_date=2026-03-05",
    "end_date=2027-03-04",
    "amount=128000.00",
]


@pytest.fixture
def filed(container: Container, admin: User, people: dict[str, User], tmp_path: Path):
    """An archive with a contract (not yet declared) and a declared voucher of 1990."""
    archive = make_archive(container, admin)
    contract = add_document(
        container, admin, archive, "contract", tmp_path / "f", document_date=OLD, declared=False
    )
    voucher = add_document(container, admin, archive, "voucher", tmp_path / "f", document_date=OLD)
    return archive, contract, voucher


def test_bad_input_to_any_command_is_one_line_and_the_right_exit_code(
    cli, filed, tmp_path: Path
) -> None:
    archive, document, _ = filed
    garbage = tmp_path / "garbage.json"
    garbage.write_text("not a certificate")
    missing_folder = str(tmp_path / "nowhere" / "out.pdf")
    out = str(tmp_path / "out.pdf")  # never written: every case below is refused
    usage, refused = 2, 1
    cases: list[tuple[int, tuple[str, ...], str]] = [
        (usage, ("no-such-command",), "No such command"),
        (usage, ("export", document, "--original", "--pdf", "-o", out), "choose one of"),
        (usage, ("export", document, "-o", out), "choose one of"),
        (refused, ("export", document, "--pdf", "-o", missing_folder), "cannot write"),
        (refused, ("export", "KH-000009-HT-2026-0001", "--pdf", "-o", out), "not found"),
        (usage, ("edit", document, "--set", "novalue"), "is not FIELD=VALUE"),
        (usage, ("edit", document, "--set", "=x"), "is not FIELD=VALUE"),
        (refused, ("edit", document, "--set", "amount=lots"), "amount:"),
        (usage, ("retention", "plan", "--as-of", "notadate"), "is not a date"),
        (usage, ("retention", "appraise", "--as-of", "2020-02-30"), "is not a date"),
        (usage, ("retention", "batch", "create", "--as-of", "x"), "is not a date"),
        (usage, ("retention", "batch", "review", "B", "--extend", "--all", "--until", "y"), "date"),
        (
            usage,
            ("retention", "erasure", "request", archive, "--relationship-ended", "1/2"),
            "date",
        ),
        (usage, ("search", "x", "--from", "2020-13-01"), "is not a date"),
        (usage, ("search", "x", "--to", "yesterday"), "is not a date"),
        (usage, ("search", "x", "--min-amount", "1e309"), "below 10^15"),
        (usage, ("search", "x", "--max-amount", "NaN"), "amount like"),
        (usage, ("search", "x", "--limit", "0"), "--limit"),
        (refused, ("search", "合同 AND ("), "not valid"),
        (usage, ("event", "record", document, "contract_end", "2020-02-30"), "is not a date"),
        (usage, ("event", "record", document, "birthday", "2020-01-01"), "EVENT"),
        (refused, ("event", "record", "NOPE", "contract_end", "2020-01-01"), "not found"),
        (usage, ("hold", "create", "H", "--reason", "r"), "--archive or --document"),
        (refused, ("hold", "release", "NOPE", "--reason", "r"), "NOPE"),
        (refused, ("hold", "claim", "NOPE", "--reason", "r"), "not found"),
        (usage, ("checklist", "reject", document), "--reason"),
        (refused, ("checklist", "reject", "NOPE", "--reason", "x"), "not found"),
        (refused, ("checklist", "confirm", "NOPE"), "NOPE"),
        (refused, ("checklist", "print", "KH-999999", "-o", out), "not found"),
        (refused, ("checklist", "print", archive, "-o", missing_folder), "cannot write"),
        (refused, ("location", "set", "NOPE", "--room", "A"), "not found"),
        (usage, ("version", "add", document, str(tmp_path / "nope.pdf")), "does not exist"),
        (refused, ("retention", "set-rule", "policy.contract", "abc", "--reason", "r"), "period"),
        (refused, ("retention", "set-rule", "nope", "5", "--reason", "r"), "not found"),
        (refused, ("retention", "batch", "approve", "NOPE", "--as", "comp1"), "NOPE"),
        (refused, ("retention", "batch", "cancel", "NOPE", "--reason", "r"), "NOPE"),
        (refused, ("retention", "batch", "run", "NOPE"), "NOPE"),
        (usage, ("certificate", "verify", str(tmp_path / "nope.json")), "does not exist"),
        (refused, ("certificate", "verify", str(garbage)), "certificate invalid"),
        (refused, ("certificate", "verify", str(garbage), "--as", "nobody"), "not found"),
        (refused, ("audit", "verify", "--as", "arch"), "may not read the audit trail"),
        (refused, ("retention", "appraise", "--as", "arch"), "may not manage retention"),
        (refused, ("users", "create", "bob", "--role", "staff", "--as", "arch"), "manage users"),
        (usage, ("users", "create", "bob", "--role", "wizard"), "--role"),
        (usage, ("archives", "create", "--name", "X", "--level", "top"), "--level"),
        (refused, ("archives", "show", "KH-999999"), "not found"),
        (usage, ("import", str(tmp_path / "nope"), "--archive", archive), "no such file"),
        (refused, ("show", "NOPE"), "not found"),
        (refused, ("retry", "NOPE"), "not found"),
        (refused, ("verify", "--as", "arch"), "may not run the periodic inspection"),
        (usage, ("reindex", "--batch-size", "0"), "--batch-size"),
        (refused, ("backup", str(tmp_path / "b"), "--as", "arch"), "may not"),
        (usage, ("serve", "--port", "0"), "--port"),
        (usage, ("worker", "--concurrency", "0"), "--concurrency"),
        (refused, ("version", "list", "NOPE"), "not found"),
        (refused, ("location", "history", "NOPE"), "not found"),
        (refused, ("hold", "list", "--as", "nobody"), "not found"),
        (refused, ("retention", "erasure", "report", "NOPE"), "NOPE"),
        (refused, ("retention", "batch", "show", "NOPE"), "NOPE"),
        (refused, ("archives", "import", str(garbage)), "must be .csv or .xlsx"),
        (usage, ("archives", "import", str(tmp_path / "nope.csv")), "does not exist"),
        (usage, ("archives", "list", "--group-by", "colour"), "--group-by"),
        (refused, ("archives", "export-list", "-o", str(tmp_path / "list.txt")), ".csv or .xlsx"),
        (refused, ("archives", "template", "-o", missing_folder + ".csv"), "cannot write"),
        (refused, ("archives", "export", "KH-999999", "-o", out + ".zip"), "not found"),
        (refused, ("archives", "export", archive, "-o", out + ".zip", "--as", "arch"), "may not"),
        (refused, ("archives", "export", archive, "-o", missing_folder + ".zip"), "cannot write"),
        (refused, ("archives", "verify-export", str(garbage)), "not a readable ZIP"),
        (
            usage,
            (
                "archives",
                "consent",
                "add",
                archive,
                "--purpose",
                "p",
                "--date",
                "2026-02-30",
                "--channel",
                "c",
            ),
            "is not a date",
        ),
        (refused, ("archives", "consent", "list", "KH-999999"), "not found"),
        (
            refused,
            (
                "archives",
                "consent",
                "withdraw",
                archive,
                "7",
                "--date",
                "2026-01-01",
                "--channel",
                "c",
            ),
            "not found",
        ),
    ]
    wrong = []
    for expected, args, says in cases:
        # Refusals are also tried with --json: the error still goes to stderr alone.
        json_too = expected == refused and "--json" not in args
        result = cli(*args, "--json") if json_too else cli(*args)
        lines = result.stderr.strip().splitlines()
        if (
            result.returncode != expected
            or len(lines) != 1
            or says not in lines[0]
            or "Traceback" in result.stderr
            or (expected == usage and result.stdout.strip())
        ):
            wrong.append((args, result.returncode, result.stderr, result.stdout[:200]))
    assert wrong == []


def test_users_create_refuses_before_asking_for_a_password(cli, people) -> None:
    result = cli("users", "create", "bob", "--role", "staff", "--as", "arch", stdin="x" * 20)
    assert result.returncode == 1
    assert result.stderr.strip() == "archive: user 'arch' may not manage users"
    assert "Password" not in result.stdout + result.stderr


def _json(result: CliResult) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_every_command_that_reports_a_result_has_json(
    cli, container: Container, filed, tmp_path: Path
) -> None:
    archive, contract, voucher = filed
    sets = [arg for field in CONTRACT_FIELDS for arg in ("--set", field)]
    assert (
        _json(cli("edit", contract, "--title", "采购合同", *sets, "--json"))["title"] == "采购合同"
    )

    moved = _json(cli("location", "set", contract, "--room", "A301", "--box", "12", "--json"))
    assert moved == {
        "document": contract,
        "changed": True,
        "location": {"room": "A301", "shelf": "", "box": "12", "position": ""},
    }
    assert (
        _json(cli("location", "set", contract, "--room", "A301", "--box", "12", "--json"))[
            "changed"
        ]
        is False
    )
    assert _json(cli("checklist", "submit", contract, "--json"))["state"] == "awaiting_review"
    rejected = _json(
        cli("checklist", "reject", contract, "--reason", "缺少盖章页", "--as", "arch", "--json")
    )
    assert (rejected["state"], rejected["rejection_reason"]) == ("draft", "缺少盖章页")

    pdf = tmp_path / "contract.pdf"
    exported = _json(cli("export", contract, "--pdf", "-o", str(pdf), "--json"))
    assert exported == {
        "document": contract,
        "kind": "pdf",
        "file": str(pdf),
        "bytes": pdf.stat().st_size,
    }
    sheet = tmp_path / "cover.pdf"
    printed = _json(cli("checklist", "print", archive, "--cover", "-o", str(sheet), "--json"))
    assert printed["kind"] == "cover" and printed["bytes"] == sheet.stat().st_size

    event = _json(cli("event", "record", contract, "contract_end", "2027-03-04", "--json"))
    assert event == {"document": contract, "event": "contract_end", "date": "2027-03-04"}
    hold = _json(
        cli(
            "hold",
            "create",
            "诉讼-1",
            "--reason",
            "诉讼",
            "--document",
            contract,
            "--as",
            "comp1",
            "--json",
        )
    )
    assert hold["active"] is True and hold["owner"] == "comp1"
    assert (
        _json(cli("hold", "release", "诉讼-1", "--reason", "结案", "--as", "comp1", "--json"))[
            "active"
        ]
        is False
    )
    assert (
        _json(cli("hold", "claim", voucher, "--reason", "未结清", "--as", "comp1", "--json"))[
            "unsettled_claim"
        ]
        is True
    )
    assert (
        _json(cli("hold", "settle", voucher, "--reason", "结清", "--as", "comp1", "--json"))[
            "unsettled_claim"
        ]
        is False
    )

    rule = _json(
        cli(
            "retention",
            "set-rule",
            "policy.contract",
            "12",
            "--reason",
            "公司规定",
            "--as",
            "comp1",
            "--json",
        )
    )
    assert rule["rule"] == "policy.contract" and rule["version"] == 2
    assert _json(cli("retention", "appraise", "--as", "comp1", "--json"))["eligible"] == 1
    batch = _json(
        cli("retention", "batch", "create", "--document", voucher, "--as", "comp1", "--json")
    )["batch"]
    reviewed = _json(
        cli("retention", "batch", "review", batch, "--destroy", "--all", "--as", "comp1", "--json")
    )
    assert reviewed["items"][0]["review"]["action"] == "destroy"
    assert _json(cli("retention", "batch", "approve", batch, "--as", "comp1", "--json"))[
        "approvers"
    ] == ["comp1"]
    assert (
        _json(
            cli(
                "retention", "batch", "cancel", batch, "--reason", "改期", "--as", "comp1", "--json"
            )
        )["state"]
        == "cancelled"
    )

    assert _json(cli("audit", "verify", "--as", "comp1", "--json"))["ok"] is True
    listing = _json(cli("archives", "list", "--json"))
    assert [(row["number"], row["documents"]) for row in listing["archives"]] == [(archive, 2)]
    assert "2 documents" in cli("archives", "list").stdout

    scan = docs.write_text_pdf(
        [["Service Agreement", "rescanned with the stamp page"]], tmp_path / "v2.pdf"
    )
    version = _json(cli("version", "add", contract, str(scan), "--reason", "补扫", "--json"))
    assert version == {"document": contract, "version": 2, "status": "queued"}

    # --as names who acted: the audit trail says so.
    with container.database.session() as session:
        actors = {
            entry.action: entry.actor_name
            for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        }
    assert actors["retention.appraisal"] == "comp1"


def test_certificate_verify_as_a_user_is_recorded(
    cli, container: Container, people, tmp_path: Path
) -> None:
    garbage = tmp_path / "certificate.json"
    garbage.write_text("{}")
    result = cli("certificate", "verify", str(garbage), "--as", "comp1", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["valid"] is False
    with container.database.session() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "certificate.verify")
        ).one()
    assert entry.actor_name == "comp1"
    assert entry.after["valid"] is False
