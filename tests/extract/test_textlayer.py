"""Text-layer usability heuristics (pure) and the per-page verdicts on generated PDFs."""

from __future__ import annotations

from indexing.extract.textlayer import assess_text_layer, read_text_layer
from tests import documents as docs


def test_real_text_is_usable():
    assert assess_text_layer("This agreement is made between the parties below.", False)[0]
    assert assess_text_layer("甲方与乙方经协商一致，签订本合同，违约方须支付违约金。", True)[0]


def test_private_use_and_replacement_characters_are_garbage():
    usable, reason = assess_text_layer("\ue043\ue06f\ue06e\ue074 \ue072\ue061" * 5, True)
    assert not usable and "garbage" in reason
    assert not assess_text_layer("\ufffd" * 40, False)[0]


def test_cid_placeholders_are_garbage():
    assert not assess_text_layer("(cid:12)(cid:34)(cid:56) (cid:7)(cid:8) total", False)[0]


def test_image_page_with_almost_no_text_goes_to_ocr():
    usable, reason = assess_text_layer("Page 1", True)
    assert not usable and "image page" in reason
    assert assess_text_layer("", True) == (False, "no text layer")


def test_blank_vector_page_is_accepted_as_empty():
    assert assess_text_layer("", False) == (True, "")


def test_latin_tokens_without_vowels_are_garbage():
    junk = " ".join(
        ["xkcd", "bzrt", "qwpl", "mnbv", "trkz", "plnkt", "wxyz", "frgh", "vbn", "sdfg"]
    )
    assert not assess_text_layer(junk + " " + junk, False)[0]


def test_verdicts_per_page(folder, text_pdf, contract_page, cjk_font):
    born = read_text_layer(text_pdf)
    assert [p.usable for p in born] == [True, True] and not born[0].has_images
    garbage = read_text_layer(docs.write_garbage_layer_pdf(contract_page, folder / "g2.pdf"))
    assert not garbage[0].usable and garbage[0].has_images
    scan = read_text_layer(docs.write_scanned_pdf([contract_page], folder / "s2.pdf"))
    assert scan[0].reason == "no text layer"
