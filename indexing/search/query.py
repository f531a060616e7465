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
# What ends a bare word, the text after a colon that names no field, and a field's value.
_WORD_STOPS = _SPECIAL | set("()（）|")
_COLON_TEXT_STOPS = _SPECIAL | set("（）|")
_VALUE_STOPS = set("()（）") | set(_QUOTES)


@dataclass(slots=True)
class _Tok:
    kind: str  # WORD, PHRASE, LPAREN, RPAREN, OR, AND, NOT, MINUS
    value: str
    pos: int
    field: str | None = None
    field_pos: int = 0


def _lex(q: str) -> list[_Tok]:
    return _Lexer(q).tokens()


class _Lexer:
    """Turns a query string into tokens; each ``_read_*`` step starts at ``self.i`` and
    leaves it after what it read."""

    def __init__(self, q: str) -> None:
        self.q, self.i, self.n = q, 0, len(q)
        self.toks: list[_Tok] = []

    def tokens(self) -> list[_Tok]:
        while self.i < self.n:
            c = self.q[self.i]
            if c.isspace():
                self.i += 1
            elif c in "()（）":
                self._single("LPAREN" if c in "(（" else "RPAREN")
            elif c == "|":
                self._single("OR")
            elif c == "-" and self._starts_exclusion():
                self._single("MINUS")
            elif c in _QUOTES:
                self._read_phrase(None, self.i)
            else:
                self._read_word()
        return self.toks

    def _single(self, kind: str) -> None:
        self.toks.append(_Tok(kind, self.q[self.i], self.i))
        self.i += 1

    def _starts_exclusion(self) -> bool:
        """A minus before a term (at the start, after a space or a parenthesis)."""
        q, i = self.q, self.i
        return (
            i + 1 < self.n
            and not q[i + 1].isspace()
            and (i == 0 or q[i - 1].isspace() or q[i - 1] in "(（")
        )

    def _read_phrase(self, field: str | None, field_pos: int) -> None:
        tok = _read_phrase(self.q, self.i, field, field_pos)
        self.i = tok.field_pos
        tok.field_pos = field_pos if field is not None else tok.field_pos
        self.toks.append(tok)

    def _at_colon(self) -> bool:
        return self.i < self.n and self.q[self.i] in ":："

    def _read_word(self) -> None:
        q, start = self.q, self.i
        while self.i < self.n and not q[self.i].isspace() and q[self.i] not in _WORD_STOPS:
            if q[self.i] in ":：" and self.i > start:
                break
            self.i += 1
        word = q[start : self.i]
        if not self._at_colon():
            self._keyword_or_word(word, start)
            return
        canonical = _FIELD_ALIASES.get(word.casefold())
        if canonical is not None:
            self._read_field_value(word, canonical, start)
        elif word:
            self._read_colon_text(word, start)
        else:  # a lone colon
            self.i += 1

    def _keyword_or_word(self, word: str, start: int) -> None:
        if word in ("OR", "AND", "NOT"):
            self.toks.append(_Tok(word, word, start))
        elif word:
            self.toks.append(_Tok("WORD", word, start))

    def _read_colon_text(self, word: str, start: int) -> None:
        if word.isascii() and word.isalpha():
            raise UnknownFieldError(start, word, _KNOWN, self.q)
        # "12:30", "合同：2024": the colon is part of the text.
        q = self.q
        while self.i < self.n and not q[self.i].isspace() and q[self.i] not in _COLON_TEXT_STOPS:
            self.i += 1
        self.toks.append(_Tok("WORD", q[start : self.i], start))

    def _read_field_value(self, word: str, field: str, start: int) -> None:
        self.i += 1  # the colon
        q = self.q
        if self.i < self.n and q[self.i] in _QUOTES:
            self._read_phrase(field, start)
            return
        value_start = self.i
        while self.i < self.n and not q[self.i].isspace() and q[self.i] not in _VALUE_STOPS:
            self.i += 1
        if self.i == value_start:
            raise QuerySyntaxError(value_start, f"expected a value after {word}:", q)
        self.toks.append(_Tok("WORD", q[value_start : self.i], value_start, field, start))


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
