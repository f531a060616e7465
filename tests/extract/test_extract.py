"""Extraction with the real engines: text layers, OCR, orientation, faded scans, workers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from indexing.extract import (
    Engines,
    ExtractionFailed,
    ExtractOptions,
    OcrEngineUnavailable,
    TesseractEngine,
    extract,
    preflight,
)
from indexing.extract.engine import PageOcr
from tests import documents as docs

ONE = ExtractOptions(workers=1)


class CountingEngine(TesseractEngine):
    """The real engine, counting how often it is asked to read a page or detect its turn."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.orientation_calls = 0
        self.threads: set[int] = set()
        self._lock = threading.Lock()

    def recognize(self, image, languages, **kw) -> PageOcr:
        with self._lock:
            self.calls += 1
            self.threads.add(threading.get_ident())
        return super().recognize(image, languages, **kw)

    def detect_orientation(self, image, **kw):
        with self._lock:
            self.orientation_calls += 1
        return super().detect_orientation(image, **kw)


def squash(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def contract_png(folder, contract_page, engines):
    path = docs.write_png(contract_page, folder / "contract.png")
    return extract(path, preflight(path, "contract.png"), options=ONE, engines=engines)


@pytest.fixture(scope="module")
def scanned(scanned_pdf, engines):
    progress: list[tuple[int, int]] = []
    result = extract(
        scanned_pdf, options=ONE, engines=engines, on_page=lambda d, t: progress.append((d, t))
    )
    return result, progress


def test_chinese_scan_is_read(contract_png):
    page = contract_png.pages[0]
    assert page.method == "ocr" and page.rotation == 0 and page.engine == "paddle"
    text = squash(page.text)
    for word in ("违约金", "合同", "HT-2026-0315", "128,000.00", "2026年3月5日"):
        assert word in text
    assert page.confidence is not None and page.confidence > 70


def test_ocr_removes_spaces_between_chinese_characters(contract_png):
    text = contract_png.pages[0].text
    assert "违约金" in text and "违 约" not in text
    assert "上海明远贸易有限公司" in text


def test_scanned_pdf_pages_are_read_in_order_with_progress(scanned):
    result, progress = scanned
    assert [p.method for p in result.pages] == ["ocr", "ocr"]
    assert "违约金" in result.pages[0].text
    english = result.pages[1].text
    assert "Invoice" in english and "INV-20417" in english and "4,250.00" in english
    assert "Harbour Tools" in english  # spaces between English words survive
    assert progress == [(1, 2), (2, 2)]
    assert result.text.count("\f") == 1


@pytest.fixture(scope="module")
def rotated(folder, english_page, contract_page, engines):
    results = {}
    for degrees in (90, 180, 270):
        path = docs.write_png(docs.rotate_page(english_page, degrees), folder / f"r{degrees}.png")
        results["en", degrees] = extract(path, options=ONE, engines=engines).pages[0]
    path = docs.write_png(docs.rotate_page(contract_page, 180), folder / "zh180.png")
    results["zh", 180] = extract(path, options=ONE, engines=engines).pages[0]
    return results


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_rotated_pages_are_read_upright(rotated, degrees):
    page = rotated["en", degrees]
    assert "Invoice" in page.text and "INV-20417" in page.text and "4,250.00" in page.text
    # The page was turned counter-clockwise; turning it back is the same angle clockwise.
    assert page.rotation == degrees
    assert page.confidence > 80


def test_upside_down_chinese_page_is_read_upright(rotated):
    page = rotated["zh", 180]
    assert page.rotation == 180 and "违约金" in page.text and "合同编号" in page.text


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_turned_latin_page_is_read_once(folder, english_page, tesseract, degrees):
    """The page's lines give the turn away before any reading: orientation detection first,
    then one reading of the page the right way up (not a wrong reading and a second one)."""
    path = docs.write_png(docs.rotate_page(english_page, degrees), folder / f"once{degrees}.png")
    engine = CountingEngine()
    page = extract(path, options=ONE, engines=Engines(engine, engine)).pages[0]
    assert page.rotation == degrees and "INV-20417" in page.text
    assert (engine.calls, engine.orientation_calls) == (1, 1)


def test_upright_page_costs_one_reading_and_no_orientation_detection(
    folder, english_page, tesseract
):
    path = docs.write_png(english_page, folder / "upright.png")
    engine = CountingEngine()
    page = extract(path, options=ONE, engines=Engines(engine, engine)).pages[0]
    assert page.rotation == 0 and "INV-20417" in page.text
    assert (engine.calls, engine.orientation_calls) == (1, 0)


@pytest.fixture(scope="module")
def faded_with_edges(folder):
    return docs.write_png(docs.faded_receipt(edges=90), folder / "faded.png")


def test_faded_receipt_with_dark_edges_needs_local_enhancement(faded_with_edges, tesseract_only):
    plain = extract(
        faded_with_edges, options=ExtractOptions(enhance_faded=False), engines=tesseract_only
    )
    enhanced = extract(faded_with_edges, options=ONE, engines=tesseract_only)
    # Without enhancement the faint print is lost in Tesseract's global threshold.
    assert "TOTAL" not in plain.text and "9.70" not in plain.text
    assert "TOTAL" in enhanced.text and "9.70" in enhanced.text
    assert "WELLMART" in enhanced.text and enhanced.pages[0].enhanced


def test_faded_receipt_is_read_by_the_default_engines(faded_with_edges, engines):
    page = extract(faded_with_edges, options=ONE, engines=engines).pages[0]
    assert "TOTAL" in page.text and "9.70" in page.text and page.readable


def test_blank_page_is_marked_unreadable(folder, engines):
    from PIL import Image

    blank = Image.new("L", (1200, 1600), 250)
    blank.info["dpi"] = (300, 300)
    path = docs.write_png(blank, folder / "blank.png")
    result = extract(path, options=ONE, engines=engines)
    assert not result.pages[0].readable and result.unreadable_pages == (1,)


def test_born_digital_pdf_uses_its_text_layer_without_ocr(text_pdf, tesseract):
    engine = CountingEngine()
    result = extract(text_pdf, engines=Engines(engine, engine))
    assert engine.calls == 0
    assert [p.method for p in result.pages] == ["text-layer", "text-layer"]
    assert all(p.confidence is None for p in result.pages)
    assert "Invoice No. INV-20417" in result.pages[0].text
    assert "违约金" in result.pages[1].text and "甲方:上海明远贸易有限公司" in result.pages[1].text


def test_garbage_text_layer_is_detected_and_ocr_runs(folder, contract_page, engines):
    path = docs.write_garbage_layer_pdf(contract_page, folder / "garbage.pdf")
    page = extract(path, options=ONE, engines=engines).pages[0]
    assert page.method == "ocr" and "garbage" in page.reason
    assert "违约金" in page.text
    assert not any(0xE000 <= ord(c) <= 0xF8FF for c in page.text)


def test_multipage_tiff_with_two_workers(folder, contract_page, english_page, tesseract):
    path = docs.write_tiff([english_page, contract_page, english_page], folder / "three.tif")
    engine = CountingEngine()
    done: list[int] = []
    result = extract(
        path,
        options=ExtractOptions(workers=2),
        engines=Engines(engine, engine),
        on_page=lambda d, t: done.append(d),
    )
    assert [p.number for p in result.pages] == [1, 2, 3]
    assert "INV-20417" in result.pages[0].text and "INV-20417" in result.pages[2].text
    assert "违约金" in result.pages[1].text
    assert done == [1, 2, 3]
    assert len(engine.threads) == 2  # pages went to both workers


def test_tesseract_subprocesses_run_single_threaded():
    from indexing.extract.tesseract import _env

    assert _env()["OMP_THREAD_LIMIT"] == "1"


def test_missing_language_is_reported_as_engine_unavailable(folder, contract_page, tesseract):
    path = docs.write_png(contract_page, folder / "lang.png")
    with pytest.raises(OcrEngineUnavailable) as info:
        extract(path, options=ExtractOptions(languages="chi_sim+zzz_missing"))
    assert "zzz_missing" in str(info.value)


def test_paddle_alone_refuses_a_language_it_does_not_read(tesseract):
    from indexing.extract import open_engines

    with pytest.raises(OcrEngineUnavailable) as info:
        open_engines("paddle", "deu+eng")
    assert "deu" in str(info.value) and info.value.engine == "paddle"


def test_auto_reads_german_with_tesseract(tesseract):
    from indexing.extract import open_engines

    if "deu" not in tesseract_languages():
        pytest.skip("tesseract-ocr-deu is not installed")
    assert open_engines("auto", "deu+eng").reader.name == "tesseract"
    assert open_engines("auto", "chi_sim+eng").reader.name == "paddle"


def tesseract_languages() -> set[str]:
    import pytesseract

    return set(pytesseract.get_languages(config=""))


def test_unknown_engine_choice_is_refused():
    from indexing.extract import open_engines

    with pytest.raises(OcrEngineUnavailable) as info:
        open_engines("easyocr", "eng")
    assert "easyocr" in str(info.value)


def test_missing_tesseract_program_is_reported(folder, contract_page, monkeypatch):
    import pytesseract

    from indexing.extract import tesseract as module

    module._installed_languages.cache_clear()
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    path = docs.write_png(contract_page, folder / "noprog.png")
    try:
        with pytest.raises(OcrEngineUnavailable):
            extract(path)
    finally:
        module._installed_languages.cache_clear()


def test_page_failure_names_the_page(folder, contract_page, tesseract):
    class Broken(TesseractEngine):
        def recognize(self, image, languages, **kw):
            raise ExtractionFailed("simulated engine crash")

    path = docs.write_png(contract_page, folder / "broken.png")
    broken = Broken()
    with pytest.raises(ExtractionFailed) as info:
        extract(path, engines=Engines(broken, broken))
    assert info.value.page == 1 and "simulated" in info.value.reason


def test_unknown_resolution_image_is_read(folder, english_page, engines):
    """A JPEG that states no resolution (as phone and many scanner JPEGs do)."""
    image = english_page.copy()
    image.info.pop("dpi", None)
    path = Path(folder / "nodpi.jpg")
    image.save(path, "JPEG", quality=90)
    assert preflight(path, "nodpi.jpg").dpi is None
    assert "INV-20417" in extract(path, options=ONE, engines=engines).text


def test_progress_is_reported_as_each_page_finishes(folder, contract_page, english_page, tesseract):
    """'OCR page 1/2' must show while page 2 is still being read, not only at the end."""

    class Finishing(TesseractEngine):
        def __init__(self) -> None:
            super().__init__()
            self.finished = 0

        def recognize(self, image, languages, **kw):
            result = super().recognize(image, languages, **kw)
            self.finished += 1
            return result

    slow_second = docs.render_page(docs.ENGLISH_INVOICE_LINES * 4, a4=True)
    path = docs.write_tiff([english_page, slow_second], folder / "progress.tif")
    engine = Finishing()
    seen: list[tuple[int, int]] = []
    extract(
        path,
        options=ONE,
        engines=Engines(engine, engine),
        on_page=lambda d, t: seen.append((d, engine.finished)),
    )
    assert seen[0] == (1, 1)  # page 2 (a full A4 page, about a second) was not finished yet
    assert seen[-1][0] == 2
