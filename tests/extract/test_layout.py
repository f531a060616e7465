"""Reading order from boxes: columns read one after the other, tables row by row."""

from __future__ import annotations

import pytest

from indexing.extract import ExtractOptions, extract
from indexing.extract.engine import Word
from indexing.extract.layout import layout_text
from tests import documents as docs


def squash(text: str) -> str:
    return "".join(text.split())


def box(line: int, text: str, left: int, top: int, width: int = 400, height: int = 40) -> Word:
    return Word(text=text, confidence=90.0, line=line, box=(left, top, width, height))


def test_cells_of_one_row_read_as_one_line_even_when_detected_apart():
    words = [
        box(0, "金额", 100, 100, 100),
        box(1, "5999.00", 700, 104, 150),
        box(2, "合计", 100, 180),
    ]
    assert layout_text(words).splitlines() == ["金额 5999.00", "合计"]


@pytest.mark.parametrize("engine_fixture", ["engines", "tesseract_only"])
def test_two_columns_are_read_one_after_the_other(folder, request, engine_fixture):
    path = docs.write_png(docs.two_column_page(), folder / "columns.png")
    text = squash(
        extract(
            path, options=ExtractOptions(), engines=request.getfixturevalue(engine_fixture)
        ).text
    )
    assert text.startswith("办公设备采购合同条款摘要")
    # Interleaved rows would read 第一条, 第三条, ...; columns read 第一条 to 第四条 in order,
    # with each article's lines right after its heading.
    marks = [text.index(mark) for mark in ("第一条", "甲方向乙方", "第二条", "第三条", "第四条")]
    assert marks == sorted(marks)


def test_table_is_read_row_by_row(folder, engines):
    path = docs.write_png(docs.table_page(), folder / "table.png")
    lines = [squash(line) for line in extract(path, engines=engines).text.splitlines() if line]
    assert lines == ["".join(row) for row in docs.TABLE_ROWS]
