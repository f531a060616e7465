"""Reading order: the text of a page rebuilt from the boxes an engine found.

Contract: ``reading_order(words)`` returns the page's rows in the order a person reads them,
each row a list of ``Segment`` from left to right; ``layout_text(words)`` joins them, one row
per line. A segment is what the engine saw as one line piece: the words sharing
``Word.line`` (a Tesseract text line, a PP-OCR detection box). Pure functions of the boxes.

How:
* Rows: segments whose vertical extents overlap by at least half the smaller height belong to
  one row, so the cells of a table row, or a label and its value, read as one line.
* Columns: a vertical gutter (a band with no segment, at least ``GUTTER`` times the usual
  line height wide) splits the page into columns when both sides hold running text: at least
  three rows each, lines that fill most of their column and hold several characters. Each
  column is then read top to bottom, left column first (and split again, for three). Rows
  with a segment crossing the gutter (a title, a footer) are read where they stand, between
  the column sections above and below them.
* A table also has gutters between its columns, but its cells are short and leave their
  column half empty: it fails the running-text test and is read row by row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .engine import Word

__all__ = ["Segment", "layout_text", "reading_order"]

GUTTER = 1.2  # a column gutter is at least this many line heights wide
MIN_COLUMN_ROWS = 3
MIN_FILL = 0.6  # running text fills at least this share of its column's width, on average
MIN_CHARS = 8  # and holds at least this many characters per line, on average


@dataclass(frozen=True)
class Segment:
    line: int  # the ``Word.line`` of its words
    text: str
    left: int
    top: int
    right: int
    bottom: int

    @property
    def height(self) -> int:
        return max(1, self.bottom - self.top)


def _segments(words: Iterable[Word]) -> list[Segment]:
    lines: dict[int, list[Word]] = {}
    for word in words:
        if word.text.strip():
            lines.setdefault(word.line, []).append(word)
    segments = []
    for number, line in lines.items():
        line.sort(key=lambda w: w.box[0])
        segments.append(
            Segment(
                line=number,
                text=" ".join(w.text.strip() for w in line),
                left=min(w.box[0] for w in line),
                top=min(w.box[1] for w in line),
                right=max(w.box[0] + w.box[2] for w in line),
                bottom=max(w.box[1] + w.box[3] for w in line),
            )
        )
    return segments


def _rows(segments: Sequence[Segment]) -> list[list[Segment]]:
    rows: list[list[Segment]] = []
    spans: list[tuple[int, int]] = []
    for segment in sorted(segments, key=lambda s: (s.top + s.bottom) / 2):
        if rows:
            top, bottom = spans[-1]
            overlap = min(bottom, segment.bottom) - max(top, segment.top)
            usual = min(segment.height, max(1, bottom - top))
            if overlap >= usual / 2:
                rows[-1].append(segment)
                spans[-1] = (min(top, segment.top), max(bottom, segment.bottom))
                continue
        rows.append([segment])
        spans.append((segment.top, segment.bottom))
    return [sorted(row, key=lambda s: s.left) for row in rows]


def _usual_height(segments: Sequence[Segment]) -> int:
    heights = sorted(s.height for s in segments)
    return heights[len(heights) // 2]


def _gutters(segments: Sequence[Segment], height: int) -> list[tuple[int, int]]:
    """Vertical bands free of segments between the leftmost and rightmost ink, widest first."""
    extents = sorted((s.left, s.right) for s in segments)
    gaps = []
    reach = extents[0][1]
    for left, right in extents[1:]:
        if left - reach >= GUTTER * height:
            gaps.append((reach, left))
        reach = max(reach, right)
    return sorted(gaps, key=lambda gap: gap[0] - gap[1])


def _is_running_text(segments: Sequence[Segment]) -> bool:
    rows = _rows(segments)
    if len(rows) < MIN_COLUMN_ROWS:
        return False
    width = max(s.right for s in segments) - min(s.left for s in segments)
    fills = [(row[-1].right - row[0].left) / max(1, width) for row in rows]
    chars = [sum(len(s.text) for s in row) for row in rows]
    return sum(fills) / len(rows) >= MIN_FILL and sum(chars) / len(rows) >= MIN_CHARS


def _ordered(segments: list[Segment]) -> list[list[Segment]]:
    if len(segments) < 2 * MIN_COLUMN_ROWS:
        return _rows(segments)
    height = _usual_height(segments)
    for start, end in _gutters(segments, height):
        left = [s for s in segments if s.right <= start]
        right = [s for s in segments if s.left >= end]
        if not (_is_running_text(left) and _is_running_text(right)):
            continue
        out: list[list[Segment]] = []
        section: list[Segment] = []
        for row in _rows(segments):
            if any(s.left < end and s.right > start for s in row):  # crosses the gutter
                out += _columns(section, start)
                section = []
                out.append(row)
            else:
                section += row
        return out + _columns(section, start)
    return _rows(segments)


def _columns(segments: list[Segment], gutter: int) -> list[list[Segment]]:
    left = [s for s in segments if s.right <= gutter]
    right = [s for s in segments if s.right > gutter]
    return (_ordered(left) if left else []) + (_ordered(right) if right else [])


def reading_order(words: Iterable[Word]) -> list[list[Segment]]:
    segments = _segments(words)
    return _ordered(segments) if segments else []


def layout_text(words: Iterable[Word]) -> str:
    return "\n".join(" ".join(s.text for s in row) for row in reading_order(words))
