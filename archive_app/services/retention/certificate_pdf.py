"""The printable PDF of a destruction certificate (for the paper file of the 销毁清册).

Contract: ``certificate_pdf(certificate)`` renders the *signed* certificate's contents (the
``certificate`` object of the file) as an A4 landscape PDF with real Chinese and English
text, using the CJK font the filing checklist's printing finds (``printing.find_cjk_font``;
``NoCjkFont`` says what to install). The PDF is a reading copy: the signed JSON file is the
proof and is what ``archive certificate verify`` checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archive_app.services.printing import find_cjk_font


def certificate_pdf(certificate: Mapping[str, Any]) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    font = find_cjk_font()
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_creator("archive-records")
    pdf.add_font("cjk", "", str(font.path), collection_font_number=font.index)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_title(f"销毁证明 {certificate['certificate_id']}")
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(0, 9, "会计档案销毁证明 Destruction certificate", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    approvals = ", ".join(
        f"{a['user']} ({a['approved_at'][:16]})" for a in certificate["approvals"]
    )
    hold = certificate["hold_check"]
    for line in (
        f"证明编号 Certificate: {certificate['certificate_id']}    "
        f"销毁清册 Destruction list: {certificate['batch_id']}    "
        f"鉴定基准日 Appraisal as of: {certificate['batch']['appraisal_as_of']}",
        f"审批 Approved by: {approvals}",
        f"监销 Executed by: {certificate['executor']} ({certificate['executed_at'][:16]} UTC)    "
        f"冻结复核 Hold check: {hold['result']} ({hold['items_checked']} checked)",
        f"销毁 Destroyed: {certificate['item_count']}    跳过 Skipped: {certificate['skipped_count']}",
    ):
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("cjk", size=7.5)
    with pdf.table(
        col_widths=(42, 50, 18, 34, 52, 50, 14),
        text_align="LEFT",
        line_height=3.8,
        first_row_as_headings=True,
        headings_style=FontFace(emphasis="", fill_color=(225, 225, 225)),
    ) as table:
        table.row(
            (
                "文件编号\nDocument",
                "题名\nTitle",
                "类别\nClass",
                "日期\nDates",
                "原件 SHA-256\nOriginal SHA-256",
                "保管期限规则\nRule",
                "密钥\nKeys",
            )
        )
        for item in certificate["items"]:
            dates = "\n".join(f"{name} {day}" for name, day in item["dates"].items())
            rule = item["rule"]
            table.row(
                (
                    item["document_number"],
                    item["title"],
                    item["class_code"],
                    dates,
                    item["sha256"],
                    f"{rule['code']} v{rule['version']}\n{rule['citation']['zh']}",
                    str(len(item["keys_destroyed"])),
                )
            )
    if certificate["skipped"]:
        pdf.ln(3)
        pdf.set_font("cjk", size=9)
        pdf.cell(0, 6, "执行时跳过 Skipped at execution", new_x="LMARGIN", new_y="NEXT")
        for skip in certificate["skipped"]:
            pdf.multi_cell(
                0,
                5,
                f"{skip['document_number'] or skip['record_id']}: {skip['reason']} {skip['detail']}",
                new_x="LMARGIN",
                new_y="NEXT",
            )
    pdf.ln(4)
    pdf.set_font("cjk", size=8)
    pdf.multi_cell(
        0,
        4.5,
        f"签名 Ed25519, 公钥 SHA-256 Signer key: {certificate['signer_key_sha256']}. "
        "本件为阅读副本；凭证为签名的 JSON 文件，可用 `archive certificate verify` 离线核验。 "
        "This is a reading copy; the signed JSON file is the proof.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())
