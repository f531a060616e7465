"""Customers: attributes and tags, the customer information table (客户信息表) imported from
CSV and XLSX through the real command line (good rows, every kind of bad row, dry run,
--skip-invalid, re-import updating instead of duplicating), the list's filters and
groups, the exported list importing back, the refusals, and an import killed (SIGKILL, a
real process) while writing. Both databases."""

from __future__ import annotations

import csv
import io
import json
import random
import sqlite3
from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from archive_app.infra import vault
from archive_app.infra.config import Settings
from archive_app.infra.db import Database
from archive_app.models import AuditEntry, CustomerArchive
from tests.app.workers import kill_when
from tests.paperwork import uscc

HEADER = ["客户名称", "客户类型", "行业", "地区", "统一社会信用代码", "标签", "保密级别"]
RNG = random.Random(19)
TAX = [uscc(RNG) for _ in range(6)]
BAD_TAX = uscc(RNG, valid=False)


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(out.getvalue().encode("utf-8-sig"))
    return path


def write_xlsx(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def archive_count(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count(CustomerArchive.id))) or 0


def import_entries(database: Database) -> int:
    with database.session() as session:
        return (
            session.scalar(
                select(func.count(AuditEntry.seq)).where(AuditEntry.action == "archive.import")
            )
            or 0
        )


GOOD = [
    ["上海明远贸易有限公司", "企业", "批发和零售业", "上海", TAX[0], "VIP;华东", "内部"],
    ["Harbour Tools Ltd", "company", "制造业", "深圳", TAX[1], "华南", "confidential"],
    ["李四", "个人", "", "北京", "", "", ""],
]


def test_import_creates_then_a_second_import_updates_instead_of_duplicating(
    cli, database: Database, settings: Settings, tmp_path: Path
) -> None:
    first = cli("archives", "import", str(write_csv(tmp_path / "t.csv", GOOD)), "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert (report["create"], report["invalid"], report["written"]) == (3, 0, True)
    numbers = [row["number"] for row in report["rows"]]
    assert numbers == ["KH-000001", "KH-000002", "KH-000003"]
    # Every imported archive has its key in the store, as one created by hand.
    store = vault.open_store(settings)
    try:
        with database.session() as session:
            for archive in session.scalars(select(CustomerArchive)):
                assert store.archive_exists(archive.storage_id)
    finally:
        store.close()
    shown = json.loads(cli("archives", "show", "KH-000001", "--json").stdout)
    assert (shown["industry"], shown["region"], shown["tax_id"]) == ("批发和零售业", "上海", TAX[0])
    assert shown["tags"] == ["VIP", "华东"] and shown["level"] == "internal"

    # The same customers again: matched by tax ID (renamed), by exact name, and unchanged.
    again = [
        ["上海明远贸易股份有限公司", "", "", "华东区", TAX[0], "", ""],
        ["李四", "", "", "", TAX[2], "个人客户", ""],
        ["Harbour Tools Ltd", "", "", "", "", "", ""],
    ]
    second = cli("archives", "import", str(write_xlsx(tmp_path / "t.xlsx", again)), "--json")
    assert second.returncode == 0, second.stderr
    report = json.loads(second.stdout)
    actions = [(row["action"], row["number"]) for row in report["rows"]]
    assert actions == [("update", "KH-000001"), ("update", "KH-000003"), ("unchanged", "KH-000002")]
    assert archive_count(database) == 3
    shown = json.loads(cli("archives", "show", "KH-000001", "--json").stdout)
    # Empty cells keep what the archive holds.
    assert (shown["name"], shown["region"], shown["industry"]) == (
        "上海明远贸易股份有限公司",
        "华东区",
        "批发和零售业",
    )
    person = json.loads(cli("archives", "show", "KH-000003", "--json").stdout)
    assert person["tax_id"] == TAX[2] and person["tags"] == ["个人客户"]
    with database.session() as session:
        updates = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "archive.update")
        ).all()
        assert {entry.object_id for entry in updates} == {"KH-000001", "KH-000003"}
    assert import_entries(database) == 2


def test_every_kind_of_bad_row_is_reported_and_the_file_refused_whole(
    cli, database: Database, make_user, tmp_path: Path
) -> None:
    make_user("li", "archivist", "confidential")
    seeded = [
        ["同名有限公司", "", "", "", "", "", ""],
        ["同名有限公司", "", "", "", "", "", ""],  # a second archive of that name (via form)
    ]
    cli("archives", "create", "--name", seeded[0][0])
    cli("archives", "create", "--name", seeded[1][0])
    cli("archives", "create", "--name", "已有税号公司", "--tax-id", TAX[3])
    cli("archives", "create", "--name", "机密客户", "--tax-id", TAX[4], "--level", "secret")
    before = archive_count(database)
    rows = [
        ["好客户一", "企业", "", "", TAX[5], "", ""],  # line 2: good
        ["", "企业", "", "", "", "", ""],  # 3: no name
        ["坏类型", "合伙", "", "", "", "", ""],  # 4: unknown type
        ["坏级别", "", "", "", "", "", "绝密"],  # 5: unknown level
        ["坏税号", "", "", "", BAD_TAX, "", ""],  # 6: check digit
        ["好客户一重复税号", "", "", "", TAX[5], "", ""],  # 7: repeats line 2's tax ID
        ["好客户一", "", "", "", "", "", ""],  # 8: repeats line 2's name
        ["太机密", "", "", "", "", "", "secret"],  # 9: above li's clearance
        ["同名有限公司", "", "", "", "", "", ""],  # 10: two archives of that name
        ["已有税号公司", "", "", "", TAX[0], "", ""],  # 11: that name has another tax ID
        ["机密客户", "", "", "", TAX[4], "", ""],  # 12: matches an archive li may not see
        ["多一格", "", "", "", "", "", "", "surplus"],  # 13: more cells than columns
        ["长标签", "", "", "", "", "x" * 61, ""],  # 14: tag too long
    ]
    for path in (write_csv(tmp_path / "bad.csv", rows), write_xlsx(tmp_path / "bad.xlsx", rows)):
        result = cli("archives", "import", str(path), "--json", "--as", "li")
        assert result.returncode == 1
        report = json.loads(result.stdout)
        assert report["refused"] and not report["written"]
        bad = {row["line"]: row["problems"] for row in report["rows"] if row["action"] == "invalid"}
        assert sorted(bad) == list(range(3, 15)), report["rows"]
        assert "required" in bad[3]["name"]
        assert "customer_type" in bad[4] and "level" in bad[5]
        assert "check digit" in bad[6]["tax_id"]
        assert bad[7]["tax_id"] == "repeats line 2" and bad[8]["name"] == "repeats line 2"
        assert "clearance" in bad[9]["level"]
        assert "2 archives" in bad[10]["name"] and "another tax ID" in bad[11]["tax_id"]
        assert "may not change" in bad[12]["name"] and "more cells" in bad[13]["row"]
        assert "60 characters" in bad[14]["tags"]
        reasons = {row["line"]: row["reasons"] for row in report["rows"]}
        assert reasons[7]["tax_id"] == {"code": "repeats_line", "data": {"line": 2}}
        assert archive_count(database) == before and import_entries(database) == 0

    # The plain report names every bad line on stderr, and says nothing was imported.
    plain = cli("archives", "import", str(tmp_path / "bad.csv"), "--as", "li")
    assert plain.returncode == 1
    for line in range(3, 15):
        assert f"line {line}:" in plain.stderr
    assert "nothing imported" in plain.stderr

    # --skip-invalid imports the good row and reports the rest.
    skipped = cli(
        "archives", "import", str(tmp_path / "bad.xlsx"), "--skip-invalid", "--json", "--as", "li"
    )
    assert skipped.returncode == 0, skipped.stderr
    report = json.loads(skipped.stdout)
    assert (report["create"], report["invalid"], report["written"]) == (1, 12, True)
    assert archive_count(database) == before + 1
    with database.session() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "archive.import")
        ).one()
        assert entry.actor_name == "li"
        assert entry.after is not None and entry.after["skipped_lines"] == list(range(3, 15))


def test_a_dry_run_reports_and_writes_nothing(cli, database: Database, tmp_path: Path) -> None:
    cli("archives", "create", "--name", "李四", "--type", "person")
    before = archive_count(database)
    result = cli(
        "archives", "import", str(write_csv(tmp_path / "t.csv", GOOD)), "--dry-run", "--json"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [row["action"] for row in report["rows"]] == ["create", "create", "update"]
    assert report["dry_run"] and not report["written"]
    assert archive_count(database) == before and import_entries(database) == 0
    shown = json.loads(cli("archives", "show", "KH-000001", "--json").stdout)
    assert shown["region"] == ""


def test_list_filters_and_groups_and_the_exported_list_imports_back(
    cli, database: Database, tmp_path: Path
) -> None:
    assert cli("archives", "import", str(write_csv(tmp_path / "t.csv", GOOD))).returncode == 0
    tagged = json.loads(cli("archives", "list", "--tag", "华东", "--json").stdout)
    assert [row["name"] for row in tagged["archives"]] == ["上海明远贸易有限公司"]
    assert tagged["archives"][0]["documents"] == 0
    people = json.loads(cli("archives", "list", "--type", "person", "--json").stdout)
    assert [row["number"] for row in people["archives"]] == ["KH-000003"]
    region = json.loads(cli("archives", "list", "--region", "深圳", "--json").stdout)
    assert [row["number"] for row in region["archives"]] == ["KH-000002"]
    groups = json.loads(cli("archives", "list", "--group-by", "tag", "--json").stdout)
    assert {g["value"]: g["archives"] for g in groups["groups"]} == {
        "VIP": 1,
        "华东": 1,
        "华南": 1,
        "": 1,
    }
    by_type = json.loads(cli("archives", "list", "--group-by", "type", "--json").stdout)
    assert {g["value"]: g["archives"] for g in by_type["groups"]} == {"company": 2, "person": 1}

    for suffix in ("csv", "xlsx"):
        out = tmp_path / f"list.{suffix}"
        assert cli("archives", "export-list", "-o", str(out)).returncode == 0
        if suffix == "csv":
            rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
        else:
            rows = [list(r) for r in load_workbook(out).active.iter_rows(values_only=True)]
        assert rows[0][:3] == ["档案编号", "文件数", "客户名称"]
        assert [r[0] for r in rows[1:]] == ["KH-000001", "KH-000002", "KH-000003"]
        back = json.loads(cli("archives", "import", str(out), "--json").stdout)
        assert back["unchanged"] == 3 and back["create"] == back["update"] == 0

    template = tmp_path / "template.xlsx"
    assert cli("archives", "template", "-o", str(template)).returncode == 0
    dry = json.loads(cli("archives", "import", str(template), "--dry-run", "--json").stdout)
    assert dry["create"] == 1 and dry["invalid"] == 0


def test_who_may_import_and_export(cli, database: Database, make_user, tmp_path: Path) -> None:
    make_user("zhao", "staff")
    path = write_csv(tmp_path / "t.csv", GOOD)
    refused = cli("archives", "import", str(path), "--as", "zhao")
    assert refused.returncode == 1 and "may not create or edit archives" in refused.stderr
    assert archive_count(database) == 0
    with database.session() as session:
        assert session.scalar(
            select(func.count(AuditEntry.seq)).where(AuditEntry.action == "access.refused")
        )
    # Staff read the list, so they may export what they see.
    assert (
        cli("archives", "export-list", "-o", str(tmp_path / "l.csv"), "--as", "zhao").returncode
        == 0
    )
    unreadable = cli("archives", "import", str(write_csv(tmp_path / "u.csv", [["x"]], ["名字"])))
    assert unreadable.returncode == 1 and "unknown column(s): 名字" in unreadable.stderr


def test_the_relationship_end_is_edited_from_the_command_line(cli, tmp_path: Path) -> None:
    number = cli("archives", "create", "--name", "甲公司").stdout.strip()
    edited = cli("archives", "edit", number, "--relationship-end", "2024-06-30", "--json")
    assert json.loads(edited.stdout)["relationship_end"] == "2024-06-30"
    bad = cli("archives", "edit", number, "--relationship-end", "30/06/2024")
    assert bad.returncode == 1 and "YYYY-MM-DD" in bad.stderr
    cleared = cli("archives", "edit", number, "--relationship-end", "", "--json")
    assert json.loads(cleared.stdout)["relationship_end"] is None


def test_an_import_killed_while_writing_leaves_nothing_and_runs_again_in_full(
    cli, database: Database, settings: Settings, tmp_path: Path
) -> None:
    cli("archives", "create", "--name", "已有客户有限公司")
    rows = [
        [f"导入测试客户{index:04d}有限公司", "企业", "", "", "", "", ""] for index in range(3000)
    ]
    table = write_csv(tmp_path / "客户信息表.csv", rows)
    keystore = vault.store_root(settings) / "keys" / "keystore.sqlite3"

    def keys() -> int:
        with sqlite3.connect(f"file:{keystore}?mode=ro", uri=True) as connection:
            return connection.execute("SELECT count(*) FROM archives").fetchone()[0]

    keys_before = keys()
    # The archives' keys are made inside the import's transaction, after its rows are
    # inserted and before their audit entries and the commit: kill in that window.
    kill_when(
        settings,
        ["archives", "import", str(table), "--json"],
        lambda: keys() != keys_before,
        tmp_path / "import.log",
    )
    # Nothing of it was written: no archive, no audit entry, the chain intact.
    assert archive_count(database) == 1
    assert import_entries(database) == 0
    verified = cli("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # The same file again is imported whole, numbered on from where the instance was (the
    # killed import's numbers were never taken). Its unused keys stay in the key store:
    # a key without objects, encrypting nothing.
    again = cli("archives", "import", str(table), "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert (report["create"], report["written"]) == (3000, True)
    assert [row["number"] for row in report["rows"]][::2999] == ["KH-000002", "KH-003001"]
    assert archive_count(database) == 3001 and import_entries(database) == 1
    assert cli("audit", "verify").returncode == 0
