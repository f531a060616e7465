"""Why a file was refused at upload, or why its text could not be read, in the user's
language.

Contract: :func:`rejection_text` says an upload's refusal from its code (a
``indexing.extract.errors.RejectCode`` value, or ``duplicate`` with the record it duplicates);
:func:`failure_text` says a document's stored ``failure_reason``, which the processing step
writes in a fixed form (``... [code]`` for a refused file, ``storage: ...``, ``OCR engine
unavailable: ...``, ``temporarily unavailable: ...``, ``will retry: ...``, ``extraction
failed ...``). English pages show the stored English words, which name the most; other
languages get the sentence for the kind of failure.
"""

from __future__ import annotations

import re

from flask_babel import get_locale
from flask_babel import gettext as _

_CODE = re.compile(r"\[([a-z_]+)\]$")
_PAGE = re.compile(r"^extraction failed \(page (\d+)\)")


def _english() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "en"


def rejection_text(code: str | None, english: str | None, document: str | None = None) -> str:
    if _english() and english:
        return english
    if code == "duplicate":
        return _("Already filed in this archive as %(number)s.", number=document or "—")
    texts = {
        "empty": _("The file is empty."),
        "unsupported_type": _("This kind of file is not accepted: upload a PDF or an image."),
        "corrupt": _("The file is damaged and cannot be read."),
        "encrypted": _("The file is password-protected: upload it without the password."),
        "too_large": _("The file is larger than the archive accepts."),
        "too_many_pages": _("The file has more pages than the archive accepts."),
        "too_many_pixels": _("The image is larger than the archive accepts."),
        "unsafe_filename": _("The file name is not allowed: rename the file."),
    }
    return str(texts.get(code or "", _("The file was refused.")))


def failure_text(reason: str | None) -> str:
    if not reason:
        return ""
    if _english():
        return reason
    if reason.startswith("will retry:"):
        return _("The text could not be read this time; it will be tried again.")
    if code := _CODE.search(reason):
        return rejection_text(code.group(1), None)
    if reason.startswith("OCR engine unavailable"):
        return _("The text recognition program is not available: ask an administrator.")
    if reason.startswith("temporarily unavailable"):
        return _("The archive was busy; retry the extraction.")
    if reason.startswith("storage:"):
        return _("The stored file could not be read; ask an administrator.")
    if page := _PAGE.match(reason):
        return _("The text of page %(page)s could not be read.", page=page.group(1))
    return _("The text of this file could not be read.")
