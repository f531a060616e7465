"""Search benchmark: indexing throughput, reindex peak memory and query latency per backend.

    .venv/bin/python bench/search.py                    # 100,000 documents, both backends
    .venv/bin/python bench/search.py --docs 5000 --backends whoosh
    .venv/bin/python bench/search.py --docs 5000 --backends tantivy

Documents are generated deterministically (document ``i`` depends only on ``i``), about
1,500 characters each: Chinese words drawn from jieba's bundled dictionary with their
frequencies (a Zipf-like distribution), English business words with Zipf weights, company
names, contract phrases, and realistic metadata (archives, classes, dates, amounts,
confidentiality levels, statuses).

Each phase runs in a child process so its peak RSS can be read on its own: the "reindex"
phase clears the backend and runs ``indexing.search.reindex`` over all documents (with the
analysis worker processes it spawns); the "query" phase opens the index and times a fixed
set of 50 queries (after one warm-up pass), each repeated ``--repeat`` times.

Goals: p95 <= 50 ms at 100k documents, reindex peak RSS < 1 GB, >= 150 documents/s.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexing.search import (  # noqa: E402
    IndexDocument,
    SearchRequest,
    open_backend,
    reindex,
)

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

ENGLISH = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "for",
    "on",
    "with",
    "by",
    "contract",
    "agreement",
    "party",
    "parties",
    "shall",
    "payment",
    "invoice",
    "delivery",
    "deliver",
    "delivered",
    "goods",
    "services",
    "price",
    "amount",
    "total",
    "tax",
    "date",
    "term",
    "terms",
    "period",
    "notice",
    "written",
    "breach",
    "liability",
    "damages",
    "penalty",
    "late",
    "early",
    "termination",
    "renewal",
    "confidential",
    "information",
    "supplier",
    "customer",
    "buyer",
    "seller",
    "purchase",
    "order",
    "quantity",
    "unit",
    "quality",
    "inspection",
    "acceptance",
    "warranty",
    "claim",
    "dispute",
    "arbitration",
    "court",
    "law",
    "governing",
    "force",
    "majeure",
    "event",
    "obligation",
    "right",
    "rights",
    "interest",
    "account",
    "bank",
    "transfer",
    "receipt",
    "voucher",
    "ledger",
    "audit",
    "report",
    "balance",
    "credit",
    "debit",
    "refund",
    "discount",
    "fee",
    "fees",
    "schedule",
    "project",
    "milestone",
    "completion",
    "document",
    "copy",
    "original",
    "signature",
    "seal",
    "stamp",
    "approval",
    "manager",
    "director",
    "company",
    "limited",
    "branch",
    "office",
    "address",
    "telephone",
    "email",
    "shipment",
    "warehouse",
    "logistics",
    "transport",
    "insurance",
    "risk",
    "title",
    "ownership",
    "license",
    "software",
    "hardware",
    "maintenance",
    "support",
    "service",
    "level",
    "availability",
    "response",
    "resolution",
    "incident",
]

COMPANIES = [
    "华为技术有限公司",
    "阿里巴巴(中国)有限公司",
    "腾讯科技(深圳)有限公司",
    "北京京东世纪贸易有限公司",
    "中国平安保险(集团)股份有限公司",
    "上海浦东发展银行股份有限公司",
    "深圳市大疆创新科技有限公司",
    "小米科技有限责任公司",
    "中国建设银行股份有限公司",
    "海尔集团公司",
    "Acme Trading Ltd.",
    "Global Logistics GmbH",
]
PHRASES = [
    "违约金条款",
    "应向守约方支付违约金",
    "不可抗力",
    "验收合格后",
    "增值税专用发票",
    "late delivery",
    "force majeure",
    "payment terms",
]
CLASSES = ["contract", "invoice", "voucher", "report", "correspondence", "hr"]
LEVELS = ["public"] * 50 + ["internal"] * 35 + ["confidential"] * 10 + ["secret"] * 5
STATUSES = ["active"] * 90 + ["draft"] * 6 + ["archived"] * 4
N_ARCHIVES = 500


class Corpus:
    """Deterministic document generator."""

    def __init__(self, seed: int = 20241123) -> None:
        import jieba

        dict_path = Path(jieba.__file__).parent / "dict.txt"
        words, weights = [], []
        with open(dict_path, encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[1].isdigit():
                    words.append(parts[0])
                    weights.append(int(parts[1]))
        order = sorted(range(len(words)), key=lambda i: -weights[i])
        self.zh = [words[i] for i in order]
        self.zh_cum = list(_cumsum(weights[i] for i in order))
        self.en = ENGLISH
        self.en_cum = list(_cumsum(1.0 / (r + 1) for r in range(len(ENGLISH))))
        self.seed = seed

    def _zh(self, rnd: random.Random, k: int) -> list[str]:
        total = self.zh_cum[-1]
        return [self.zh[bisect.bisect(self.zh_cum, rnd.random() * total)] for _ in range(k)]

    def _en(self, rnd: random.Random, k: int) -> list[str]:
        total = self.en_cum[-1]
        return [self.en[bisect.bisect(self.en_cum, rnd.random() * total)] for _ in range(k)]

    def document(self, i: int) -> IndexDocument:
        rnd = random.Random(self.seed * 1_000_003 + i)
        parts: list[str] = []
        size = 0
        target = rnd.randint(1300, 1700)
        while size < target:
            r = rnd.random()
            if r < 0.75:
                s = "".join(self._zh(rnd, rnd.randint(6, 16))) + rnd.choice("，。；：、")
            elif r < 0.93:
                s = " ".join(self._en(rnd, rnd.randint(6, 14))).capitalize() + ". "
            elif r < 0.97:
                s = rnd.choice(COMPANIES) + "，"
            else:
                s = rnd.choice(PHRASES) + "。"
            parts.append(s)
            size += len(s)
        archive = rnd.randrange(N_ARCHIVES)
        cls = rnd.choice(CLASSES)
        title = f"{rnd.choice(COMPANIES)} {''.join(self._zh(rnd, 3))} {cls}"
        day = date(2015, 1, 1) + timedelta(days=rnd.randrange(11 * 365))
        amount = Decimal(round(rnd.lognormvariate(9, 1.5), 2)).quantize(Decimal("0.01"))
        return IndexDocument(
            doc_id=f"d{i:08d}",
            archive_id=f"A{archive:05d}",
            archive_number=f"KH-{archive:06d}",
            class_code=cls,
            status=rnd.choice(STATUSES),
            level=rnd.choice(LEVELS),
            title=title,
            text="".join(parts),
            document_date=day if rnd.random() > 0.02 else None,
            amount=amount if cls in ("contract", "invoice", "voucher") else None,
        )

    def source(self, n: int):
        def after(after_id: str | None):
            start = int(after_id[1:]) + 1 if after_id else 0
            return (self.document(i) for i in range(start, n))

        return after


def _cumsum(values):
    total = 0.0
    for v in values:
        total += v
        yield total


VISIBLE = {"public", "internal"}
D = date


def queries() -> list[tuple[str, dict]]:
    """50 fixed queries: common and rare terms, Chinese and English, phrases, filters."""
    q: list[tuple[str, dict]] = [
        ("合同", {}),
        ("公司", {}),
        ("违约金", {}),
        ("华为", {}),
        ("阿里", {}),
        ("腾讯", {}),
        ("京东", {}),
        ("发票", {}),
        ("付款", {}),
        ("银行", {}),
        ("的", {}),
        ("违", {}),
        ("增值税专用发票", {}),
        ("不可抗力", {}),
        ("验收", {}),
        ("刻舟求剑", {}),
        ("蜻蜓点水", {}),
        ("華為", {}),
        ("delivery", {}),
        ("deliver", {}),
        ("payment", {}),
        ("arbitration", {}),
        ("warranty claim", {}),
        ("incident", {}),
        ("zxqvbtoken", {}),
        ('"late delivery"', {}),
        ('"force majeure"', {}),
        ('"违约金条款"', {}),
        ('"应向守约方支付违约金"', {}),
        ('"payment terms"', {}),
        ("违约金 OR penalty", {}),
        ("华为 OR 阿里", {}),
        ("合同 -违约金", {}),
        ("delivery NOT late", {}),
        ("付款 AND 发票", {}),
        ("title:合同", {}),
        ("title:华为", {}),
        ("class:invoice 发票", {}),
        ("archive:KH-000042", {}),
        ("华为 delivery", {}),
        ("合同", {"class_codes": ["contract"]}),
        ("payment", {"archive_ids": ["A00007", "A00042", "A00099"]}),
        ("发票", {"date_from": D(2020, 1, 1), "date_to": D(2020, 12, 31)}),
        ("违约金", {"amount_min": Decimal("10000"), "amount_max": Decimal("500000")}),
        ("", {"class_codes": ["voucher"], "sort": "-date"}),
        ("公司", {"sort": "-date"}),
        ("delivery", {"statuses": ["draft"]}),
        ("合同", {"page": 5}),
        ('"不可抗力" OR "force majeure"', {"class_codes": ["contract"]}),
        ("银行 转账", {"date_from": D(2018, 1, 1), "sort": "date"}),
    ]
    assert len(q) == 50
    return q


def _backend(name: str, args):
    if name == "whoosh":
        return open_backend(f"whoosh://{args.workdir}/whoosh-index", analysis_workers=args.workers)
    if name == "tantivy":
        return open_backend(
            f"tantivy://{args.workdir}/tantivy-index", analysis_workers=args.workers
        )
    return open_backend(args.pg_url, table=args.pg_table, analysis_workers=args.workers)


class DescendantPeaks:
    """Peak RSS of every process below this one, sampled from /proc (Linux).

    The analysis workers are started by a fork server, so they are not this process's
    children and ``RUSAGE_CHILDREN`` never sees them; each process's own high-water mark
    (``VmHWM``) does, read until the process ends.
    """

    def __init__(self, interval: float = 0.5) -> None:
        import threading

        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.sample()

    def sample(self) -> None:
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
        me = os.getpid()
        for pid in parents:
            ancestor = parents.get(pid)
            while ancestor and ancestor != me:
                ancestor = parents.get(ancestor)
            if ancestor != me:
                continue
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            mb = int(line.split()[1]) / 1024
                            self.peaks[pid] = max(self.peaks.get(pid, 0.0), mb)
            except OSError:
                continue

    def stop(self) -> tuple[float, float]:
        """(largest single process, sum over all) in MB."""
        self._stop.set()
        self._thread.join()
        values = list(self.peaks.values()) or [0.0]
        return max(values), sum(values)


def _peak_rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def phase_reindex(name: str, args) -> dict:
    corpus = Corpus()
    backend = _backend(name, args)
    backend.clear()
    checkpoint = os.path.join(args.workdir, f"{name}.checkpoint")
    if os.path.exists(checkpoint):
        os.remove(checkpoint)
    last = [time.monotonic()]

    def progress(p):
        if time.monotonic() - last[0] > 30:
            last[0] = time.monotonic()
            rate = p.indexed / p.elapsed if p.elapsed else 0
            print(f"  [{name}] {p.indexed}/{args.docs} {rate:.0f} docs/s", file=sys.stderr)

    descendants = DescendantPeaks()
    t0 = time.monotonic()
    report = reindex(
        backend,
        corpus.source(args.docs),
        checkpoint_path=checkpoint,
        batch_size=args.batch,
        on_progress=progress,
        total=args.docs,
    )
    elapsed = time.monotonic() - t0
    count = backend.count()
    descendants.sample()
    backend.close()
    worker_max, workers_total = descendants.stop()
    own, children = _peak_rss_mb()
    worker_max = max(worker_max, children)
    return {
        "docs": report.indexed,
        "count": count,
        "seconds": round(elapsed, 1),
        "docs_per_s": round(report.indexed / elapsed, 1),
        "rss_main_mb": round(own, 1),
        "rss_worker_max_mb": round(worker_max, 1),
        # Every helper process counted at its own peak (workers and the fork server), as
        # if all peaks coincided: an upper bound.
        "rss_peak_upper_mb": round(own + max(workers_total, args.workers * children), 1),
    }


class StatementClock:
    """Time of each SQL statement a PostgreSQL search runs (count and facets, hits).

    The session settings sent before them (``set_config``, ``SET LOCAL``) are left out.
    """

    def __init__(self, engine) -> None:
        import sqlalchemy as sa

        self.current: list[float] = []
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        conn.info["bench_t0"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().startswith(("SELECT set_config", "SET ")):
            return
        self.current.append((time.perf_counter() - conn.info["bench_t0"]) * 1000)


def phase_query(name: str, args) -> dict:
    backend = _backend(name, args)
    clock = None
    if name == "postgresql":
        backend.analyze()  # as after any bulk load (add() does it for large batches)
        clock = StatementClock(backend.engine)
    qs = queries()
    reqs = [SearchRequest(q, allowed_levels=VISIBLE, **opts) for q, opts in qs]
    totals = []
    for req in reqs:  # warm-up pass (caches, jieba, JIT-free Python imports)
        totals.append(backend.search(req).total)
    samples: list[float] = []
    per_query: dict[str, float] = {}
    statements: dict[str, list[float]] = {}  # of each query's worst run
    for _ in range(args.repeat):
        for (q, opts), req in zip(qs, reqs, strict=True):
            if clock is not None:
                clock.current = []
            t = time.perf_counter()
            backend.search(req)
            ms = (time.perf_counter() - t) * 1000
            samples.append(ms)
            key = q + (" " + json.dumps(opts, default=str) if opts else "")
            if ms >= per_query.get(key, 0.0):
                per_query[key] = ms
                if clock is not None:
                    statements[key] = [round(x, 1) for x in clock.current]
    size = _index_size(name, backend, args)
    backend.close()
    samples.sort()

    def pct(p: float) -> float:
        return round(samples[min(len(samples) - 1, int(p / 100 * len(samples)))], 1)

    slowest = sorted(per_query.items(), key=lambda kv: -kv[1])[:8]
    own, _children = _peak_rss_mb()
    return {
        "queries": len(samples),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "mean_ms": round(statistics.mean(samples), 1),
        "slowest": [(k, round(v, 1)) for k, v in slowest],
        "slowest_statements_ms": {k: statements[k] for k, _ in slowest if k in statements},
        "hits_totals": totals,
        "index_mb": size,
        "rss_query_mb": round(own, 1),
    }


def _index_size(name: str, backend, args) -> float:
    if name in ("whoosh", "tantivy"):
        path = Path(args.workdir) / f"{name}-index"
        return round(sum(p.stat().st_size for p in path.iterdir()) / 2**20, 1)
    import sqlalchemy as sa

    with backend.engine.connect() as conn:
        n = conn.execute(
            sa.text("SELECT pg_total_relation_size(CAST(:t AS regclass))"), {"t": args.pg_table}
        ).scalar_one()
    return round(n / 2**20, 1)


def run_child(phase: str, name: str, args) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--phase",
        phase,
        "--backends",
        name,
        "--docs",
        str(args.docs),
        "--workdir",
        args.workdir,
        "--workers",
        str(args.workers),
        "--batch",
        str(args.batch),
        "--repeat",
        str(args.repeat),
        "--pg-url",
        args.pg_url,
        "--pg-table",
        args.pg_table,
    ]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--backends", default="whoosh,postgresql")
    ap.add_argument("--workdir", default=None, help="where the embedded indexes go (temp dir)")
    ap.add_argument("--workers", type=int, default=2, help="analysis processes")
    ap.add_argument("--batch", type=int, default=5000, help="reindex batch (checkpoint) size")
    ap.add_argument("--repeat", type=int, default=3, help="timed passes over the 50 queries")
    ap.add_argument("--pg-url", default=os.environ.get("ARCHIVE_TEST_POSTGRES_URL", DEFAULT_PG))
    ap.add_argument("--pg-table", default=f"bench_search_{os.getpid()}")
    ap.add_argument("--keep", action="store_true", help="keep the index and table afterwards")
    ap.add_argument("--phase", choices=["reindex", "query"], help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.phase:
        fn = phase_reindex if args.phase == "reindex" else phase_query
        print(json.dumps(fn(args.backends, args), ensure_ascii=False))
        return

    own_tmp = args.workdir is None
    if own_tmp:
        args.workdir = tempfile.mkdtemp(prefix="bench-search-")
    results = {}
    try:
        for name in args.backends.split(","):
            print(f"== {name}: indexing {args.docs} documents", file=sys.stderr)
            r = run_child("reindex", name, args)
            print(f"   {r}", file=sys.stderr)
            q = run_child("query", name, args)
            print(f"   p50 {q['p50_ms']} ms, p95 {q['p95_ms']} ms", file=sys.stderr)
            results[name] = {"reindex": r, "query": q}
            if not args.keep and name == "postgresql":
                _backend(name, argparse.Namespace(**{**vars(args), "workers": 1})).drop()
    finally:
        if own_tmp and not args.keep:
            shutil.rmtree(args.workdir, ignore_errors=True)

    print(f"\nSearch benchmark, {args.docs} documents, {os.cpu_count()} cores")
    for name, r in results.items():
        ri, q = r["reindex"], r["query"]
        print(f"\n[{name}]")
        print(
            f"  indexing: {ri['docs_per_s']} docs/s ({ri['docs']} docs in {ri['seconds']} s,"
            f" {args.workers} analysis workers)"
        )
        print(
            f"  reindex peak RSS: main {ri['rss_main_mb']} MB, largest worker"
            f" {ri['rss_worker_max_mb']} MB, upper bound all together {ri['rss_peak_upper_mb']} MB"
        )
        print(
            f"  query latency over {q['queries']} runs: p50 {q['p50_ms']} ms, p95 {q['p95_ms']}"
            f" ms, p99 {q['p99_ms']} ms, mean {q['mean_ms']} ms"
        )
        print(f"  index size: {q['index_mb']} MB; query process RSS {q['rss_query_mb']} MB")
        print("  slowest queries (worst run, ms):")
        parts = q.get("slowest_statements_ms", {})
        if parts:
            print("  (PostgreSQL: [count and facets, hits] statement times of that run, ms)")
        for k, v in q["slowest"]:
            print(f"    {v:8.1f}  {k}" + (f"  {parts[k]}" if k in parts else ""))
        goals = {
            "p95 <= 50 ms": q["p95_ms"] <= 50,
            "reindex peak RSS < 1 GB": ri["rss_peak_upper_mb"] < 1024,
            ">= 150 docs/s": ri["docs_per_s"] >= 150,
        }
        print(
            "  goals: " + ", ".join(f"{k}: {'met' if ok else 'MISSED'}" for k, ok in goals.items())
        )
    print("\nJSON " + json.dumps(results, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
