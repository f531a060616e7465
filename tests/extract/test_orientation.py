"""Text-line cues: the pixel-level look that decides whether a page needs orientation
detection before it is read (no OCR involved)."""

from __future__ import annotations

import pytest
from PIL import Image

from indexing.extract.orientation import text_line_cues
from tests import documents as docs


@pytest.fixture(scope="module")
def a4_english(cjk_font):
    return docs.render_page(docs.ENGLISH_INVOICE_LINES * 4, a4=True)


@pytest.mark.parametrize("small", [True, False], ids=["compact", "a4"])
def test_upright_latin_page_is_upright(english_page, a4_english, small):
    cues = text_line_cues(english_page if small else a4_english, 300)
    assert cues.upright and not cues.turned


@pytest.mark.parametrize("degrees", [90, 180, 270])
@pytest.mark.parametrize("small", [True, False], ids=["compact", "a4"])
def test_turned_latin_page_is_turned(english_page, a4_english, degrees, small):
    page = docs.rotate_page(english_page if small else a4_english, degrees)
    cues = text_line_cues(page, 300)
    assert cues.turned and not cues.upright
    assert cues.sideways == (degrees != 180)


@pytest.mark.parametrize("degrees", [90, 270])
def test_sideways_chinese_page_is_turned(contract_page, degrees):
    assert text_line_cues(docs.rotate_page(contract_page, degrees), 300).sideways


def test_chinese_lines_do_not_tell_up_from_down(contract_page):
    """CJK characters have no ascenders: neither way up is claimed, so a doubtful reading of
    such a page still goes to orientation detection."""
    for page in (contract_page, docs.rotate_page(contract_page, 180)):
        cues = text_line_cues(page, 300)
        assert not cues.upright and not cues.upside_down


def test_blank_and_unknown_resolution_pages_claim_nothing(english_page):
    blank = text_line_cues(Image.new("L", (2480, 3508), 255), 300)
    assert not blank.turned and not blank.upright
    assert text_line_cues(english_page, None).upright  # scaled by size when dpi is unknown
