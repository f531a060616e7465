"""Query-time snippets: cut from the decrypted text of a hit, never from the index.

``make_snippet(text, query)`` returns HTML-safe text (everything escaped) with ``<mark>``
around the words the query searched for, in a window of about ``max_chars`` characters
around the densest group of matches. Chinese words and phrases are marked as substrings
(after NFKC and case folding, like the index), Latin words by stem, so ``deliver`` marks
"Delivery" and "delivered". Words under NOT and field queries on metadata are not marked.
"""

from __future__ import annotations

import html
import re
import unicodedata

from .analysis import highlight_patterns, normalize, stem_word, word_spans
from .errors import QuerySyntaxError
from .query import And, Node, Not, Or, Phrase, Word, parse_query

__all__ = ["make_snippet"]

_WS = re.compile(r"\s+")
_MAX_MATCHES = 2000


def _positive_terms(node: Node, out: list[tuple[str, bool]]) -> None:
    if isinstance(node, Word | Phrase):
        if node.field in (None, "title", "body"):
            out.append((node.text, isinstance(node, Phrase)))
    elif isinstance(node, And | Or):
        for child in node.children:
            _positive_terms(child, out)
    elif isinstance(node, Not):
        return


def _normalised_with_map(text: str) -> tuple[str, list[int] | None]:
    """Normalised text and, when lengths differ, the original index of each character."""
    norm = normalize(text)
    if len(norm) == len(text):
        return norm, None
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        n = unicodedata.normalize("NFKC", ch).casefold()
        chars.append(n)
        index.extend([i] * len(n))
    return "".join(chars), index


def _match_spans(norm: str, query: str) -> list[tuple[int, int]]:
    try:
        tree = parse_query(query)
        terms: list[tuple[str, bool]] = []
        _positive_terms(tree, terms)
    except QuerySyntaxError:
        terms = [(w, False) for w in query.split()]
    cjk: set[str] = set()
    stems: set[str] = set()
    for text, phrase in terms:
        c, s = highlight_patterns(text, phrase=phrase)
        cjk.update(p for p in c if p)
        stems.update(s)
    spans: list[tuple[int, int]] = []
    for pattern in sorted(cjk, key=len, reverse=True):
        start = norm.find(pattern)
        while start >= 0 and len(spans) < _MAX_MATCHES:
            spans.append((start, start + len(pattern)))
            start = norm.find(pattern, start + len(pattern))
    if stems:
        for start, end, run, is_cjk in word_spans(norm):
            if not is_cjk and stem_word(run) in stems:
                spans.append((start, end))
                if len(spans) >= _MAX_MATCHES:
                    break
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _window(spans: list[tuple[int, int]], length: int, max_chars: int) -> tuple[int, int]:
    if not spans:
        return 0, min(length, max_chars)
    best_i, best_count = 0, 0
    j = 0
    for i, (s, _e) in enumerate(spans):
        j = max(j, i)
        while j + 1 < len(spans) and spans[j + 1][1] - s <= max_chars:
            j += 1
        if j - i + 1 > best_count:
            best_i, best_count = i, j - i + 1
    first = spans[best_i][0]
    last = spans[best_i + best_count - 1][1]
    slack = max(0, max_chars - (last - first))
    start = max(0, first - min(slack // 3, 60))
    end = min(length, max(start + max_chars, last))
    start = max(0, min(start, end - max_chars))
    return start, end


def make_snippet(text: str, query: str, max_chars: int = 200) -> str:
    """An HTML-escaped excerpt of ``text`` with ``<mark>`` around the query's terms."""
    if not text:
        return ""
    norm, index = _normalised_with_map(text)
    spans_norm = _match_spans(norm, query)
    spans = spans_norm if index is None else [(index[s], index[e - 1] + 1) for s, e in spans_norm]
    start, end = _window(spans, len(text), max_chars)
    out: list[str] = ["…" if start > 0 else ""]
    cursor = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        if s < cursor:
            continue
        out.append(html.escape(_WS.sub(" ", text[cursor:s])))
        out.append("<mark>" + html.escape(_WS.sub(" ", text[s:e])) + "</mark>")
        cursor = e
    out.append(html.escape(_WS.sub(" ", text[cursor:end])))
    if end < len(text):
        out.append("…")
    return "".join(out).strip()
