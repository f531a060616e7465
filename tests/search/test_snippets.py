"""Snippets are cut from the decrypted text at query time, HTML-escaped, terms marked."""

from __future__ import annotations

from indexing.search import make_snippet

CONTRACT = (
    "第一条 总则。"
    + "本合同由双方签订。" * 20
    + "如一方违约，应向守约方支付违约金人民币十万元。"
    + "其他条款另行约定。" * 20
)


def test_chinese_term_is_marked_in_a_window_around_it():
    s = make_snippet(CONTRACT, "违约金", max_chars=60)
    assert "<mark>违约金</mark>" in s
    assert s.startswith("…") and s.endswith("…")
    assert len(s.replace("<mark>", "").replace("</mark>", "")) <= 62


def test_short_name_and_single_character():
    s = make_snippet("甲方：华为技术有限公司，地址：鑫源大厦。", "华为 鑫")
    assert s == "甲方：<mark>华为</mark>技术有限公司，地址：<mark>鑫</mark>源大厦。"


def test_english_stems_and_case():
    s = make_snippet("The goods were DELIVERED late; deliveries resume Monday.", "delivery")
    assert s == "The goods were <mark>DELIVERED</mark> late; <mark>deliveries</mark> resume Monday."


def test_html_is_escaped_everywhere():
    s = make_snippet('<script>alert("x")</script> A & B <b>违约金</b>', "违约金 script")
    assert "<script>" not in s and "<b>" not in s
    assert "&lt;<mark>script</mark>&gt;" in s
    assert "&amp;" in s
    assert "&lt;b&gt;<mark>违约金</mark>&lt;/b&gt;" in s


def test_phrases_mixed_text_and_fullwidth():
    s = make_snippet(
        "双方就违约金条款达成一致。Late delivery: ＳａａＳ服务。",
        '"违约金条款" "late delivery" saas',
    )
    assert "<mark>违约金条款</mark>" in s
    assert "<mark>Late</mark> <mark>delivery</mark>" in s
    assert "<mark>ＳａａＳ</mark>" in s


def test_negated_and_metadata_terms_are_not_marked():
    s = make_snippet("违约金与条款", "违约金 -条款 class:contract")
    assert s == "<mark>违约金</mark>与条款"


def test_no_match_gives_the_beginning_and_bad_query_is_tolerated():
    assert make_snippet("abc def", "zzz") == "abc def"
    assert make_snippet("x" * 300, "zzz", max_chars=50) == "x" * 50 + "…"
    assert make_snippet("违约金条款", '"违约金') == "<mark>违约金</mark>条款"
    assert make_snippet("", "x") == ""


def test_whitespace_is_collapsed():
    assert make_snippet("违约金\n\n  条款", "条款") == "违约金 <mark>条款</mark>"
