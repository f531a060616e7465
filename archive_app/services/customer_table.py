"""The customer information table (客户信息表) as a file: its columns, reading CSV and XLSX,
writing them, and the empty template.

Contract: ``read_table(data, filename)`` returns the data rows as ``TableRow`` (the file's
line number, counting the header as line 1, and the values by field name); a header
names each column in Chinese (as the template does) or by its field name in English, in
any order; unknown headers, a missing 客户名称 column and unreadable files raise
:class:`TableUnreadable`. Fully empty rows are skipped. CSV is read as UTF-8 (with or
without BOM) or, failing that, GB18030 (what Excel writes on a Chinese Windows).
``write_table(rows, fmt)`` writes the same columns (plus the export-only archive number
and document count) as ``csv`` (UTF-8 with BOM, so Excel opens it right) or ``xlsx``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from archive_app.errors import AppError

# (field, Chinese header) in template order; the importer also takes the field name.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "客户名称"),
    ("customer_type", "客户类型"),
    ("industry", "行业"),
    ("region", "地区"),
    ("tax_id", "统一社会信用代码"),
    ("contact", "联系人"),
    ("address", "地址"),
    ("business_unit", "业务部门"),
    ("level", "保密级别"),
    ("tags", "标签"),
    ("notes", "备注"),
    ("relationship_end", "业务关系终止日期"),
)
# Written by the export, ignored by the import (so an exported list imports back).
EXPORT_ONLY: tuple[tuple[str, str], ...] = (("number", "档案编号"), ("documents", "文件数"))
FORMATS = ("csv", "xlsx")
TYPE_WORDS = {"企业": "company", "公司": "company", "单位": "company", "个人": "person"}
LEVEL_WORDS = {"公开": "public", "内部": "internal", "秘密": "confidential", "机密": "secret"}
MAX_BYTES = 20 * 1024 * 1024
_FORMULA_STARTS = ("=", "+", "-", "@")
# Marks a row with a value under no column (reported by the import as a bad row).
EXTRA_CELLS = "__extra__"


class TableUnreadable(AppError):
    code = "table_unreadable"
    http_status = 422

    def __init__(self, filename: str, reason: str) -> None:
        super().__init__(f"cannot read {filename}: {reason}")
        self.filename = filename
        self.reason = reason


@dataclass(frozen=True)
class TableRow:
    line: int
    values: dict[str, str]


def format_of(filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in FORMATS:
        raise TableUnreadable(filename, "the file must be .csv or .xlsx")
    return suffix


def _header_map(filename: str, header: Sequence[object]) -> list[str | None]:
    known: dict[str, str | None] = {}
    for field, chinese in COLUMNS:
        known[field] = known[chinese] = field
    for field, chinese in EXPORT_ONLY:
        known[field] = known[chinese] = None
    fields: list[str | None] = []
    unknown = []
    for cell in header:
        text = str(cell or "").strip()
        if not text:
            fields.append(None)
            continue
        key = text if text in known else text.lower()
        if key not in known:
            unknown.append(text)
        fields.append(known.get(key))
    if unknown:
        raise TableUnreadable(filename, f"unknown column(s): {', '.join(unknown)}")
    if "name" not in fields:
        raise TableUnreadable(filename, "the header has no 客户名称 (name) column")
    duplicated = sorted({f for f in fields if f is not None and fields.count(f) > 1})
    if duplicated:
        raise TableUnreadable(filename, f"column(s) given twice: {', '.join(duplicated)}")
    return fields


def _rows(filename: str, raw_rows: Iterable[Sequence[object]]) -> list[TableRow]:
    iterator = iter(raw_rows)
    header = next(iterator, None)
    if header is None:
        raise TableUnreadable(filename, "the file is empty")
    fields = _header_map(filename, header)
    # Columns with no header (or past the header) must stay empty: a value there belongs to
    # no field. (XLSX rows come padded to the sheet's widest row.)
    blank = {index for index, cell in enumerate(header) if not str(cell or "").strip()}
    rows = []
    for line, raw in enumerate(iterator, start=2):
        cells = [_cell_text(cell) for cell in raw]
        if not any(cells):
            continue
        values = {
            field: cells[index] if index < len(cells) else ""
            for index, field in enumerate(fields)
            if field is not None
        }
        if any(cell for i, cell in enumerate(cells) if i >= len(fields) or i in blank):
            values[EXTRA_CELLS] = "x"
        rows.append(TableRow(line=line, values=values))
    return rows


def _cell_text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    text = str(cell).strip()
    if text[:1] == "'" and text[1:2] in _FORMULA_STARTS:
        return text[1:]  # written so by the export (see _safe)
    return text


def read_table(data: bytes, filename: str) -> list[TableRow]:
    fmt = format_of(filename)
    if len(data) > MAX_BYTES:
        raise TableUnreadable(filename, f"the file is larger than {MAX_BYTES // 1024 // 1024} MB")
    if fmt == "csv":
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise TableUnreadable(filename, "the file is neither UTF-8 nor GB18030 text")
        return _rows(filename, csv.reader(io.StringIO(text, newline="")))
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise TableUnreadable(filename, f"not an XLSX workbook ({error})") from None
    try:
        sheet = workbook.worksheets[0]
        return _rows(filename, sheet.iter_rows(values_only=True))
    finally:
        workbook.close()


def write_table(rows: Iterable[Mapping[str, object]], fmt: str, *, export: bool) -> bytes:
    """The rows (by field name) as a CSV or XLSX file; ``export`` adds the archive number
    and document count columns in front."""
    columns = (EXPORT_ONLY if export else ()) + COLUMNS
    header = [chinese for _, chinese in columns]
    fields = [field for field, _ in columns]
    if fmt == "csv":
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(header)
        for row in rows:
            writer.writerow([_safe(row.get(field, "")) for field in fields])
        return out.getvalue().encode("utf-8-sig")
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("客户信息表")
    sheet.append(header)
    for row in rows:
        sheet.append([_safe(row.get(field, "")) for field in fields])
    out_bytes = io.BytesIO()
    workbook.save(out_bytes)
    return out_bytes.getvalue()


def _safe(value: object) -> object:
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    if isinstance(value, str) and value[:1] in _FORMULA_STARTS:
        return "'" + value
    return value


def template(fmt: str) -> bytes:
    """The empty table with one example row, in ``csv`` or ``xlsx``."""
    example = {
        "name": "上海示例贸易有限公司",
        "customer_type": "company",
        "industry": "批发和零售业",
        "region": "上海",
        "tax_id": "91310000MA1K4LXN01",
        "contact": "张三 021-12345678",
        "address": "上海市浦东新区示例路1号",
        "business_unit": "对公业务部",
        "level": "internal",
        "tags": "VIP;华东",
        "notes": "",
        "relationship_end": "",
    }
    return write_table([example], fmt, export=False)
