"""Text analysis shared by every search backend, by the query compiler and by snippets.

Contract
--------
* ``normalize(text)``: NFKC then case folding. Full-width letters, digits and brackets
  become their ASCII forms, ``Ａｂｃ`` and ``ABC`` both become ``abc``.
* ``index_terms(text)`` turns a text into ``(term, position)`` pairs, the only thing any
  backend stores about a text. The stream is built so that every position carries exactly
  one *primary* term, which is what phrase queries match:

  - a run of CJK characters ``c0 c1 ... cn`` yields the character bigrams ``c0c1``,
    ``c1c2``, ... at the positions of their first character and the last character alone
    (``cn``) at its own position. Every substring of the run of length >= 2 is therefore
    a phrase of consecutive bigrams, which is how out-of-vocabulary words, company short
    names (华为 inside 华为技术有限公司) and words that jieba segments differently in
    context are found; a single character is found as a prefix of those terms.
  - jieba's search-mode segmentation (``cut_for_search``) adds the dictionary words of
    three or more characters as *secondary* terms at the position of their first
    character (two-character words are already bigrams). They raise the score of a
    document where the query is a real word, and are never part of a phrase.
  - a run of letters/digits is one term, lower-cased and stemmed (Porter2 with ``-y/-ies``
    folded, so deliver, delivered, delivering, delivery and deliveries share one stem).
  - punctuation and spaces produce no term and no position: the bigram stream breaks at
    punctuation, so ``违约金，条款`` does not match the phrase ``违约金条款``.

* ``query_units(text, phrase=...)`` turns one query word or quoted phrase into the units
  that the backends compile (``TermUnit``, ``PhraseUnit``, ``PrefixUnit``), all required.

jieba's segmentation runs in its compiled form (``rjieba``, the jieba-rs port: the same
dictionary and algorithm), loaded on first use. Nothing happens at import time.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "PhraseUnit",
    "PrefixUnit",
    "TermUnit",
    "Unit",
    "first_char_positions",
    "index_terms",
    "normalize",
    "query_units",
    "stem_word",
    "warm_up",
]

# CJK ideographs (BMP, extension A, compatibility, supplementary planes), kana and hangul:
# scripts written without spaces, indexed as character bigrams.
_CJK_CHARS = (
    "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0003134f"
)
_RUN_RE = re.compile(rf"(?P<cjk>[{_CJK_CHARS}]+)|(?P<word>[^\W_{_CJK_CHARS}]+)")
_CJK_RE = re.compile(rf"[{_CJK_CHARS}]")

# Longest Latin/digit term kept; longer runs (base64 blobs, hashes) are cut.
MAX_WORD_CHARS = 64

# Single characters dropped from unquoted multi-character Chinese queries (华为的合同 → 华为,
# 合同): they carry no meaning on their own and match almost every document.
_CJK_QUERY_STOPWORDS = frozenset("的了和与及或之在是并而")


def normalize(text: str) -> str:
    """NFKC + case folding, the form in which everything is indexed and queried."""
    return unicodedata.normalize("NFKC", text).casefold()


def is_cjk(char: str) -> bool:
    return bool(_CJK_RE.match(char))


# --------------------------------------------------------------------------- jieba

# jieba's algorithm and dictionary, compiled (the jieba-rs port): the same words as the
# pure-Python package at about 25x the speed, which made segmentation most of the cost of
# indexing a document (4 ms of 5 for 1,500 characters).
_jieba_lock = threading.Lock()
_jieba = None


def _segmenter():
    """The jieba segmenter, loaded on first use."""
    global _jieba
    if _jieba is not None:
        return _jieba
    with _jieba_lock:
        if _jieba is None:
            import rjieba

            rjieba.cut("预热")  # builds the dictionary's prefix tree once
            _jieba = rjieba
    return _jieba


def warm_up() -> None:
    """Load jieba's dictionary now (otherwise the first analysis pays for it)."""
    _segmenter()


def _search_words(run: str) -> Iterator[tuple[str, int]]:
    """jieba search-mode words of 3+ characters in a CJK run, with their start offsets."""
    for word, start, _end in _segmenter().tokenize(run, mode="search", hmm=False):
        if len(word) >= 3:
            yield word, start


def _precise_words(run: str) -> list[str]:
    """jieba precise-mode segmentation of a CJK run (queries)."""
    return _segmenter().cut(run, hmm=False)


# --------------------------------------------------------------------------- stemming


@lru_cache(maxsize=65536)
def stem_word(word: str) -> str:
    """Stem a normalised Latin/digit word.

    Porter2 leaves ``delivery`` as ``deliveri`` but ``delivered`` as ``deliv``; stemming the
    ``-i`` form once more folds the ``-y``/``-ies`` family into the verb's stem.
    """
    if len(word) > MAX_WORD_CHARS:
        word = word[:MAX_WORD_CHARS]
    if len(word) < 3 or not word.isalpha() or not word.isascii():
        return word
    from whoosh.lang.porter2 import stem

    s = stem(word)
    if len(s) > 3 and s.endswith("i"):
        s = stem(s[:-1])
    return s


# --------------------------------------------------------------------------- indexing


def index_terms(text: str, *, start: int = 0) -> list[tuple[str, int]]:
    """All ``(term, position)`` pairs of ``text``; positions start at ``start``.

    The positions of primary terms are consecutive (see the module docstring); the caller
    learns the next free position as ``max(pos) + 1`` or through :func:`position_count`.
    """
    out: list[tuple[str, int]] = []
    pos = start
    for m in _RUN_RE.finditer(normalize(text)):
        run = m.group()
        if m.lastgroup == "cjk":
            n = len(run)
            for i in range(n - 1):
                out.append((run[i : i + 2], pos + i))
            out.append((run[-1], pos + n - 1))
            if n >= 3:
                for word, offset in _search_words(run):
                    out.append((word, pos + offset))
            pos += n
        else:
            out.append((stem_word(run), pos))
            pos += 1
    return out


def first_char_positions(terms: list[tuple[str, int]]) -> dict[str, int]:
    """The first position of each CJK character in ``index_terms`` output.

    Every character of a CJK run starts the bigram at its position or is the run's lone
    last character there, so the first characters of those terms are all of them. A
    backend that indexes "this document contains the character" as a term of its own
    (instead of searching every bigram that starts with it) builds that term from these.
    """
    first: dict[str, int] = {}
    for term, pos in terms:
        if len(term) <= 2:
            first.setdefault(term[0], pos)
    return {char: pos for char, pos in first.items() if _CJK_RE.match(char)}


# --------------------------------------------------------------------------- queries


@dataclass(frozen=True, slots=True)
class TermUnit:
    """One term must occur."""

    term: str


@dataclass(frozen=True, slots=True)
class PhraseUnit:
    """The terms must occur at consecutive positions.

    ``word`` is set when the phrase spells a CJK word that may also be indexed as one
    secondary term; backends may OR it in to rank real-word matches higher (it never
    changes which documents match: the word implies its bigrams).
    """

    terms: tuple[str, ...]
    word: str | None = None


@dataclass(frozen=True, slots=True)
class PrefixUnit:
    """Some term starting with ``prefix`` must occur (a single CJK character)."""

    prefix: str


Unit = TermUnit | PhraseUnit | PrefixUnit


def _primary_stream(norm: str) -> list[tuple[str, bool, bool]]:
    """Primary terms of normalised text as ``(term, is_cjk, ends_a_cjk_run)`` triples."""
    out: list[tuple[str, bool, bool]] = []
    for m in _RUN_RE.finditer(norm):
        run = m.group()
        if m.lastgroup == "cjk":
            for i in range(len(run) - 1):
                out.append((run[i : i + 2], True, False))
            out.append((run[-1], True, True))
        else:
            out.append((stem_word(run), False, False))
    return out


def _cjk_unit(piece: str) -> Unit:
    if len(piece) == 1:
        return PrefixUnit(piece)
    if len(piece) == 2:
        return TermUnit(piece)
    return PhraseUnit(
        tuple(piece[i : i + 2] for i in range(len(piece) - 1)),
        word=piece if len(piece) <= 8 else None,
    )


def _phrase_units(norm: str) -> list[Unit]:
    stream = _primary_stream(norm)
    # A phrase that ends inside a CJK run: the document may continue the run, so at the
    # last character it holds a bigram, not the lone character. Drop the lone character
    # (the preceding bigram already covers it).
    # (A one-character CJK run closing a phrase after a Latin word is dropped for the same
    # reason; the rest of the phrase still has to match.)
    if len(stream) >= 2 and stream[-1][2]:
        stream.pop()
    terms = tuple(t for t, _cjk, _end in stream)
    if not terms:
        return []
    if len(terms) == 1:
        t, cjk, _ = stream[0]
        return [PrefixUnit(t) if cjk and len(t) == 1 else TermUnit(t)]
    return [PhraseUnit(terms)]


def _word_units(norm: str) -> list[Unit]:
    units: list[Unit] = []
    for m in _RUN_RE.finditer(norm):
        run = m.group()
        if m.lastgroup == "word":
            units.append(TermUnit(stem_word(run)))
            continue
        if len(run) <= 2:
            units.append(_cjk_unit(run))
            continue
        merged: list[str] = []
        adjacent = False  # does the next piece directly follow merged[-1] in the run?
        pending = ""  # a single character waiting to be glued to the next piece
        for piece in _precise_words(run):
            if len(piece) == 1 and piece in _CJK_QUERY_STOPWORDS:
                adjacent = False
                continue
            if len(piece) == 1:
                if merged and adjacent:
                    merged[-1] += piece
                else:
                    pending += piece
                continue
            merged.append(pending + piece if pending else piece)
            pending = ""
            adjacent = True
        if pending:
            merged.append(pending)
        if not merged:  # only stopwords: search the run as typed
            merged = [run]
        units.extend(_cjk_unit(p) for p in merged)
    return units


def query_units(text: str, *, phrase: bool = False) -> list[Unit]:
    """Units (all required) for one query word or quoted phrase.

    An unquoted Chinese string is segmented with jieba (precise mode) and each word must
    occur somewhere (as a substring); a quoted string must occur as typed, punctuation
    aside.
    """
    norm = normalize(text)
    units = _phrase_units(norm) if phrase else _word_units(norm)
    seen: set[Unit] = set()
    out = []
    for u in units:
        if u not in seen:
            seen.add(u)
            out.append(u)
    return out


def highlight_patterns(text: str, *, phrase: bool = False) -> tuple[list[str], list[str]]:
    """What a snippet should mark for one query word: (CJK substrings, Latin stems)."""
    norm = normalize(text)
    cjk: list[str] = []
    stems: list[str] = []
    for m in _RUN_RE.finditer(norm):
        run = m.group()
        if m.lastgroup == "cjk":
            cjk.append(run)
        else:
            stems.append(stem_word(run))
    if not phrase and cjk:
        # Unquoted: each segmented word is marked wherever it occurs.
        split: list[str] = []
        for run in cjk:
            units = _word_units(run)
            for u in units:
                if isinstance(u, TermUnit):
                    split.append(u.term)
                elif isinstance(u, PrefixUnit):
                    split.append(u.prefix)
                else:
                    split.append(u.terms[0] + "".join(t[1:] for t in u.terms[1:]))
        cjk = split
    return cjk, stems


def word_spans(norm: str) -> Iterator[tuple[int, int, str, bool]]:
    """``(start, end, run, is_cjk)`` for every indexable run of normalised text."""
    for m in _RUN_RE.finditer(norm):
        yield m.start(), m.end(), m.group(), m.lastgroup == "cjk"
