"""Importing the customer information table (客户信息表): 10,000 rows through
``archive archives import``, on SQLite and PostgreSQL.

Usage: python bench/customers.py [--rows 10000] [--only sqlite|postgresql]
                                 [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                                 [--seed 1]

Set-up per database (not timed): an instance made by ``archive init`` (SQLite in a
temporary folder; on ``--server`` a fresh database, dropped afterwards) and two tables of
``--rows`` customers, as XLSX (saved as a spreadsheet program saves it: shared strings, the
sheet's dimension) and as CSV: names, types, industries, regions, valid
统一社会信用代码 (check digit computed), contacts, addresses, levels and one to three tags.

Measured, each as one child process ``python -m archive_app archives import FILE --json``
(wall time, the start-up of the command included, and the child's CPU time, user and
system: on a shared machine the wall time mostly measures the other processes, the CPU
time what the import itself costs; the load average before each case is printed): a dry run of the XLSX file (reads,
checks and matches every row, writes nothing), the XLSX import into the empty instance
(every row creates an archive: number, key in the store, audit entry), the same file
again (every row matched by its tax ID, nothing to change), and the CSV with every
tenth row changed (matched, 1,000 updates). The goal is under 30 s for the first import.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from instances import scratch_instance  # noqa: E402

HEADER = [
    "客户名称",
    "客户类型",
    "行业",
    "地区",
    "统一社会信用代码",
    "联系人",
    "地址",
    "保密级别",
    "标签",
]
USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
INDUSTRIES = [
    "制造业",
    "批发和零售业",
    "建筑业",
    "信息技术服务业",
    "金融业",
    "交通运输业",
    "餐饮业",
]
REGIONS = ["上海", "北京", "深圳", "广州", "杭州", "成都", "武汉", "南京"]
TAGS = ["VIP", "华东", "华南", "新客户", "重点", "出口", "政府项目", "长期合作"]
LEVELS = ["public", "internal", "internal", "confidential"]


def credit_code(draw: random.Random, serial: int) -> str:
    body = "91" + f"{draw.randrange(110000, 660000):06d}" + f"{serial:09d}"
    total = sum(USCC.index(c) * w for c, w in zip(body, WEIGHTS, strict=True))
    return body + USCC[(31 - total % 31) % 31]


def rows(count: int, draw: random.Random) -> list[list[str]]:
    table = []
    for serial in range(count):
        person = serial % 7 == 0
        table.append(
            [
                f"客户{serial:05d}" + ("" if person else f"{draw.choice(REGIONS)}贸易有限公司"),
                "个人" if person else "企业",
                draw.choice(INDUSTRIES),
                draw.choice(REGIONS),
                "" if person else credit_code(draw, serial),
                f"联系人{serial} 138{draw.randrange(10**8):08d}",
                f"{draw.choice(REGIONS)}市示例路{serial}号",
                draw.choice(LEVELS),
                ";".join(draw.sample(TAGS, draw.randint(1, 3))),
            ]
        )
    return table


def write_xlsx(path: Path, table: list[list[str]]) -> None:
    # A normal workbook, as a spreadsheet program saves one: shared strings and the sheet's
    # dimension recorded (openpyxl's write-only mode writes neither, and reads back slower).
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "客户信息表"
    sheet.append(HEADER)
    for row in table:
        sheet.append(row)
    workbook.save(path)


def write_csv(path: Path, table: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(table)


def timed_import(env: dict[str, str], path: Path, *extra: str) -> tuple[float, float, dict]:
    """Wall time and CPU time (user + system) of one import as a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "archive_app", "archives", "import", str(path), "--json", *extra],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        raise SystemExit(f"import failed ({result.returncode}): {result.stderr[-2000:]}")
    return elapsed, cpu, json.loads(result.stdout)


def run(kind: str, args: argparse.Namespace) -> None:
    with scratch_instance(
        kind, args.server, "customers", admin_password="bench-admin-password-1"
    ) as settings:
        workdir, url = settings.home.parent, settings.database_url
        draw = random.Random(args.seed)
        table = rows(args.rows, draw)
        xlsx, changed_csv = workdir / "customers.xlsx", workdir / "customers-changed.csv"
        write_xlsx(xlsx, table)
        changed = [
            [*row[:6], row[6] + "（新址）", *row[7:]] if n % 10 == 0 else row
            for n, row in enumerate(table)
        ]
        write_csv(changed_csv, changed)
        env = {
            **os.environ,
            "ARCHIVE_HOME": str(settings.home),
            "ARCHIVE_DATABASE_URL": url,
            "ARCHIVE_SECRET_KEY": settings.secret_key or "",
        }
        cases = [
            ("dry run, XLSX, empty instance", xlsx, ("--dry-run",), "create"),
            ("import, XLSX, every row new", xlsx, (), "create"),
            ("import, XLSX again, nothing changes", xlsx, (), "unchanged"),
            ("import, CSV, every tenth row changed", changed_csv, (), "update"),
        ]
        for label, path, extra, counted in cases:
            load = os.getloadavg()[0]
            elapsed, cpu, report = timed_import(env, path, *extra)
            goal = ""
            if label.startswith("import, XLSX, every"):
                goal = "  (goal < 30 s: " + ("met" if elapsed < 30 else "NOT met") + ")"
            print(
                f"  {kind:<10} {label:<40} wall {elapsed:6.1f} s  cpu {cpu:6.1f} s  "
                f"load {load:4.1f}  {counted}={report[counted]} "
                f"invalid={report['invalid']}{goal}",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average {os.getloadavg()[0]:.1f}; "
        f"{args.rows} rows",
        flush=True,
    )
    for kind in ("sqlite", "postgresql"):
        if args.only in (None, kind):
            run(kind, args)


if __name__ == "__main__":
    main()
