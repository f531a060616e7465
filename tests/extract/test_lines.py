"""Line boxes for the viewer: fractions of the page as stored, turned back from the
orientation the engine read the page in."""

from __future__ import annotations

import pytest

from indexing.extract import PageText, Word
from indexing.extract.lines import page_lines


def _page(rotation: int, size: tuple[int, int], box: tuple[int, int, int, int]) -> PageText:
    words = (
        Word("合同", 95.0, 1, box),
        Word("编号", 95.0, 1, (box[0] + box[2], box[1], 10, box[3])),
    )
    return PageText(
        number=1, text="合同 编号", method="ocr", confidence=95.0, rotation=rotation,
        ocr_rotation=rotation, engine="paddle", words=words, image_size=size,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("rotation", "expected"),
    [
        (0, [0.1, 0.2, 0.3, 0.05]),  # upright: as read
        (90, [0.2, 0.6, 0.05, 0.3]),  # read turned a quarter clockwise: the line runs down
        (180, [0.6, 0.75, 0.3, 0.05]),
        (270, [0.75, 0.1, 0.05, 0.3]),
    ],
)
def test_boxes_are_fractions_of_the_stored_page(rotation: int, expected: list[float]) -> None:
    # The turned image is 1000 x 2000; the line spans x 100..400, y 400..500.
    [line] = page_lines(_page(rotation, (1000, 2000), (100, 400, 290, 100)))
    assert line["text"] == "合同 编号"
    assert line["box"] == pytest.approx(expected)


def test_text_layer_pages_have_no_lines() -> None:
    page = PageText(number=1, text="Service Agreement", method="text-layer", confidence=None)
    assert page_lines(page) == []
