"""Where PP-OCR's time goes: CPU seconds of detection, angle classification and recognition
over the pages of the shared corpus, for the detector's page size as shipped and smaller.

Usage: python bench/ocr_stages.py CORPUS [--sizes 2000,1500]

Every page of CORPUS (PDF pages rendered at 300 dpi as the pipeline renders them; files are
read in place, never copied) goes through the same onnxruntime models the product uses
(``rapidocr-onnxruntime``, one intra-op thread), once per detector size (``max_side_len``:
the page is scaled so that its longer side is at most this before detection). Each stage is
timed with the CPU clock of the calling thread (onnxruntime runs a one-thread session on
it), so the figures hold up on a shared machine better than wall time. Printed per size:
CPU seconds of each stage, lines found and characters read.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexing.extract import preflight  # noqa: E402
from indexing.extract.raster import PageSource, for_ocr  # noqa: E402

SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"}
STAGES = ("text_det", "text_cls", "text_rec")


class _Timed:
    """A model stage whose calls add their thread CPU time to ``spent[name]``."""

    def __init__(self, stage: Any, name: str, spent: Counter[str]) -> None:
        self.stage, self.name, self.spent = stage, name, spent

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.stage, attribute)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return self.stage(*args, **kwargs)
        finally:
            self.spent[self.name] += time.thread_time() - started


def page_pixels(corpus: Path) -> list[Any]:
    import numpy as np

    pages = []
    for path in sorted(corpus.iterdir()):
        if path.suffix.lower() not in SUFFIXES:
            continue
        info = preflight(path)
        source = PageSource(path, info.kind, info.pages, 300, 60_000_000)
        try:
            for index in range(info.pages):
                rgb = for_ocr(source.load(index)).convert("RGB")
                pages.append(np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1]))
        finally:
            source.close()
    return pages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--sizes", default="2000,1500", help="detector max_side_len values")
    args = parser.parse_args()
    from rapidocr_onnxruntime import RapidOCR

    pages = page_pixels(args.corpus)
    print(f"{len(pages)} pages from {args.corpus.name}")
    print("| max side | total CPU s | detection | classification | recognition | lines | chars |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in (int(s) for s in args.sizes.split(",")):
        models = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, max_side_len=size)
        spent: Counter[str] = Counter()
        for stage in STAGES:
            setattr(models, stage, _Timed(getattr(models, stage), stage, spent))
        lines = chars = 0
        started = time.thread_time()
        for pixels in pages:
            found, _ = models(pixels)
            lines += len(found or ())
            chars += sum(len(text) for _box, text, _score in found or ())
        total = time.thread_time() - started
        print(
            f"| {size} | {total:.1f} | {spent['text_det']:.1f} | {spent['text_cls']:.1f} "
            f"| {spent['text_rec']:.1f} | {lines} | {chars} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
