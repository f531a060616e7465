"""Preflight: decide whether an uploaded file may enter the pipeline, before anything else.

Contract: ``preflight(path, filename, limits=...)`` either returns a ``Preflight`` describing the
file (kind, MIME type, page count, pixel size) or raises ``PreflightRejected`` with a
``RejectCode``. It never trusts the file name for the type: the type is sniffed from the first
bytes, then the file is actually parsed (pypdf for PDF, Pillow ``verify()`` + ``load()`` for
images) so truncated and corrupt files are refused here, not half-way through OCR.

Order of checks (cheapest first, so a hostile file costs little): file name, size, magic bytes,
header dimensions (before any pixel is decoded), then a full parse.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image

from .errors import PreflightRejected, RejectCode

__all__ = ["Kind", "Limits", "Preflight", "check_filename", "preflight", "sniff_kind"]

Kind = Literal["pdf", "tiff", "jpeg", "png"]

MIME_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "tiff": "image/tiff",
    "jpeg": "image/jpeg",
    "png": "image/png",
}


@dataclass(frozen=True)
class Limits:
    """Configurable limits; the defaults suit scanned office documents."""

    max_bytes: int = 200 * 1024 * 1024
    max_pages: int = 2000
    # Per image page/frame, as decoded: 60 MP is an A2 sheet at 300 dpi; a decompression bomb
    # declares far more. PDF pages are not refused for their size: extraction renders an
    # oversized page (a poster, a drawing) at a lower resolution that fits this budget.
    max_pixels: int = 60_000_000
    render_dpi: int = 300
    max_filename_length: int = 255  # bytes of UTF-8, the usual file-system limit


@dataclass(frozen=True)
class Preflight:
    """What preflight learnt about an accepted file."""

    kind: Kind
    mime: str
    pages: int
    size_bytes: int
    filename: str | None
    # Pixel size of the first page: as stored for images, at ``render_dpi`` for PDFs.
    pixel_size: tuple[int, int] | None
    # Largest page/frame in pixels (for PDFs at ``render_dpi``, before any size clamp).
    max_page_pixels: int
    # Image resolution from the file's metadata, if it states a plausible one.
    dpi: int | None = None


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


def check_filename(name: str, max_length: int = 255) -> str:
    """Return ``name`` if it is a safe plain file name, else raise ``PreflightRejected``.

    A stored name is shown to users and may be used in download headers and exports, so it must
    be a single path component: no directories, no traversal, no control characters.
    """

    def reject(why: str) -> PreflightRejected:
        return PreflightRejected(RejectCode.UNSAFE_FILENAME, f"unsafe file name: {why}", name)

    if not name or not name.strip():
        raise reject("it is empty")
    if "\x00" in name:
        raise reject("it contains a NUL character")
    if _CONTROL.search(name) or any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        raise reject("it contains control or invisible formatting characters")
    if len(name.encode("utf-8")) > max_length:
        raise reject(f"it is longer than {max_length} bytes")
    if name.startswith(("/", "\\")) or _WINDOWS_DRIVE.match(name):
        raise reject("it is an absolute path")
    if "/" in name or "\\" in name:
        raise reject("it contains a directory separator")
    if name.strip() in (".", ".."):
        raise reject("it is a directory reference")
    return name


def sniff_kind(head: bytes) -> Kind | None:
    """The file type from its first bytes (at least 1 KiB), or None if unsupported."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    # The PDF header may be preceded by junk; readers accept it within the first 1 KiB.
    if b"%PDF-" in head[:1024]:
        return "pdf"
    return None


def preflight(
    path: str | os.PathLike[str],
    filename: str | None = None,
    *,
    limits: Limits | None = None,
) -> Preflight:
    """Check the file at ``path``; ``filename`` is the name the user gave it (may be None)."""
    limits = limits or Limits()
    if filename is not None:
        check_filename(filename, limits.max_filename_length)
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise PreflightRejected(RejectCode.EMPTY, "the file is empty", filename)
    if size > limits.max_bytes:
        raise PreflightRejected(
            RejectCode.TOO_LARGE,
            f"the file has {size} bytes, more than the limit of {limits.max_bytes}",
            filename,
        )
    with path.open("rb") as f:
        head = f.read(1024)
    kind = sniff_kind(head)
    if kind is None:
        raise PreflightRejected(
            RejectCode.UNSUPPORTED_TYPE,
            "the content is not a PDF, TIFF, JPEG or PNG file (whatever its name says)",
            filename,
        )
    if kind == "pdf":
        return _check_pdf(path, size, filename, limits)
    return _check_image(path, kind, size, filename, limits)


def _too_many_pixels(w: int, h: int, limits: Limits, filename: str | None, where: str) -> None:
    if w * h > limits.max_pixels:
        raise PreflightRejected(
            RejectCode.TOO_MANY_PIXELS,
            f"{where} is {w}×{h} pixels, more than the limit of {limits.max_pixels} pixels",
            filename,
        )


def _too_many_pages(pages: int, limits: Limits, filename: str | None) -> None:
    if pages > limits.max_pages:
        raise PreflightRejected(
            RejectCode.TOO_MANY_PAGES,
            f"the document has {pages} pages, more than the limit of {limits.max_pages}",
            filename,
        )


def _corrupt(filename: str | None, detail: str) -> PreflightRejected:
    return PreflightRejected(
        RejectCode.CORRUPT, f"the file is truncated or corrupt ({detail})", filename
    )


def image_dpi(image: Image.Image) -> int | None:
    """The resolution an image declares, if plausible for a scan (JPEG often says 1 or 72)."""
    dpi = image.info.get("dpi")
    try:
        value = round(float(dpi[0])) if dpi else 0
    except (TypeError, ValueError, IndexError):
        return None
    return value if 70 <= value <= 2400 else None


def _check_image(
    path: Path, kind: Kind, size: int, filename: str | None, limits: Limits
) -> Preflight:
    # Pillow refuses (DecompressionBombError) past twice this at open time; we refuse past
    # the limit itself below, from the header, before a single pixel is decoded.
    Image.MAX_IMAGE_PIXELS = limits.max_pixels
    try:
        with Image.open(path) as im:
            if (im.format or "").lower() not in (kind, "mpo" if kind == "jpeg" else kind):
                raise _corrupt(filename, f"content says {kind}, decoder says {im.format}")
            frames = getattr(im, "n_frames", 1) if kind == "tiff" else 1
            _too_many_pages(frames, limits, filename)
            sizes = []
            for i in range(frames):
                im.seek(i)
                _too_many_pixels(*im.size, limits, filename, f"page {i + 1}")
                sizes.append(im.size)
            dpi = image_dpi(im) if frames else None
            im.seek(0)
            im.verify()  # checksums and structure, without decoding
        with Image.open(path) as im:  # verify() leaves the image unusable: reopen to decode
            for i in range(frames):
                im.seek(i)
                im.load()  # a truncated file fails here ("image file is truncated")
    except PreflightRejected:
        raise
    except Image.DecompressionBombError as e:
        raise PreflightRejected(
            RejectCode.TOO_MANY_PIXELS, f"the image declares too many pixels ({e})", filename
        ) from e
    except (OSError, SyntaxError, ValueError, EOFError, Image.UnidentifiedImageError) as e:
        raise _corrupt(filename, str(e) or type(e).__name__) from e
    if not sizes:
        raise _corrupt(filename, "no image frames")
    return Preflight(
        kind=kind,
        mime=MIME_TYPES[kind],
        pages=frames,
        size_bytes=size,
        filename=filename,
        pixel_size=sizes[0],
        max_page_pixels=max(w * h for w, h in sizes),
        dpi=dpi,
    )


def _check_pdf(path: Path, size: int, filename: str | None, limits: Limits) -> Preflight:
    import pypdf
    from pypdf.errors import PyPdfError

    # A PDF ends with %%EOF (an incremental update appends another); a missing one means the
    # upload was cut short, even when a lenient parser could still find some pages.
    with path.open("rb") as f:
        f.seek(max(0, size - 4096))
        tail = f.read()
    if b"%%EOF" not in tail:
        raise _corrupt(filename, "no end-of-file marker: the PDF was cut short")
    try:
        reader = pypdf.PdfReader(path, strict=False)
        # Owner-password-only PDFs (restrictions, empty user password) open for everyone;
        # a user password means we cannot read the content at all.
        if reader.is_encrypted and reader.decrypt("") == pypdf.PasswordType.NOT_DECRYPTED:
            raise PreflightRejected(
                RejectCode.ENCRYPTED,
                "the PDF is password-protected; remove the password and upload it again",
                filename,
            )
        pages = len(reader.pages)
        _too_many_pages(pages, limits, filename)
        if pages == 0:
            raise _corrupt(filename, "the PDF has no pages")
        scale = limits.render_dpi / 72
        first: tuple[int, int] | None = None
        largest = 0
        for page in reader.pages:
            box = page.cropbox
            w, h = abs(float(box.width)), abs(float(box.height))
            if (page.rotation or 0) % 180:
                w, h = h, w
            px = (max(1, round(w * scale)), max(1, round(h * scale)))
            first = first or px
            largest = max(largest, px[0] * px[1])
            page.get_contents()  # parses the content stream objects: catches broken xrefs
    except PreflightRejected:
        raise
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise _corrupt(filename, str(e) or type(e).__name__) from e
    except RecursionError as e:  # a hostile object graph
        raise _corrupt(filename, "the object structure is recursive") from e
    return Preflight(
        kind="pdf",
        mime=MIME_TYPES["pdf"],
        pages=pages,
        size_bytes=size,
        filename=filename,
        pixel_size=first,
        max_page_pixels=largest,
        dpi=limits.render_dpi,
    )
