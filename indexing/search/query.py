"""The search query language, parsed once into a small backend-neutral AST.

Grammar (case-sensitive operators, as typed by staff)::

    query    := or_expr?
    or_expr  := and_expr ( "OR" and_expr )*            # also "|"
    and_expr := unary ( "AND"? unary )*                 # juxtaposition means AND
    unary    := ( "NOT" | "-" ) unary | primary
    primary  := "(" or_expr ")" | [field ":"] ( word | phrase )
    phrase   := '"' ... '"'   or   “ ... ”  (Chinese quotation marks)

Fields: ``title`` (标题), ``body``/``text`` (正文), ``class`` (分类), ``archive`` (档案),
``status`` (状态). Words and phrases without a field search the title and the body.
``class``/``archive``/``status`` compare the whole value exactly (``archive`` matches the
archive id or the archive number).

Words are analysed by :func:`indexing.search.analysis.query_units`: an unquoted Chinese
string is segmented and each word must occur; a quoted one must occur as typed.

A query made only of negations (``NOT 草稿``, ``-draft``) means "every visible document
except". The empty query matches every visible document (browse by filters).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import QuerySyntaxError, UnknownFieldError

__all__ = [
    "KEYWORD_FIELDS",
    "TEXT_FIELDS",
    "And",
    "MatchAll",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "Word",
    "parse_query",
]

TEXT_FIELDS = ("title", "body")
KEYWORD_FIELDS = ("class", "archive", "status")
_FIELD_ALIASES = {
    "title": "title",
    "标题": "title",
    "body": "body",
    "text": "body",
    "正文": "body",
    "class": "class",
    "分类": "class",
    "archive": "archive",
    "档案": "archive",
    "status": "status",
    "状态": "status",
}
_KNOWN = tuple(sorted(_FIELD_ALIASES))


@dataclass(frozen=True, slots=True)
class Word:
    """An unquoted word. ``field`` is None (title + body) or a canonical field name."""

    text: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Phrase:
    """A quoted phrase: its terms must be adjacent, in order."""

    text: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class MatchAll:
    """Every (visible) document."""


Node = Word | Phrase | And | Or | Not | MatchAll

_QUOTES = {'"': '"', "“": "”", "「": "」"}
_SPECIAL = set("()") | set(_QUOTES)


@dataclass(slots=True)
class _Tok:
    kind: str  # WORD, PHRASE, LPAREN, RPAREN, OR, AND, NOT, MINUS
    value: str
    pos: int
    field: str | None = None
    field_pos: int = 0


def _lex(q: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(q)
    while i < n:
        c = q[i]
        if c.isspace():
            i += 1
            continue
        if c in "()（）":
            toks.append(_Tok("LPAREN" if c in "(（" else "RPAREN", c, i))
            i += 1
            continue
        if c == "|":
            toks.append(_Tok("OR", c, i))
            i += 1
            continue
        if (
            c == "-"
            and i + 1 < n
            and not q[i + 1].isspace()
            and (i == 0 or q[i - 1].isspace() or q[i - 1] in "(（")
        ):
            toks.append(_Tok("MINUS", c, i))
            i += 1
            continue
        if c in _QUOTES:
            toks.append(_read_phrase(q, i, None, i))
            i = toks[-1].field_pos
            continue
        start = i
        while i < n and not q[i].isspace() and q[i] not in _SPECIAL and q[i] not in "()（）|":
            if q[i] in ":：" and i > start:
                break
            i += 1
        word = q[start:i]
        canonical = _FIELD_ALIASES.get(word.casefold()) if i < n and q[i] in ":：" else None
        if canonical is None and i < n and q[i] in ":：" and word:
            if word.isascii() and word.isalpha():
                raise UnknownFieldError(start, word, _KNOWN, q)
            # "12:30", "合同：2024": the colon is part of the text.
            while i < n and not q[i].isspace() and q[i] not in _SPECIAL and q[i] not in "（）|":
                i += 1
            toks.append(_Tok("WORD", q[start:i], start))
            continue
        if canonical is not None:
            i += 1
            if i < n and q[i] in _QUOTES:
                tok = _read_phrase(q, i, canonical, start)
                i = tok.field_pos
                tok.field_pos = start
                toks.append(tok)
                continue
            vstart = i
            while i < n and not q[i].isspace() and q[i] not in "()（）" and q[i] not in _QUOTES:
                i += 1
            if i == vstart:
                raise QuerySyntaxError(vstart, f"expected a value after {word}:", q)
            toks.append(_Tok("WORD", q[vstart:i], vstart, canonical, start))
            continue
        if word in ("OR", "AND", "NOT"):
            toks.append(_Tok(word, word, start))
        elif word:
            toks.append(_Tok("WORD", word, start))
        else:  # a lone colon
            i += 1
    return toks


def _read_phrase(q: str, i: int, field: str | None, field_pos: int) -> _Tok:
    close = _QUOTES[q[i]]
    end = q.find(close, i + 1)
    if end < 0:
        raise QuerySyntaxError(i, "unterminated quotation mark", q)
    tok = _Tok("PHRASE", q[i + 1 : end], i, field)
    tok.field_pos = end + 1  # reused as "next index" by the lexer
    return tok


class _Parser:
    def __init__(self, q: str) -> None:
        self.q = q
        self.toks = _lex(q)
        self.i = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def error(self, message: str, tok: _Tok | None = None) -> QuerySyntaxError:
        pos = tok.pos if tok is not None else len(self.q)
        return QuerySyntaxError(pos, message, self.q)

    def parse(self) -> Node:
        if not self.toks:
            return MatchAll()
        node = self.or_expr()
        tok = self.peek()
        if tok is not None:
            raise self.error("unexpected ')'" if tok.kind == "RPAREN" else "unexpected token", tok)
        return node

    def or_expr(self) -> Node:
        children = [self.and_expr()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.i += 1
            nxt = self.peek()
            if nxt is None or nxt.kind in ("OR", "AND", "RPAREN"):
                raise self.error("expected a term after OR", nxt)
            children.append(self.and_expr())
        if len(children) == 1:
            return children[0]
        return Or(tuple(_positive(c) for c in children))

    def and_expr(self) -> Node:
        tok = self.peek()
        if tok is None or tok.kind in ("OR", "AND", "RPAREN"):
            raise self.error(
                f"expected a term before {tok.value!r}" if tok else "expected a term", tok
            )
        children = [self.unary()]
        while (tok := self.peek()) is not None and tok.kind not in ("OR", "RPAREN"):
            if tok.kind == "AND":
                self.i += 1
                nxt = self.peek()
                if nxt is None or nxt.kind in ("OR", "AND", "RPAREN"):
                    raise self.error("expected a term after AND", nxt)
            children.append(self.unary())
        if len(children) == 1:
            return children[0]
        return _positive(And(tuple(children)))

    def unary(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise self.error("expected a term")
        if tok.kind in ("NOT", "MINUS"):
            self.i += 1
            nxt = self.peek()
            if nxt is None or nxt.kind in ("OR", "AND", "RPAREN"):
                raise self.error(f"expected a term after {tok.value}", nxt)
            return Not(self.unary())
        return self.primary()

    def primary(self) -> Node:
        tok = self.peek()
        assert tok is not None
        self.i += 1
        if tok.kind == "LPAREN":
            nxt = self.peek()
            if nxt is not None and nxt.kind == "RPAREN":
                raise self.error("empty parentheses", tok)
            node = self.or_expr()
            close = self.peek()
            if close is None or close.kind != "RPAREN":
                raise self.error("unbalanced '(': missing ')'", tok)
            self.i += 1
            return node
        if tok.kind == "WORD":
            return Word(tok.value, tok.field)
        if tok.kind == "PHRASE":
            if not tok.value.strip():
                raise self.error("empty phrase", tok)
            return Phrase(tok.value, tok.field)
        raise self.error(f"unexpected {tok.value!r}", tok)


def _positive(node: Node) -> Node:
    """Give a purely negative expression something to subtract from."""
    if isinstance(node, Not):
        return And((MatchAll(), node))
    if isinstance(node, And) and all(isinstance(c, Not) for c in node.children):
        return And((MatchAll(), *node.children))
    return node


def parse_query(q: str) -> Node:
    """Parse a query string; raises :class:`QuerySyntaxError` with the offending position."""
    return _positive(_Parser(q).parse())
