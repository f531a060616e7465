"""OCR benchmark: the extraction pipeline against raw Tesseract on the shared corpus.

Usage: python bench/ocr.py [--corpus PATH] [--only NAME ...] [--skip-parallel]

The corpus is the sibling folder ``shared/corpus`` of the repository (see its SOURCES.md for
sources and licences; files are read in place, never copied). In one run this prints:

* raw Tesseract: ``tesseract IMAGE - -l chi_sim+eng`` with ``OMP_THREAD_LIMIT=1``, one process
  at a time, on the same page images the pipeline reads (PDF pages rendered at 300 dpi in
  grayscale beforehand — rendering is *not* timed for raw, it *is* for the pipeline; image
  files as they are);
* the pipeline with every page forced through OCR (``use_text_layer=False``: the engine-speed
  comparison), with 1 and with 2 OCR worker processes (a shared pool of that size, each slot
  taking one document at a time, as an app worker does), and pages/s for each;
* CER per document (NFKC, whitespace removed, edit distance / ground-truth length) for raw,
  for the pipeline's OCR, and for the pipeline as deployed (text layer where usable).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexing.extract import ExtractOptions, extract, preflight  # noqa: E402
from indexing.extract.raster import PageSource  # noqa: E402
from indexing.extract.textlayer import read_text_layer  # noqa: E402
from indexing.text import levenshtein, normalize_text  # noqa: E402

LANGUAGES = "chi_sim+eng"
DPI = 300
SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"}


@dataclass
class Doc:
    path: Path
    pages: int = 0
    gt: str | None = None
    raw_text: str = ""
    raw_seconds: float = 0.0
    ocr_text: str = ""
    ocr_pages: list = field(default_factory=list)
    deployed_text: str = ""
    rotations: list[int] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)


def squash(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def cer(text: str, gt: str | None) -> float | None:
    if gt is None:
        return None
    ref = squash(gt)
    return levenshtein(squash(text), ref) / max(1, len(ref))


def cpu_seconds() -> float:
    """User+system CPU of this process and its finished children (Tesseract runs)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def raw_tesseract(image: Path) -> str:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    out = subprocess.run(
        ["tesseract", str(image), "-", "-l", LANGUAGES],
        capture_output=True,
        env=env,
        check=False,
    )
    return out.stdout.decode("utf-8", "replace")


def run_raw(docs: list[Doc], folder: Path) -> tuple[float, float]:
    """Render PDF pages first (untimed), then time Tesseract alone, one process at a time."""
    jobs: list[tuple[Doc, Path]] = []
    for doc in docs:
        if doc.path.suffix.lower() == ".pdf":
            with PageSource(doc.path, "pdf", doc.pages, dpi=DPI) as source:
                for i in range(doc.pages):
                    png = folder / f"{doc.path.stem}-{i:03d}.png"
                    dpi = source.dpi(i)  # the pipeline's: 300, lower only for huge pages
                    source.load(i).save(png, dpi=(dpi, dpi))
                    jobs.append((doc, png))
        else:
            jobs.append((doc, doc.path))
    texts: dict[str, list[str]] = {}
    total = 0.0
    cpu = cpu_seconds()
    for doc, image in jobs:
        t = time.perf_counter()
        text = raw_tesseract(image)
        spent = time.perf_counter() - t
        doc.raw_seconds += spent
        total += spent
        texts.setdefault(doc.path.name, []).append(text)
    cpu = cpu_seconds() - cpu
    for doc in docs:
        doc.raw_text = "\f".join(texts.get(doc.path.name, []))
    return total, cpu


def run_pipeline(docs: list[Doc], workers: int, record: bool) -> tuple[float, float]:
    """All documents through one shared pool of ``workers`` OCR slots, one document per slot
    at a time: (wall, CPU) seconds."""
    options = ExtractOptions(languages=LANGUAGES, dpi=DPI, use_text_layer=False)
    pool = ThreadPoolExecutor(max_workers=workers)
    queue = list(docs)
    lock = threading.Lock()

    def driver() -> None:
        while True:
            with lock:
                if not queue:
                    return
                doc = queue.pop(0)
            result = extract(doc.path, options=options, executor=pool)
            if record:
                doc.ocr_text = result.text
                doc.ocr_pages = [p.text for p in result.pages]
                doc.rotations = [p.rotation for p in result.pages]

    t, cpu = time.perf_counter(), cpu_seconds()
    # One document at a time per slot, as an app worker runs (pages of a document are
    # rendered ahead inside extract). A spare feeder, rendering a further document beside
    # the running Tesseract, slowed Tesseract itself on the 2-vCPU machine of
    # bench/RESULTS.md (more CPU seconds for the same pages) without keeping it busier.
    feeders = [threading.Thread(target=driver) for _ in range(workers)]
    for f in feeders:
        f.start()
    for f in feeders:
        f.join()
    wall, cpu = time.perf_counter() - t, cpu_seconds() - cpu
    pool.shutdown()
    return wall, cpu


def deployed(doc: Doc) -> None:
    """The text the pipeline stores by default: the text layer where usable, else OCR."""
    if doc.path.suffix.lower() != ".pdf":
        doc.deployed_text = doc.ocr_text
        doc.methods = ["ocr"] * doc.pages
        return
    layers = read_text_layer(doc.path)
    texts = []
    for layer, ocr in zip(layers, doc.ocr_pages, strict=True):
        texts.append(normalize_text(layer.text) if layer.usable else ocr)
        doc.methods.append("text-layer" if layer.usable else "ocr")
    doc.deployed_text = "\f".join(texts)


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--only", nargs="*", help="document name prefixes to run")
    parser.add_argument("--skip-parallel", action="store_true")
    args = parser.parse_args()
    corpus: Path = args.corpus
    if not corpus.is_dir():
        print(
            f"corpus not found at {corpus}: pass --corpus PATH (the shared OCR corpus, "
            "a sibling folder shared/corpus of the repository)",
            file=sys.stderr,
        )
        return 2
    docs = []
    for path in sorted(corpus.iterdir()):
        if path.suffix.lower() not in SUFFIXES:
            continue
        if args.only and not any(path.name.startswith(p) for p in args.only):
            continue
        info = preflight(path, path.name)
        gt_path = path.with_name(path.stem + ".gt.txt")
        gt = gt_path.read_text(encoding="utf-8") if gt_path.exists() else None
        docs.append(Doc(path=path, pages=info.pages, gt=gt))
    pages = sum(d.pages for d in docs)
    print(f"corpus: {corpus} — {len(docs)} documents, {pages} pages; languages {LANGUAGES}")

    # Other work on the machine slows wall time; CPU time (this process and its Tesseract
    # children) is the steadier measure, and the load average says how busy the machine was.
    print("| run | wall s | pages/s (wall) | CPU s | pages per CPU-s | load before |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as folder:
        raw, raw_cpu = run_raw(docs, Path(folder))
    print(f"| raw tesseract, 1 process | {raw:.1f} | {pages / raw:.3f} | {raw_cpu:.1f} "
          f"| {pages / raw_cpu:.3f} | {load:.1f} |", flush=True)  # fmt: skip
    load = os.getloadavg()[0]
    one, one_cpu = run_pipeline(docs, workers=1, record=True)
    print(f"| pipeline (OCR), 1 worker | {one:.1f} | {pages / one:.3f} | {one_cpu:.1f} "
          f"| {pages / one_cpu:.3f} | {load:.1f} |", flush=True)  # fmt: skip
    two = None
    if not args.skip_parallel:
        load = os.getloadavg()[0]
        two, two_cpu = run_pipeline(docs, workers=2, record=False)
        print(f"| pipeline (OCR), 2 workers | {two:.1f} | {pages / two:.3f} | {two_cpu:.1f} "
              f"| {pages / two_cpu:.3f} | {load:.1f} |", flush=True)  # fmt: skip
    for doc in docs:
        deployed(doc)

    print()
    print(
        "| document | pages | raw s | CER raw | CER pipeline OCR | CER pipeline deployed "
        "| deployed method | rotations |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    worse, worse_ocr, better_needed = [], [], []
    for doc in docs:
        c_raw, c_ocr = cer(doc.raw_text, doc.gt), cer(doc.ocr_text, doc.gt)
        c_dep = cer(doc.deployed_text, doc.gt)
        methods = ",".join(sorted(set(doc.methods)))
        rot = ",".join(str(r) for r in doc.rotations) if any(doc.rotations) else "0"
        print(
            f"| {doc.path.name} | {doc.pages} | {doc.raw_seconds:.1f} | {fmt(c_raw)} "
            f"| {fmt(c_ocr)} | {fmt(c_dep)} | {methods} | {rot} |"
        )
        if c_raw is not None and c_dep is not None and c_dep > c_raw + 1e-9:
            worse.append(f"{doc.path.name} ({c_dep:.3f} > {c_raw:.3f})")
        if c_raw is not None and c_ocr is not None and c_ocr > c_raw + 1e-9:
            worse_ocr.append(f"{doc.path.name} ({c_ocr:.3f} > {c_raw:.3f})")
        must_improve = doc.path.stem in ("en-brochure-03-rotated-4pages", "en-receipt-04-faded")
        if must_improve and c_raw is not None and c_dep is not None and not c_dep < c_raw:
            better_needed.append(doc.path.name)

    print()
    print(f"speed pipeline/raw, 1 worker: {raw / one:.2f}× by wall time, "
          f"{raw_cpu / one_cpu:.2f}× by CPU time (goal ≥ 0.95×)")  # fmt: skip
    if two:
        print(f"speed-up with 2 workers:      {one / two:.2f}× (goal ≥ 1.8×)")
    print(
        "CER no worse than raw on every document (deployed): "
        + ("yes" if not worse else "no: " + "; ".join(worse))
    )
    print(
        "CER no worse than raw on every document (OCR forced): "
        + ("yes" if not worse_ocr else "no: " + "; ".join(worse_ocr))
    )
    print(
        "CER better on the rotated and faded documents: "
        + ("yes" if not better_needed else "no: " + ", ".join(better_needed))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
