"""Extraction: the text of every page of an accepted document, by text layer or OCR.

Contract: ``extract(path, info, options=..., engines=..., on_page=...)`` returns an
``Extraction`` with one ``PageText`` per page, in order. For each PDF page the text layer is
used when ``textlayer`` judges it usable (no OCR at all for that page); every other page is
rasterised at ``options.dpi`` (PDF, grayscale) or taken as stored (images, each TIFF frame),
turned upright when its text lines show it is turned (``orientation``), read by the engine
``engines`` chooses (``engines.open_engines``), read again locally enhanced if it is faded and
the reading is doubtful (``raster.is_low_contrast``), read by the fallback engine if still
doubtful, and its text, in reading order (``layout``), normalised (``indexing.text``). Each
OCR page records the engine whose reading was kept, its confidence and its word boxes (the
rendition places its invisible text from them); a page that reads (nearly) empty is marked
``readable=False`` so the application can ask a person to look at it.

Parallelism: OCR pages run in a pool of ``options.workers`` threads, one core each: Tesseract
runs as a subprocess with ``OMP_THREAD_LIMIT=1``, PP-OCR in onnxruntime with one thread per
call, both outside the GIL. The calling thread renders pages ahead of the pool
(``workers + 1`` pages at most), so rendering overlaps the readings instead of adding to them;
memory holds about that many page images, and they stay in memory (only Tesseract gets a file,
in ``options.temp_dir``).

``on_page(done, total)`` is called from the calling thread after each page (text-layer pages
included), so the app can show "OCR page n/m". Errors: ``OcrEngineUnavailable`` before any
work if an engine or a language is missing; ``ExtractionFailed(reason, page)`` if a page fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Literal

from PIL import Image

from indexing.text import normalize_text

from .engine import PageOcr, Word
from .engines import Engines, open_engines
from .errors import ExtractError, ExtractionFailed
from .orientation import OrientationPolicy, is_confident, recognize_upright
from .preflight import Kind, Preflight, preflight
from .raster import PageSource, enhance_local, for_ocr, is_low_contrast, to_gray
from .textlayer import read_text_layer

__all__ = ["ExtractOptions", "Extraction", "PageText", "extract"]

Method = Literal["text-layer", "ocr"]
ProgressCallback = Callable[[int, int], None]


# A page with fewer real characters (letters, digits, CJK) than this reads as near-empty.
MIN_READABLE_CHARS = 5


@dataclass(frozen=True)
class ExtractOptions:
    languages: str = "chi_sim+eng"
    engine: str = "auto"  # see ``engines``: auto, paddle or tesseract
    dpi: int = 300  # PDF rasterisation resolution
    max_pixels: int = 60_000_000  # larger PDF pages are rendered at a lower resolution
    workers: int = 1  # OCR pages in parallel (one core each)
    enhance_faded: bool = True  # allow the locally enhanced second reading of faded pages
    use_text_layer: bool = True
    orientation: OrientationPolicy = field(default_factory=OrientationPolicy)
    # Where Tesseract's page images and outputs live (decrypted content: a private folder).
    temp_dir: str | None = None


@dataclass(frozen=True)
class PageText:
    number: int  # 1-based
    text: str  # normalised (NFKC, CJK spaces removed)
    method: Method
    confidence: float | None  # mean OCR word confidence 0..100; None for text-layer pages
    rotation: int = 0  # clockwise degrees that turn the page as stored upright
    # Clockwise degrees the pixels were turned before the reading that was kept; the word
    # boxes fit the page turned by this much (the engine may have coped with the rest).
    ocr_rotation: int = 0
    reason: str = ""  # why OCR was used instead of the text layer, if it was
    engine: str = ""  # the OCR engine whose reading was kept; "" for text-layer pages
    words: tuple[Word, ...] = field(default=(), repr=False)  # boxes in the turned image
    image_size: tuple[int, int] = (0, 0)  # width, height of the image the boxes refer to
    enhanced: bool = False  # the reading kept is of the locally enhanced page

    @property
    def readable(self) -> bool:
        """False for an OCR page that read (nearly) empty: a person should look at it."""
        if self.method != "ocr":
            return True
        return sum(1 for c in self.text if c.isalnum()) >= MIN_READABLE_CHARS


@dataclass(frozen=True)
class Extraction:
    kind: Kind
    languages: str
    pages: tuple[PageText, ...]

    @property
    def engines(self) -> tuple[str, ...]:
        """The engines whose readings were kept, in order of first use."""
        return tuple(dict.fromkeys(p.engine for p in self.pages if p.engine))

    @property
    def unreadable_pages(self) -> tuple[int, ...]:
        """1-based numbers of the OCR pages that read (nearly) empty."""
        return tuple(p.number for p in self.pages if not p.readable)

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


def extract(
    path: str | os.PathLike[str],
    info: Preflight | None = None,
    *,
    options: ExtractOptions | None = None,
    engines: Engines | None = None,
    on_page: ProgressCallback | None = None,
    executor: Executor | None = None,
) -> Extraction:
    """Extract every page of the file at ``path`` (preflighted now if ``info`` is None).

    ``executor``: a thread pool shared across documents (e.g. one per app worker process), so
    that its size bounds the OCR work of all documents together; by default each call makes
    its own pool of ``options.workers`` threads. ``engines``: opened once per process by the
    caller (``open_engines``); by default opened from ``options``.
    """
    options = options or ExtractOptions()
    info = info or preflight(path)
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
        engines = engines or open_engines(
            options.engine, options.languages, temp_dir=options.temp_dir
        )
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
                    future = pool.submit(_ocr_page, engines, image, dpi, index, reason, options)
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


def _is_doubtful(page: PageOcr, options: ExtractOptions) -> bool:
    readable = sum(1 for c in page.text if c.isalnum()) >= MIN_READABLE_CHARS
    return not readable or not is_confident(page, options.orientation)


def _ocr_page(
    engines: Engines,
    image: Image.Image,
    dpi: int | None,
    index: int,
    reason: str,
    options: ExtractOptions,
) -> PageText:
    enhanced: list[PageOcr] = []  # readings of the locally enhanced page (kept alive)

    def read(pixels: Image.Image) -> PageOcr:
        # The first reading sees the page's own pixels (turned at most): a confident reading
        # stands; only doubtful ones get the extra tries, and the best reading is kept.
        best = engines.reader.recognize(pixels, options.languages, dpi=dpi)
        if not _is_doubtful(best, options):
            return best
        source = pixels
        if options.enhance_faded and is_low_contrast(to_gray(pixels)):
            clearer_pixels = enhance_local(pixels)
            clearer = engines.reader.recognize(clearer_pixels, options.languages, dpi=dpi)
            if clearer.score > best.score:
                best, source = clearer, clearer_pixels
                enhanced.append(clearer)
        if engines.fallback is not None and _is_doubtful(best, options):
            other = engines.fallback.recognize(source, options.languages, dpi=dpi)
            if other.score > best.score:
                if source is not pixels:
                    enhanced.append(other)
                best = other
        return best

    try:
        reading, rotation = recognize_upright(
            engines.orientation, image, read, dpi=dpi, policy=options.orientation
        )
    except ExtractionFailed as e:
        raise ExtractionFailed(e.reason, index + 1) from e
    turned = image.size if rotation % 180 == 0 else image.size[::-1]
    return PageText(
        number=index + 1,
        text=normalize_text(reading.text),
        method="ocr",
        confidence=reading.confidence,
        rotation=(rotation + reading.orientation) % 360,
        ocr_rotation=rotation,
        reason=reason,
        engine=reading.engine,
        words=reading.words,
        image_size=turned,
        enhanced=any(reading is r for r in enhanced),
    )
