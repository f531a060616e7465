"""Tantivy reindex in batches: the same hits as one build; the allocator bound while writing.

A reindex writes each batch with a new writer (one segment per writer thread) and lets
Tantivy merge the segments in steps; these tests compare it with the same documents
written by one ``add``, query by query: totals, hit ids, scores and facets.
"""

from __future__ import annotations

import platform
import random
from datetime import date, timedelta

import pytest
import tantivy

from indexing.search import IndexDocument, SearchRequest, open_backend, reindex
from indexing.search.tantivy_backend import bounded_malloc

from .corpus import EVERYTHING

N_DOCS = 320
BATCH = 20  # 16 batches: at least 16 segments written, so merges must happen
ZH = ["合同", "违约金", "发票", "付款", "银行", "验收", "华为", "不可抗力", "转账", "公司"]
EN = ["delivery", "payment", "penalty", "invoice", "late", "goods", "warranty", "claim"]
QUERIES = [
    ("合同", {}),
    ("违约金", {}),
    ("违", {}),
    ("delivery", {}),
    ('"late delivery"', {}),
    ("违约金 OR penalty", {}),
    ("合同 -违约金", {}),
    ("title:发票", {}),
    ("付款", {"class_codes": ["invoice"]}),
    ("", {"sort": "-date"}),
    ("银行", {"date_from": date(2021, 1, 1), "sort": "date"}),
]


def generated(n: int) -> list[IndexDocument]:
    rnd = random.Random(20261203)
    docs = []
    for i in range(n):
        words = [rnd.choice(ZH) for _ in range(rnd.randint(5, 30))]
        words += [rnd.choice(EN) for _ in range(rnd.randint(0, 12))]
        rnd.shuffle(words)
        if rnd.random() < 0.2:
            words.append("late delivery")
        docs.append(
            IndexDocument(
                doc_id=f"g{i:05d}",
                archive_id=f"A{i % 7}",
                archive_number=f"KH-{i % 7:06d}",
                class_code=rnd.choice(["contract", "invoice", "voucher"]),
                status="active",
                level=rnd.choice(sorted(EVERYTHING)),
                title=f"{rnd.choice(ZH)}{rnd.choice(ZH)}",
                text="，".join(words) + "。",
                document_date=date(2018, 1, 1) + timedelta(days=i * 7),
            )
        )
    return docs


def answers(backend) -> list:
    out = []
    for query, options in QUERIES:
        r = backend.search(
            SearchRequest(query, allowed_levels=set(EVERYTHING), per_page=500, **options)
        )
        ranked = {h.doc_id: round(h.score, 4) for h in r.hits}
        out.append((query, r.total, r.total_exact, ranked, r.facets))
    return out


def test_reindex_in_merged_batches_answers_like_one_build(tmp_path):
    docs = generated(N_DOCS)
    with open_backend(f"tantivy://{tmp_path}/whole") as whole:
        whole.add(docs)
        expected = answers(whole)
    with open_backend(f"tantivy://{tmp_path}/batched") as batched:
        report = reindex(
            batched, docs, checkpoint_path=str(tmp_path / "checkpoint"), batch_size=BATCH
        )
        assert report.batches == N_DOCS // BATCH
        segments = tantivy.Index.open(batched.path).searcher().num_segments
        assert segments < report.batches  # merged in steps, not one segment per batch
        assert batched.count() == N_DOCS
        assert answers(batched) == expected
    assert all(total > 0 for _q, total, *_rest in expected)


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="the allocator bound applies to glibc only",
)
def test_glibc_accepts_the_bound_also_when_blocks_nest():
    with bounded_malloc() as outer, bounded_malloc() as inner:
        assert outer and inner
