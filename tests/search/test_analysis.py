"""Analysis and query parsing, without a backend."""

from __future__ import annotations

import subprocess
import sys

import pytest

from indexing.search import (
    QuerySyntaxError,
    UnsupportedBackendURL,
    index_terms,
    normalize,
    open_backend,
    parse_query,
    query_units,
)
from indexing.search.analysis import PhraseUnit, PrefixUnit, TermUnit, stem_word
from indexing.search.errors import UnknownFieldError
from indexing.search.query import And, MatchAll, Not, Or, Phrase, Word


def test_normalize_is_nfkc_and_casefold():
    assert normalize("ＡＢＣ Straße （合同）") == "abc strasse (合同)"


def test_bigram_stream_has_one_primary_term_per_position():
    terms = index_terms("支付违约金，Late delivery")
    primary = [(t, p) for t, p in terms if len(t) <= 2 or t.isascii()]
    assert primary == [
        ("支付", 0),
        ("付违", 1),
        ("违约", 2),
        ("约金", 3),
        ("金", 4),
        ("late", 5),
        ("deliv", 6),
    ]
    # jieba's search-mode words of 3+ characters are added at their first character.
    assert ("违约金", 2) in terms


def test_stemming_folds_the_y_family():
    assert {
        stem_word(w) for w in ("deliver", "delivered", "delivery", "deliveries", "delivering")
    } == {"deliv"}
    assert stem_word("2024") == "2024"


def test_query_units():
    assert query_units("华为") == [TermUnit("华为")]
    assert query_units("鑫") == [PrefixUnit("鑫")]
    assert query_units("违约金") == [PhraseUnit(("违约", "约金"), word="违约金")]
    assert query_units("华为的合同") == [TermUnit("华为"), TermUnit("合同")]
    assert query_units("违约金条款", phrase=True) == [PhraseUnit(("违约", "约金", "金条", "条款"))]
    assert query_units("Late DELIVERY", phrase=True) == [PhraseUnit(("late", "deliv"))]
    assert query_units("，。") == []


def test_parse_tree():
    assert parse_query("") == MatchAll()
    assert parse_query('违约金 OR "late delivery" -草稿') == Or(
        (Word("违约金"), And((Phrase("late delivery"), Not(Word("草稿")))))
    )
    assert parse_query("NOT draft") == And((MatchAll(), Not(Word("draft"))))
    assert parse_query("标题：合同 class:contract archive:KH-000001") == And(
        (Word("合同", "title"), Word("contract", "class"), Word("KH-000001", "archive"))
    )
    assert parse_query("title:“违约金条款”") == Phrase("违约金条款", "title")
    assert parse_query("12:30 KH-1") == And((Word("12:30"), Word("KH-1")))


@pytest.mark.parametrize(
    ("query", "position"),
    [
        ('合同 "late', 3),
        ("(华为 OR 阿里", 0),
        ("华为)", 2),
        ("OR 华为", 0),
        ("华为 OR", 5),
        ("华为 NOT", 6),
        ("title:", 6),
        ('""', 0),
        ("()", 0),
    ],
)
def test_syntax_errors_carry_the_position(query, position):
    with pytest.raises(QuerySyntaxError) as err:
        parse_query(query)
    assert err.value.position == position
    assert err.value.message


def test_unknown_field():
    with pytest.raises(UnknownFieldError) as err:
        parse_query("合同 author:smith")
    assert (err.value.position, err.value.field) == (3, "author")


def test_unsupported_backend_url():
    with pytest.raises(UnsupportedBackendURL) as err:
        open_backend("elasticsearch://localhost:9200")
    assert "whoosh" in err.value.supported


def test_import_does_no_work_and_jieba_is_quiet():
    code = (
        "import sys, indexing.search as s\n"
        "assert 'rjieba' not in sys.modules and 'flask' not in sys.modules\n"
        "assert not any(m.startswith('archive_app') for m in sys.modules)\n"
        "s.warm_up(); print(s.query_units('违约金'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "违约" in out.stdout
    assert out.stderr == ""
