"""A PDF's own text layer, and whether it can be trusted.

Contract: ``read_text_layer(path)`` returns one ``LayerPage`` per page with the page's text
and a verdict.

Which extractor: poppler's ``pdftotext`` when it is installed (it is a system dependency of
the product, like Tesseract), else pypdf in layout mode. Both read the same characters; they
differ in reading order, and for search snippets and suggestions order matters: on the
corpus's born-digital invoices pypdf's default mode interleaves table columns (CER 0.49-0.86
against the layer, i.e. the text itself is right but scrambled), its layout mode does better
(0.15-0.39), poppler's reading-order reconstruction is the reference. pypdf still parses the
page structure (images, fonts) for the verdict. A page's layer is *usable* when it holds enough real text: letters,
digits and CJK characters rather than Private Use Area code points, U+FFFD, control characters
or ``(cid:NN)`` placeholders (what fonts without a Unicode mapping produce), and, for Latin
text, tokens that look like words. A page that is essentially an image with (almost) no text
is not usable either: it is a scan and goes to OCR. Verdicts are per page, so a born-digital
report with one scanned appendix page gets OCR for that page only.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

__all__ = ["LayerPage", "assess_text_layer", "read_text_layer"]

_CID = re.compile(r"\(cid:\d+\)")
_LATIN_TOKEN = re.compile(r"[A-Za-z]{2,}")
_VOWELS = set("aeiouyAEIOUY")

MIN_CHARS = 20  # fewer real characters than this on an image page: it is a scan


@dataclass(frozen=True)
class LayerPage:
    text: str
    usable: bool
    reason: str  # why not usable ("" when usable)
    has_images: bool


def _is_bad(c: str) -> bool:
    o = ord(c)
    return (
        0xE000 <= o <= 0xF8FF
        or o >= 0xF0000  # supplementary private use planes
        or o == 0xFFFD
        or (o < 0x20 and c not in "\n\t\r\f")
        or 0x7F <= o < 0xA0
    )


def assess_text_layer(text: str, has_images: bool) -> tuple[bool, str]:
    """(usable, reason) for one page's extracted text."""
    cid = len(_CID.findall(text))
    text_wo_cid = _CID.sub("", text)
    chars = [c for c in text_wo_cid if not c.isspace()]
    bad = sum(1 for c in chars if _is_bad(c)) + cid * 4
    good = sum(1 for c in chars if c.isalnum() and not _is_bad(c))
    total = len(chars) + cid * 4
    if total == 0:
        return (False, "no text layer") if has_images else (True, "")
    if bad / total > 0.1:
        return False, f"garbage text layer ({bad} of {total} characters unmapped or private-use)"
    if good < MIN_CHARS and has_images:
        return False, f"image page with almost no text ({good} characters)"
    if good / total < 0.4:
        return False, f"garbage text layer (only {good} of {total} characters are letters)"
    tokens = _LATIN_TOKEN.findall(text_wo_cid)
    if len(tokens) >= 10:
        wordlike = sum(1 for t in tokens if _VOWELS.intersection(t))
        if wordlike / len(tokens) < 0.5:
            return False, "garbage text layer (Latin tokens do not look like words)"
    return True, ""


def _has_images(page: object, depth: int = 0) -> bool:
    """True if the page (or a form it draws, one level deep) paints an image."""
    try:
        resources = page["/Resources"]
        xobjects = resources.get("/XObject") if resources else None
        if not xobjects:
            return False
        for ref in xobjects.values():
            obj = ref.get_object()
            subtype = obj.get("/Subtype")
            if subtype == "/Image":
                return True
            if subtype == "/Form" and depth < 2 and _has_images(obj, depth + 1):
                return True
    except (KeyError, AttributeError, TypeError, ValueError):
        return False
    return False


def _pdftotext(path: str | os.PathLike[str], pages: int) -> list[str] | None:
    """Per-page text from poppler, or None if it is missing, fails or disagrees on pages."""
    exe = shutil.which("pdftotext")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "-q", "-enc", "UTF-8", os.fspath(path), "-"],
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    texts = out.stdout.decode("utf-8", "replace").split("\f")
    if texts and not texts[-1].strip():
        texts.pop()  # pdftotext ends every page, the last included, with a form feed
    return texts if len(texts) == pages else None


def read_text_layer(path: str | os.PathLike[str]) -> list[LayerPage]:
    """Extract and assess every page's text layer."""
    import pypdf

    reader = pypdf.PdfReader(path, strict=False)
    if reader.is_encrypted:
        reader.decrypt("")  # preflight only lets owner-password-only PDFs through
    poppler = _pdftotext(path, len(reader.pages))
    pages = []
    for i, page in enumerate(reader.pages):
        try:
            text = poppler[i] if poppler else page.extract_text(extraction_mode="layout") or ""
        except Exception as e:  # pypdf raises many types on odd fonts; OCR is the fallback
            pages.append(LayerPage("", False, f"text layer unreadable ({type(e).__name__})", True))
            continue
        has_images = _has_images(page)
        usable, reason = assess_text_layer(text, has_images)
        pages.append(LayerPage(text, usable, reason, has_images))
    return pages
