"""Extraction: the text of every page of an accepted document, by text layer or OCR.

Contract: ``extract(path, info, options=..., engine=..., on_page=...)`` returns an
``Extraction`` with one ``PageText`` per page, in order. For each PDF page the text layer is
used when ``textlayer`` judges it usable (no OCR at all for that page); every other page is
rasterised at ``options.dpi`` (PDF, grayscale) or taken as stored (images, each TIFF frame),
turned upright when its text lines show it is turned (``orientation``), read, read again
contrast-stretched if it is faded and the reading is doubtful (``raster.is_low_contrast``),
and its text normalised (``indexing.text``).

Parallelism: OCR pages run in a pool of ``options.workers`` threads, each driving one
``tesseract`` subprocess with ``OMP_THREAD_LIMIT=1``; the work happens in those processes, so
threads are enough, and page images need not be pickled between processes. The calling
thread renders pages ahead of the pool (``workers + 1`` pages at most), so rendering overlaps
the Tesseract runs instead of adding to them; memory holds about that many page images.

``on_page(done, total)`` is called from the calling thread after each page (text-layer pages
included), so the app can show "OCR page n/m". Errors: ``OcrEngineUnavailable`` before any
work if Tesseract or a language is missing; ``ExtractionFailed(reason, page)`` if a page fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Literal

from PIL import Image

from indexing.text import normalize_text

from .engine import OcrEngine, PageOcr
from .errors import ExtractError, ExtractionFailed
from .orientation import OrientationPolicy, is_confident, recognize_upright
from .preflight import Kind, Preflight, preflight
from .raster import PageSource, for_ocr, is_low_contrast, normalize_contrast, to_gray
from .textlayer import read_text_layer

__all__ = ["ExtractOptions", "Extraction", "PageText", "extract"]

Method = Literal["text-layer", "ocr"]
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class ExtractOptions:
    languages: str = "chi_sim+eng"
    dpi: int = 300  # PDF rasterisation resolution
    max_pixels: int = 60_000_000  # larger PDF pages are rendered at a lower resolution
    workers: int = 1  # OCR pages in parallel (one tesseract process each)
    normalize_contrast: bool = True  # allow the contrast-stretched second reading
    # Keep each OCR page's invisible-text PDF for the searchable rendition (made in the same
    # Tesseract pass, so it costs almost nothing); switch off when no rendition is wanted.
    keep_overlays: bool = True
    use_text_layer: bool = True
    orientation: OrientationPolicy = field(default_factory=OrientationPolicy)


@dataclass(frozen=True)
class PageText:
    number: int  # 1-based
    text: str  # normalised (NFKC, CJK spaces removed)
    method: Method
    confidence: float | None  # mean OCR word confidence 0..100; None for text-layer pages
    rotation: int = 0  # clockwise degrees that turn the page as stored upright
    # Clockwise degrees the pixels were turned before the reading that was kept; the overlay
    # PDF fits the page turned by this much (the engine may have coped with the rest).
    ocr_rotation: int = 0
    reason: str = ""  # why OCR was used instead of the text layer, if it was
    overlay_pdf: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Extraction:
    kind: Kind
    languages: str
    engine: str
    pages: tuple[PageText, ...]

    @property
    def text(self) -> str:
        """All pages, separated by form feeds (as pdftotext does)."""
        return "\f".join(p.text for p in self.pages)

    @property
    def confidence(self) -> float | None:
        """Mean confidence over OCR pages; None when no page was OCR'd."""
        values = [p.confidence for p in self.pages if p.confidence is not None]
        return sum(values) / len(values) if values else None

    @property
    def ocr_pages(self) -> int:
        return sum(1 for p in self.pages if p.method == "ocr")


def _default_engine() -> OcrEngine:
    from .tesseract import TesseractEngine

    return TesseractEngine()


def extract(
    path: str | os.PathLike[str],
    info: Preflight | None = None,
    *,
    options: ExtractOptions | None = None,
    engine: OcrEngine | None = None,
    on_page: ProgressCallback | None = None,
    executor: Executor | None = None,
) -> Extraction:
    """Extract every page of the file at ``path`` (preflighted now if ``info`` is None).

    ``executor``: a thread pool shared across documents (e.g. one per app worker process), so
    that its size bounds the Tesseract processes of all documents together; by default each
    call makes its own pool of ``options.workers`` threads.
    """
    options = options or ExtractOptions()
    info = info or preflight(path)
    engine = engine or _default_engine()
    total = info.pages
    results: dict[int, PageText] = {}
    done = 0

    def progress() -> None:
        if on_page is not None:
            on_page(done, total)

    to_ocr: dict[int, str] = {}
    if info.kind == "pdf" and options.use_text_layer:
        for i, layer in enumerate(read_text_layer(path)):
            if layer.usable:
                results[i] = PageText(i + 1, normalize_text(layer.text), "text-layer", None)
                done += 1
                progress()
            else:
                to_ocr[i] = layer.reason
    else:
        to_ocr = dict.fromkeys(range(total), "no text layer" if info.kind == "pdf" else "image")

    if to_ocr:
        engine.check(options.languages)
        own_pool = executor is None
        pool = executor or ThreadPoolExecutor(max_workers=max(1, options.workers))
        # One page more than there are OCR slots is rendered ahead, so a slot that finishes
        # a page finds the next one ready instead of waiting for PDFium and Pillow.
        ahead = max(1, options.workers) + 1
        futures: dict[Future[PageText], int] = {}
        pending: set[Future[PageText]] = set()

        def collect(finished: set[Future[PageText]]) -> None:
            nonlocal done
            for future in sorted(finished, key=futures.__getitem__):
                index = futures[future]
                error = future.exception()
                if error is not None:
                    if isinstance(error, ExtractError):
                        raise error
                    raise ExtractionFailed(f"{type(error).__name__}: {error}", index + 1) from error
                results[index] = future.result()
                done += 1
                progress()

        try:
            source = PageSource(path, info.kind, total, options.dpi, options.max_pixels)
            try:
                for index, reason in to_ocr.items():
                    while len(pending) >= ahead:
                        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                        collect(finished)
                    image, dpi = _load_page(source, index)
                    future = pool.submit(_ocr_page, engine, image, dpi, index, reason, options)
                    futures[future] = index
                    pending.add(future)
                    finished = {f for f in pending if f.done()}
                    pending -= finished
                    collect(finished)
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    collect(finished)
            finally:
                for other in pending:
                    other.cancel()
                wait(pending)  # no Tesseract run of this document outlives the call
                source.close()
        finally:
            if own_pool:
                pool.shutdown(wait=True, cancel_futures=True)
    return Extraction(
        kind=info.kind,
        languages=options.languages,
        engine=engine.name,
        pages=tuple(results[i] for i in range(total)),
    )


def _load_page(source: PageSource, index: int) -> tuple[Image.Image, int | None]:
    """Page ``index`` as OCR reads it (the page's own pixels), and its resolution."""
    try:
        return for_ocr(source.load(index)), source.dpi(index)
    except ExtractError:
        raise
    except Exception as e:  # a page PDFium or Pillow cannot decode fails the document
        raise ExtractionFailed(f"{type(e).__name__}: {e}", index + 1) from e


def _ocr_page(
    engine: OcrEngine,
    image: Image.Image,
    dpi: int | None,
    index: int,
    reason: str,
    options: ExtractOptions,
) -> PageText:
    def read(pixels: Image.Image) -> PageOcr:
        # The reading sees the page's own pixels (turned at most), as plain Tesseract would: a
        # confident reading is then exactly Tesseract's; only doubtful ones get the extra try.
        first = engine.recognize(pixels, options.languages, dpi=dpi, want_pdf=options.keep_overlays)
        if not options.normalize_contrast or is_confident(first, options.orientation):
            return first
        gray = to_gray(pixels)
        if not is_low_contrast(gray):
            return first
        # Faded print: read the stretched page too and keep the better reading.
        second = engine.recognize(
            normalize_contrast(gray), options.languages, dpi=dpi, want_pdf=options.keep_overlays
        )
        return second if second.score > first.score else first

    try:
        reading, rotation = recognize_upright(
            engine, image, read, dpi=dpi, policy=options.orientation
        )
    except ExtractionFailed as e:
        raise ExtractionFailed(e.reason, index + 1) from e
    return PageText(
        number=index + 1,
        text=normalize_text(reading.text),
        method="ocr",
        confidence=reading.confidence,
        rotation=(rotation + reading.orientation) % 360,
        ocr_rotation=rotation,
        reason=reason,
        overlay_pdf=reading.pdf,
    )
