"""Paper for the archive room: the filing checklist for the back cover of the folder and
the cover sheet, as PDFs with real (extractable) Chinese and English text.

The font is found at run time through fontconfig (``fc-list :lang=zh-cn``) and a few
well-known paths. Fonts with TrueType outlines are preferred (for example WenQuanYi Micro
Hei, Debian package ``fonts-wqy-microhei``): with them the PDF's glyph widths are exact in
every viewer. A CFF-outline font (Noto Sans CJK) is used only when nothing else is
installed. Without any CJK font, :class:`NoCjkFont` says what to install.

Labels are bilingual on paper whatever the screen language: the folder outlives the
person who printed it.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from archive_app.errors import AppError
from archive_app.models import ChecklistLine, CustomerArchive
from archive_app.models.base import utcnow

PREFERRED_FAMILIES = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "AR PL UMing CN",
    "Droid Sans Fallback",
    "Noto Sans CJK SC",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
)
KNOWN_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)
LEVEL_NAMES = {
    "public": "公开 Public",
    "internal": "内部 Internal",
    "confidential": "秘密 Confidential",
    "secret": "机密 Secret",
}
STATE_NAMES = {
    "draft": "草稿 Draft",
    "awaiting_review": "待复核 Awaiting review",
    "filed": "已归档 Filed",
}


class NoCjkFont(AppError):
    code = "no_cjk_font"
    http_status = 500

    def __init__(self) -> None:
        super().__init__(
            "no font with Chinese characters was found for PDF output; install one "
            "(Debian: apt-get install fonts-wqy-microhei) and try again"
        )


@dataclass(frozen=True)
class FontChoice:
    path: Path
    index: int
    family: str
    truetype_outlines: bool


def _fontconfig_candidates() -> list[tuple[Path, int, str]]:
    if shutil.which("fc-list") is None:
        return []
    try:
        output = subprocess.run(
            ["fc-list", ":lang=zh-cn", "--format", "%{file}|%{index}|%{family[0]}\n"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for row in output.splitlines():
        parts = row.split("|")
        if len(parts) == 3 and parts[1].isdigit():
            found.append((Path(parts[0]), int(parts[1]), parts[2]))
    return found


def _inspect(path: Path, index: int) -> tuple[bool, str] | None:
    """(has TrueType outlines, family) for one face, or None if it cannot be read."""
    from fontTools.ttLib import TTCollection, TTFont

    try:
        if path.suffix.lower() in (".ttc", ".otc"):
            collection = TTCollection(str(path), lazy=True)
            font = collection.fonts[index]
        else:
            font = TTFont(str(path), lazy=True)
        family = font["name"].getDebugName(1) or path.stem
        return "glyf" in font, family
    except Exception:
        return None


@functools.lru_cache(maxsize=1)
def find_cjk_font() -> FontChoice:
    """The best installed font for Chinese text (see the module docstring)."""
    candidates = _fontconfig_candidates()
    seen = {(path, index) for path, index, _family in candidates}
    for raw in KNOWN_PATHS:
        path = Path(raw)
        if path.exists() and (path, 0) not in seen:
            candidates.append((path, 0, path.stem))

    def rank(candidate: tuple[Path, int, str]) -> int:
        family = candidate[2]
        for position, preferred in enumerate(PREFERRED_FAMILIES):
            if family.startswith(preferred):
                return position
        return len(PREFERRED_FAMILIES)

    choices: list[FontChoice] = []
    for path, index, _family in sorted(candidates, key=rank):
        if "Mono" in _family or not path.exists():
            continue
        inspected = _inspect(path, index)
        if inspected is None:
            continue
        truetype, family = inspected
        choice = FontChoice(path, index, family, truetype)
        if truetype:
            return choice
        choices.append(choice)
    if choices:
        return choices[0]
    raise NoCjkFont()


def _pdf(orientation: str):
    from fpdf import FPDF

    font = find_cjk_font()
    pdf = FPDF(orientation=orientation, unit="mm", format="A4")
    pdf.set_creator("archive-records")
    pdf.add_font("cjk", "", str(font.path), collection_font_number=font.index)
    pdf.set_font("cjk", size=10)
    pdf.set_auto_page_break(auto=True, margin=12)
    return pdf


def _stamp(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def checklist_pdf(
    archive: CustomerArchive, lines: Sequence[ChecklistLine], *, printed_by: str
) -> bytes:
    """The filing checklist of one archive, A4 landscape, one row per document."""
    pdf = _pdf("L")
    pdf.set_title(f"归档清单 {archive.number}")
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(0, 9, "归档清单 Filing checklist", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    pdf.cell(
        0,
        6,
        f"档案编号 Archive number: {archive.number}    客户 Customer: {archive.name}    "
        f"保密级别 Level: {LEVEL_NAMES[archive.level.value]}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.cell(
        0,
        6,
        f"打印 Printed: {_stamp(utcnow())} UTC · {printed_by}    共 {len(lines)} 件 items",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    headings = (
        "序号\nNo.",
        "文件编号\nDocument number",
        "文件名 / 类别\nFile / class",
        "页数\nPages",
        "电子位置\nElectronic",
        "纸质位置\nPaper location",
        "归档责任人\nArchivist",
        "状态\nState",
        "复核人 / 时间\nReviewer / time",
    )
    from fpdf.fonts import FontFace

    pdf.set_font("cjk", size=8)
    with pdf.table(
        col_widths=(9, 44, 44, 11, 26, 40, 24, 24, 35),
        text_align="LEFT",
        line_height=4.2,
        first_row_as_headings=True,
        # Only the regular face is embedded: headings are shaded rather than bold.
        headings_style=FontFace(emphasis="", fill_color=(225, 225, 225)),
    ) as table:
        table.row(headings)
        for position, line in enumerate(lines, start=1):
            document = line.document
            table.row(
                (
                    str(position),
                    document.number,
                    f"{document.original_filename}\n{document.document_class.name_zh} "
                    f"{document.document_class.name_en}",
                    str(document.page_count),
                    f"v{document.version}\n{(document.original_object_id or '')[:16]}",
                    line.location_text or "—",
                    line.filer.display_name or line.filer.username,
                    STATE_NAMES[line.state.value],
                    (
                        f"{(line.reviewer.display_name or line.reviewer.username)}\n"
                        f"{_stamp(line.reviewed_at)}"
                    )
                    if line.reviewer and line.state.value == "filed"
                    else "",
                )
            )
    pdf.ln(6)
    pdf.set_font("cjk", size=10)
    pdf.cell(
        0,
        6,
        "归档人签字 Filed by: ____________________    复核人签字 Reviewed by: "
        "____________________    日期 Date: ____________",
    )
    return bytes(pdf.output())


def cover_pdf(archive: CustomerArchive, *, documents: int, filed: int) -> bytes:
    """The cover sheet of the paper folder: archive number, customer, level."""
    pdf = _pdf("P")
    pdf.set_title(f"档案封面 {archive.number}")
    pdf.add_page()
    pdf.ln(30)
    pdf.set_font("cjk", size=26)
    pdf.cell(0, 14, "客户档案", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=14)
    pdf.cell(0, 8, "Customer archive", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(16)
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 8, "档案编号 Archive number", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=30)
    pdf.cell(0, 16, archive.number, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(12)
    rows = (
        ("客户名称 Customer", archive.name),
        ("保密级别 Confidentiality", LEVEL_NAMES[archive.level.value]),
        ("统一社会信用代码 Tax ID", archive.tax_id or "—"),
        ("业务部门 Business unit", archive.business_unit or "—"),
        ("文件 Documents", f"{documents} (已归档 filed {filed})"),
        ("建档日期 Opened", archive.created_at.strftime("%Y-%m-%d")),
    )
    pdf.set_font("cjk", size=13)
    for label, value in rows:
        pdf.set_x(30)
        pdf.cell(70, 11, label, border="B")
        pdf.cell(80, 11, value, border="B", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
