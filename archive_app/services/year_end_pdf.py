"""The year-end review (年终整理) as a PDF for the paper file, bilingual whatever the screen
language (like the filing checklist: the paper outlives the person who printed it).

Contract: ``year_end_pdf(review)`` renders a :class:`archive_app.services.year_end.Review`
as an A4 landscape PDF with real Chinese and English text, using the CJK font the
checklist's printing finds (``printing.find_cjk_font``; ``NoCjkFont`` says what to install).
A signed-off review prints its signer, time and the SHA-256 of the figures as signed.
"""

from __future__ import annotations

from archive_app.services.printing import LEVEL_NAMES, find_cjk_font
from archive_app.services.year_end import Figures, Review

COLUMNS = (
    ("档案编号\nArchive", 30),
    ("客户\nCustomer", 48),
    ("本年归档\nFiled", 22),
    ("未复核\nNot confirmed", 24),
    ("无纸质位置\nNo paper location", 28),
    ("借出未还\nNot returned", 22),
    ("待复核版本\nVersions to review", 28),
    ("明年到期鉴定\nAppraisal due next year", 34),
    ("完整性问题\nFixity problems", 28),
)


def _row(figures: Figures, *, total: bool = False) -> tuple[str, ...]:
    return (
        "合计 Total" if total else (figures.archive or ""),
        "" if total else f"{figures.name}\n{LEVEL_NAMES.get(figures.level or '', '')}",
        str(figures.filed_total),
        str(figures.unconfirmed_total),
        str(figures.unlocated),
        "—",
        str(figures.versions_awaiting_review),
        str(figures.appraisal_due),
        str(figures.fixity_problems),
    )


def year_end_pdf(review: Review, *, printed_by: str) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    font = find_cjk_font()
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_creator("archive-records")
    pdf.add_font("cjk", "", str(font.path), collection_font_number=font.index)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_title(f"年终整理 {review.year}")
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(
        0, 9, f"{review.year} 年终整理 Year-end review {review.year}", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("cjk", size=10)
    scope = "全部档案 All archives" if review.scope == "all" else review.scope
    inspection = review.inspection
    lines = [
        f"范围 Scope: {scope}    打印 Printed: {review.generated_at:%Y-%m-%d %H:%M} UTC · "
        f"{printed_by}",
        "借阅登记 Borrowing register: 本系统无借阅登记 no borrowing register; "
        "借出未还的纸质原件未统计 paper originals not returned are not counted",
        (
            f"定期检查 Inspection: #{inspection['run']} {inspection['started_at'][:16]} "
            f"({inspection['state']})"
            if inspection
            else "定期检查 Inspection: 本年无检查记录 none in this year"
        ),
    ]
    if review.hidden_archives:
        lines.append(
            f"另有 {review.hidden_archives} 个档案超出打印人的密级，未计入 "
            f"{review.hidden_archives} archive(s) above the printer's clearance are not included"
        )
    for text in lines:
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("cjk", size=8)
    headings = FontFace(emphasis="", fill_color=(225, 225, 225))
    with pdf.table(
        col_widths=tuple(width for _label, width in COLUMNS),
        text_align="LEFT",
        line_height=4.2,
        first_row_as_headings=True,
        headings_style=headings,
    ) as table:
        table.row(tuple(label for label, _width in COLUMNS))
        for figures in review.archives:
            table.row(_row(figures))
        table.row(_row(review.total, total=True))
    pdf.ln(4)
    pdf.set_font("cjk", size=10)
    pdf.cell(0, 6, "本年归档（按类别） Filed this year by class", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=8)
    with pdf.table(
        col_widths=(60, 30),
        width=90,
        align="LEFT",
        text_align="LEFT",
        first_row_as_headings=True,
        headings_style=headings,
    ) as table:
        table.row(("类别 Class", "件数 Records"))
        for code, count in sorted(review.total.filed.items()):
            names = review.classes.get(code, {})
            table.row((f"{names.get('zh', code)} {names.get('en', '')}", str(count)))
    pdf.ln(6)
    pdf.set_font("cjk", size=10)
    if review.sign_off:
        signed = review.sign_off
        pdf.multi_cell(
            0,
            6,
            f"已签核 Signed off: {signed.signed_by} · {signed.signed_at:%Y-%m-%d %H:%M} UTC\n"
            f"SHA-256: {signed.figures_sha256}"
            + (
                ""
                if signed.current
                else "\n签核后数字已有变化 The figures have changed since the sign-off"
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    else:
        pdf.cell(
            0,
            6,
            "未签核 Not signed off    合规负责人签字 Compliance: ____________________    "
            "日期 Date: ____________",
        )
    return bytes(pdf.output())
