"""Which OCR engine reads a page: the ``ARCHIVE_OCR_ENGINE`` choice made concrete.

Contract: ``open_engines(choice, languages, temp_dir=...)`` returns the ``Engines`` an
extraction uses, after checking that each is installed and reads ``languages``; a missing or
broken engine raises ``OcrEngineUnavailable`` with a one-line message, so the program can
refuse to start instead of failing documents one by one.

Choices:
* ``auto`` (default): PP-OCR reads pages when it reads every configured language (Chinese and
  English); Tesseract reads them otherwise (e.g. ``deu``). Per page, a doubtful PP-OCR reading
  (near-empty or unsure) is read again by Tesseract and the better reading kept, so a page
  PP-OCR cannot handle is never lost.
* ``paddle``: PP-OCR only (an error at start if a configured language is not one it reads).
* ``tesseract``: Tesseract only, as before PP-OCR came.
Tesseract always detects page orientation (PP-OCR cannot), so it is required in every case.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .engine import OcrEngine
from .errors import OcrEngineUnavailable
from .paddle import PaddleEngine
from .tesseract import TesseractEngine

__all__ = ["ENGINE_CHOICES", "Engines", "open_engines"]

ENGINE_CHOICES = ("auto", "paddle", "tesseract")


@dataclass(frozen=True)
class Engines:
    reader: OcrEngine  # reads every page first
    orientation: OcrEngine  # detects page orientation (Tesseract's OSD)
    fallback: OcrEngine | None = None  # reads a page again when the reader's reading is doubtful

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in (self.reader, self.fallback) if e is not None)


def open_engines(
    choice: str, languages: str, *, temp_dir: str | os.PathLike[str] | None = None
) -> Engines:
    if choice not in ENGINE_CHOICES:
        raise OcrEngineUnavailable(
            f"unknown OCR engine {choice!r} (use one of {', '.join(ENGINE_CHOICES)})",
            engine=choice,
        )
    tesseract = TesseractEngine(temp_dir=temp_dir)
    tesseract.check("osd")
    paddle = PaddleEngine()
    if choice == "tesseract" or (choice == "auto" and not paddle.reads(languages)):
        tesseract.check(languages)
        return Engines(reader=tesseract, orientation=tesseract)
    paddle.check(languages)
    if choice == "paddle":
        return Engines(reader=paddle, orientation=tesseract)
    tesseract.check(languages)
    return Engines(reader=paddle, orientation=tesseract, fallback=tesseract)
