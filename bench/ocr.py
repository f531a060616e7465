"""OCR benchmark: the product's extraction against Tesseract alone on the shared corpus, and
end-to-end import against extraction alone, in one run.

Usage: python bench/ocr.py CORPUS [--only NAME ...] [--skip-import]

CORPUS is the folder of the shared OCR corpus (see its SOURCES.md for sources and licences;
files are read in place, never copied). In one run this prints:

* Tesseract alone: ``tesseract IMAGE - -l chi_sim+eng`` with ``OMP_THREAD_LIMIT=1``, one
  process at a time, on the same page images the pipeline reads (PDF pages rendered at 300 dpi
  in grayscale beforehand: rendering is *not* timed for Tesseract, it *is* for the product);
* the product's extraction with every page forced through OCR (``use_text_layer=False``, the
  engine-speed comparison) with one OCR slot and with the default two (one app worker), and
  pages/s of each;
* per document and as means by language (the file-name prefix): CER with whitespace removed
  (NFKC, edit distance / ground-truth length) and order-free CER (the characters as a bag:
  max(missing, extra) / ground-truth length) for Tesseract alone and for the product as
  deployed (text layer where usable, OCR otherwise), with the engine of each page;
* pages that read empty although the ground truth has text;
* end-to-end: ``archive import --wait`` of the whole corpus into a fresh instance with a
  worker already running, against the product's extraction alone of the same files (text
  layer where usable, ``ARCHIVE_OCR_WORKERS=2`` pages at a time, one document at a time as
  the worker runs them), same run.
"""

from __future__ import annotations

import argparse
import json
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

from collections import Counter  # noqa: E402

from indexing.extract import ExtractOptions, extract, open_engines, preflight  # noqa: E402
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
    engines: list[str] = field(default_factory=list)
    empty_pages: list[int] = field(default_factory=list)

    @property
    def language(self) -> str:
        return self.path.name.split("-", 1)[0]


def squash(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def cer(text: str, gt: str | None) -> float | None:
    if gt is None:
        return None
    ref = squash(gt)
    return levenshtein(squash(text), ref) / max(1, len(ref))


def cer_order_free(text: str, gt: str | None) -> float | None:
    """Character error ignoring order: the characters of both as bags."""
    if gt is None:
        return None
    ours, ref = Counter(squash(text)), Counter(squash(gt))
    missing = sum((ref - ours).values())
    extra = sum((ours - ref).values())
    return max(missing, extra) / max(1, sum(ref.values()))


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
    engines = open_engines("auto", LANGUAGES)
    pool = ThreadPoolExecutor(max_workers=workers)
    queue = list(docs)
    lock = threading.Lock()

    def driver() -> None:
        while True:
            with lock:
                if not queue:
                    return
                doc = queue.pop(0)
            result = extract(doc.path, options=options, engines=engines, executor=pool)
            if record:
                doc.ocr_text = result.text
                doc.ocr_pages = [p.text for p in result.pages]
                doc.rotations = [p.rotation for p in result.pages]
                doc.engines = [p.engine for p in result.pages]
                doc.empty_pages = list(result.unreadable_pages)

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


def extraction_alone(docs: list[Doc]) -> float:
    """The product's extraction of every file as the worker runs it: one document at a time,
    text layer where usable, two pages at a time. Wall seconds."""
    options = ExtractOptions(languages=LANGUAGES, dpi=DPI, workers=2)
    engines = open_engines("auto", LANGUAGES)
    start = time.perf_counter()
    for doc in docs:
        extract(doc.path, options=options, engines=engines)
    return time.perf_counter() - start


def end_to_end(docs: list[Doc]) -> tuple[float, int]:
    """``archive import --wait`` of every file into a fresh instance whose worker is already
    running and idle: (wall seconds, documents ready)."""
    with tempfile.TemporaryDirectory(prefix="bench-import-") as home:
        env = dict(
            os.environ,
            ARCHIVE_HOME=home,
            ARCHIVE_ADMIN_PASSWORD="bench-password-123",
            ARCHIVE_OCR_WORKERS="2",
        )
        archive = [sys.executable, "-m", "archive_app"]
        subprocess.run([*archive, "init"], env=env, check=True, capture_output=True)
        created = subprocess.run(
            [*archive, "archives", "create", "--name", "基准测试有限公司", "--json"],
            env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        number = json.loads(created.stdout)["number"]
        worker = subprocess.Popen(
            [*archive, "worker", "--loglevel", "WARNING"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(8)  # the worker is up and idle before the import starts
            start = time.perf_counter()
            done = subprocess.run(
                [*archive, "import", *(str(d.path) for d in docs), "--archive", number,
                 "--class", "other", "--wait", "--json"],
                env=env, capture_output=True, text=True,
            )  # fmt: skip
            wall = time.perf_counter() - start
        finally:
            worker.terminate()
            worker.wait(timeout=60)
        rows = json.loads(done.stdout or "[]")
        return wall, sum(1 for row in rows if row["status"] == "ready")


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path, help="the folder of the shared OCR corpus")
    parser.add_argument("--only", nargs="*", help="document name prefixes to run")
    parser.add_argument("--skip-import", action="store_true", help="no end-to-end import")
    args = parser.parse_args()
    corpus: Path = args.corpus
    if not corpus.is_dir():
        print(f"corpus not found at {corpus}", file=sys.stderr)
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
    print(f"| product (OCR forced), 1 OCR slot | {one:.1f} | {pages / one:.3f} | {one_cpu:.1f} "
          f"| {pages / one_cpu:.3f} | {load:.1f} |", flush=True)  # fmt: skip
    load = os.getloadavg()[0]
    two, two_cpu = run_pipeline(docs, workers=2, record=False)
    print(f"| product (OCR forced), 2 OCR slots (the default) | {two:.1f} | {pages / two:.3f} "
          f"| {two_cpu:.1f} | {pages / two_cpu:.3f} | {load:.1f} |", flush=True)  # fmt: skip
    for doc in docs:
        deployed(doc)

    print()
    print("| document | pages | engines | CER raw | CER product | order-free raw "
          "| order-free product | method | empty pages |")  # fmt: skip
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | --- | --- |")
    by_language: dict[str, dict[str, list[float]]] = {}
    readable_but_empty = []
    for doc in docs:
        c_raw, c_dep = cer(doc.raw_text, doc.gt), cer(doc.deployed_text, doc.gt)
        o_raw, o_dep = (
            cer_order_free(doc.raw_text, doc.gt),
            cer_order_free(doc.deployed_text, doc.gt),
        )
        methods = ",".join(sorted(set(doc.methods)))
        engines = (
            ",".join(
                sorted(
                    {e for e, m in zip(doc.engines, doc.methods, strict=False) if m == "ocr" and e}
                )
            )
            or "—"
        )
        print(f"| {doc.path.name} | {doc.pages} | {engines} | {fmt(c_raw)} | {fmt(c_dep)} "
              f"| {fmt(o_raw)} | {fmt(o_dep)} | {methods} | {doc.empty_pages or ''} |")  # fmt: skip
        image_only = "text-layer" not in doc.methods
        if (
            c_raw is not None
            and c_dep is not None
            and o_raw is not None
            and o_dep is not None
            and image_only
        ):
            stats = by_language.setdefault(
                doc.language, {k: [] for k in ("raw", "dep", "oraw", "odep")}
            )
            for key, value in (("raw", c_raw), ("dep", c_dep), ("oraw", o_raw), ("odep", o_dep)):
                stats[key].append(value)
        if doc.gt and doc.empty_pages and any(m == "ocr" for m in doc.methods):
            gt_pages = doc.gt.split("\f")
            for number in doc.empty_pages:
                if number <= len(gt_pages) and squash(gt_pages[number - 1]):
                    readable_but_empty.append(f"{doc.path.name} p{number}")

    print()
    print("Means over image-only documents with ground truth, by language:")
    print("| language | documents | CER raw | CER product | order-free raw | order-free product |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for language, stats in sorted(by_language.items()):
        print(f"| {language} | {len(stats['raw'])} | {fmt(mean(stats['raw']))} "
              f"| {fmt(mean(stats['dep']))} | {fmt(mean(stats['oraw']))} "
              f"| {fmt(mean(stats['odep']))} |")  # fmt: skip
    print()
    print(f"pages/s: Tesseract alone {pages / raw:.3f}; product (OCR forced) with 1 OCR slot "
          f"{pages / one:.3f}: {raw / one:.2f}× by wall, {raw_cpu / one_cpu:.2f}× by CPU; with "
          f"the default 2 slots {pages / two:.3f}: {raw / two:.2f}× (goal ≥ 0.7×)")  # fmt: skip
    print("pages that a person can read but came back empty: "
          + (", ".join(readable_but_empty) or "none"))  # fmt: skip
    if not args.skip_import:
        alone = extraction_alone(docs)
        wall, ready = end_to_end(docs)
        print(f"end-to-end import of {len(docs)} documents ({ready} ready): {wall:.1f} s; "
              f"extraction alone {alone:.1f} s: {alone / wall:.2f}× (goal ≥ 0.9×)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
