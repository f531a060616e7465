"""Tesseract as an ``OcrEngine``: one ``tesseract`` subprocess per call.

Contract: thread-safe and stateless; every subprocess runs with ``OMP_THREAD_LIMIT=1`` because
the pipeline parallelises across pages (one core per page), and Tesseract's own OpenMP threads
would only fight over the same cores.

Why the binary is run directly instead of through ``pytesseract.image_to_data``: the child
must die with the worker (``children.run_child``), and its input and output files must stay in
the folder the caller names (``temp_dir``: the instance's private temporary folder, since a
page image is decrypted content). pytesseract still locates the binary
(``pytesseract.pytesseract.tesseract_cmd``, which the app may configure) and reports versions
and installed languages. Images go to Tesseract as uncompressed PNM, pixels unchanged
(encoding a PNG costs ~0.1 s per A4 page, PNM ~5 ms), with ``--dpi`` when the resolution is
known, in a temporary directory inside ``temp_dir`` that is removed after each call.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytesseract
from PIL import Image

from .children import run_child
from .engine import OrientationGuess, PageOcr, Word
from .errors import ExtractionFailed, OcrEngineUnavailable
from .layout import layout_text

__all__ = ["TesseractEngine"]

csv.field_size_limit(1 << 24)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_THREAD_LIMIT"] = "1"
    return env


@functools.cache
def _installed_languages(cmd: str) -> frozenset[str]:
    try:
        return frozenset(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractNotFoundError, OSError) as e:
        raise OcrEngineUnavailable(f"the tesseract program was not found ({cmd})") from e


class TesseractEngine:
    """OCR through the ``tesseract`` command-line program (Tesseract 4 or 5, LSTM models).

    Pages are read with ``--psm 3``, as plain Tesseract does; turning pages upright is the
    pipeline's decision (``orientation``), made with ``detect_orientation`` (``--psm 0``).
    ``--psm 1`` (orientation found during the reading) was measured at ~20 % more per upright
    page on the shared corpus, and a turned page read once upright is cheaper still.
    """

    name = "tesseract"

    def __init__(
        self, psm: int = 3, timeout: float = 600.0, temp_dir: str | os.PathLike[str] | None = None
    ) -> None:
        self.psm = psm
        self.timeout = timeout
        # Where page images and Tesseract's outputs live for one call (None: the system's).
        self.temp_dir = os.fspath(temp_dir) if temp_dir is not None else None

    @property
    def cmd(self) -> str:
        return pytesseract.pytesseract.tesseract_cmd

    def check(self, languages: str) -> None:
        installed = _installed_languages(self.cmd)
        missing = [lang for lang in languages.split("+") if lang and lang not in installed]
        if missing:
            raise OcrEngineUnavailable(
                f"language data not installed: {', '.join(missing)} "
                f"(installed: {', '.join(sorted(installed)) or 'none'})"
            )

    def reads(self, languages: str) -> bool:
        try:
            self.check(languages)
        except OcrEngineUnavailable:
            return False
        return True

    def version(self) -> str:
        return str(pytesseract.get_tesseract_version())

    # -- running ------------------------------------------------------------------------------

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[bytes]:
        try:
            return run_child([self.cmd, *args], env=_env(), timeout=self.timeout)
        except FileNotFoundError as e:
            raise OcrEngineUnavailable(f"the tesseract program was not found ({self.cmd})") from e
        except subprocess.TimeoutExpired as e:
            raise ExtractionFailed(f"tesseract took longer than {self.timeout:.0f} s") from e

    @staticmethod
    def _write_input(image: Image.Image, folder: str) -> str:
        # The file lives for one call: encoding speed matters, size does not. PNM carries no
        # resolution, so callers pass --dpi; without it Tesseract estimates, as for any image
        # that does not state its resolution. Bilevel, gray and colour pixels go as they are
        # (PBM/PGM/PPM): Tesseract's own grayscale conversion is what it was tuned with.
        path = os.path.join(folder, "page.pnm")
        if image.mode not in ("1", "L", "RGB"):
            image = image.convert("RGB")
        image.save(path, "PPM")
        return path

    def recognize(self, image: Image.Image, languages: str, *, dpi: int | None) -> PageOcr:
        with tempfile.TemporaryDirectory(prefix="ocr-", dir=self.temp_dir) as folder:
            src = self._write_input(image, folder)
            out = os.path.join(folder, "out")
            args = [src, out, "-l", languages, "--psm", str(self.psm)]
            if dpi:
                args += ["--dpi", str(dpi)]
            result = self._run([*args, "tsv"])
            if result.returncode != 0:
                self._fail(result)
            tsv = Path(out + ".tsv").read_text(encoding="utf-8", errors="replace")
        # Even --psm 3 reads sideways lines by itself at times: the word boxes tell either way.
        return _parse_tsv(tsv)

    def detect_orientation(self, image: Image.Image, *, dpi: int | None) -> OrientationGuess | None:
        with tempfile.TemporaryDirectory(prefix="osd-", dir=self.temp_dir) as folder:
            src = self._write_input(image, folder)
            args = [src, "-", "--psm", "0", "-l", "osd"]
            if dpi:
                args += ["--dpi", str(dpi)]
            result = self._run(args)
        if result.returncode != 0:
            # "Too few characters", typical for sparse pages and some CJK pages: no guess.
            if b"osd" in result.stderr and b"Failed loading" in result.stderr:
                raise OcrEngineUnavailable("orientation data (osd.traineddata) not installed")
            return None
        return _parse_osd(result.stdout.decode("utf-8", "replace"))

    @staticmethod
    def _fail(result: subprocess.CompletedProcess[bytes]) -> None:
        err = result.stderr.decode("utf-8", "replace").strip()
        if "Failed loading language" in err or "Could not initialize tesseract" in err:
            raise OcrEngineUnavailable(err.splitlines()[-1] if err else "cannot initialise")
        raise ExtractionFailed(f"tesseract exited with {result.returncode}: {err[-300:]}")


_OSD_ROTATE = re.compile(r"Rotate:\s*(\d+)")
_OSD_CONF = re.compile(r"Orientation confidence:\s*([\d.]+)")


def _parse_osd(out: str) -> OrientationGuess | None:
    rotate, conf = _OSD_ROTATE.search(out), _OSD_CONF.search(out)
    if not rotate or not conf:
        return None
    return OrientationGuess(rotate=int(rotate.group(1)) % 360, confidence=float(conf.group(1)))


def _parse_tsv(tsv: str) -> PageOcr:
    """Words with boxes and confidences from TSV word rows, numbered by Tesseract's text line;
    the text is rebuilt from the boxes (``layout``), like every engine's."""
    words: list[Word] = []
    last_line: tuple[str, ...] | None = None
    line_no = -1
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        if row.get("level") != "5":
            continue
        text = (row.get("text") or "").strip()
        if not text:
            continue
        line = (row["page_num"], row["block_num"], row["par_num"], row["line_num"])
        if line != last_line:
            line_no += 1
            last_line = line
        try:
            conf = max(0.0, float(row.get("conf") or 0))
            box = tuple(int(row[k]) for k in ("left", "top", "width", "height"))
        except (ValueError, KeyError, TypeError):
            conf, box = 0.0, (0, 0, 0, 0)
        words.append(Word(text=text, confidence=conf, line=line_no, box=box))
    mean = sum(w.confidence for w in words) / len(words) if words else None
    found = tuple(words)
    return PageOcr(
        text=layout_text(found),
        confidence=mean,
        words=found,
        orientation=PageOcr.orientation_of(found),
        engine=TesseractEngine.name,
    )
