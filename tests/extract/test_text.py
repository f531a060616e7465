"""indexing.text: normalisation shared by OCR and search, and the edit distance."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from indexing.text import is_cjk, levenshtein, normalize_text, remove_cjk_spaces


def test_spaces_between_chinese_characters_are_removed():
    assert normalize_text("违 约 金 为 合 同 总 额") == "违约金为合同总额"


def test_spaces_between_chinese_and_digits_or_punctuation_are_removed():
    assert normalize_text("2026 年 3 月 5 日") == "2026年3月5日"
    assert normalize_text("合同 编号 ： HT-1") == "合同编号: HT-1"


def test_spaces_between_words_and_around_latin_words_are_kept():
    assert normalize_text("Invoice  No. 42") == "Invoice No. 42"
    assert normalize_text("使用 Python 开发") == "使用 Python 开发"


def test_nfkc_folds_full_width_forms():
    assert normalize_text("ＡＢＣ１２３，金额：￥１００") == "ABC123,金额:¥100"


def test_lines_are_kept_and_blank_runs_collapse():
    assert normalize_text("甲 方\n\n\n\n乙 方 \r\n") == "甲方\n\n乙方"


def test_is_cjk():
    assert is_cjk("合") and is_cjk("。") and not is_cjk("a") and not is_cjk("1")


def test_remove_cjk_spaces_keeps_newlines():
    assert remove_cjk_spaces("合 同\n金 额") == "合同\n金额"


@given(st.text(alphabet="合同违约金 abcAB12,.:\n　，：￥", max_size=60))
def test_normalize_is_idempotent(text):
    once = normalize_text(text)
    assert normalize_text(once) == once


def _dp(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


@given(st.text(alphabet="ab合同c", max_size=40), st.text(alphabet="ab合同c", max_size=40))
def test_levenshtein_matches_the_textbook_definition(a, b):
    assert levenshtein(a, b) == _dp(a, b)


def test_levenshtein_long_strings():
    a = "合同" * 3000
    assert levenshtein(a, a) == 0
    assert levenshtein(a, a[:-10]) == 10
