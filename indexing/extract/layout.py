"""Reading order: the text of a page rebuilt from the boxes an engine found.

Contract: ``reading_order(words)`` returns the page's rows in the order a person reads them,
each row a list of ``Segment`` from left to right; ``layout_text(words)`` joins them, one row
per line. A segment is what the engine saw as one line piece: the words sharing
``Word.line`` (a Tesseract text line, a PP-OCR detection box). Pure functions of the boxes.

How:
* Rows: segments whose vertical extents overlap by at least half the smaller height belong to
  one row, so the cells of a table row, or a label and its value, read as one line.
* Columns: consecutive rows are grouped into sections that keep a vertical gutter open (a
  band no segment covers, at least ``GUTTER`` times the usual line height wide); a row that
  would close it (a title or a line across the page) starts the next section. A section is
  split into columns at its gutter when both sides hold running text: at least three rows
  each, lines that fill most of their column and hold several characters. Each column is
  then read top to bottom, left column first (and split again, for three).
* A table also has gutters between its columns, but its cells are short and leave their
  column half empty: it fails the running-text test and is read row by row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .engine import Word

__all__ = ["Segment", "layout_text", "reading_order"]

GUTTER = 0.8  # a column gutter is at least this many line heights wide (boxes have margins)
MIN_COLUMN_ROWS = 4
MIN_FILL = 0.75  # running text fills at least this share of its column's width, on average
MIN_CHARS = 8  # and holds at least this many characters per line, on average
# Boxes whose vertical extents overlap by this share of the smaller height are one row.
ROW_OVERLAP = 0.4


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
    bands: list[tuple[int, int]] = []  # the first segment's extent: a tall cell spanning two
    # rows joins one of them without gluing the next row on (the band does not grow)
    for segment in sorted(segments, key=lambda s: (s.top + s.bottom) / 2):
        if rows:
            top, bottom = bands[-1]
            overlap = min(bottom, segment.bottom) - max(top, segment.top)
            if overlap >= ROW_OVERLAP * min(segment.height, bottom - top):
                rows[-1].append(segment)
                continue
        rows.append([segment])
        bands.append((segment.top, segment.bottom))
    return [sorted(row, key=lambda s: s.left) for row in rows]


def _usual_height(segments: Sequence[Segment]) -> int:
    heights = sorted(s.height for s in segments)
    return heights[len(heights) // 2]


def _widest_gap(rows: Sequence[Sequence[Segment]], height: int) -> tuple[int, int] | None:
    """The widest vertical band no segment of ``rows`` covers, between their leftmost and
    rightmost ink, if it is at least a gutter wide."""
    extents = sorted((s.left, s.right) for row in rows for s in row)
    best: tuple[int, int] | None = None
    reach = extents[0][1]
    for left, right in extents[1:]:
        if left - reach >= GUTTER * height and (best is None or left - reach > best[1] - best[0]):
            best = (reach, left)
        reach = max(reach, right)
    return best


def _sections(rows: list[list[Segment]], height: int) -> list[list[list[Segment]]]:
    """Consecutive rows grouped so that each group keeps one gutter open as long as it can:
    a row that would close it (a title, a line across the page) starts a new group."""
    sections: list[list[list[Segment]]] = []
    for row in rows:
        if sections:
            current = sections[-1]
            had_gap = _widest_gap(current, height) is not None
            if _widest_gap([*current, row], height) is not None or not (
                had_gap or _widest_gap([row], height) is not None
            ):
                current.append(row)
                continue
        sections.append([row])
    return sections


def _is_running_text(segments: Sequence[Segment]) -> bool:
    rows = _rows(segments)
    if len(rows) < MIN_COLUMN_ROWS:
        return False
    width = max(s.right for s in segments) - min(s.left for s in segments)
    fills = [(row[-1].right - row[0].left) / max(1, width) for row in rows]
    chars = [sum(len(s.text) for s in row) for row in rows]
    return sum(fills) / len(rows) >= MIN_FILL and sum(chars) / len(rows) >= MIN_CHARS


def _ordered(segments: list[Segment]) -> list[list[Segment]]:
    rows = _rows(segments)
    if len(rows) < MIN_COLUMN_ROWS:
        return rows
    height = _usual_height(segments)
    out: list[list[Segment]] = []
    for section in _sections(rows, height):
        gap = _widest_gap(section, height) if len(section) >= MIN_COLUMN_ROWS else None
        if gap is not None:
            inside = [s for row in section for s in row]
            left = [s for s in inside if s.right <= gap[0]]
            right = [s for s in inside if s.left >= gap[1]]
            if _is_running_text(left) and _is_running_text(right):
                out += _ordered(left) + _ordered(right)
                continue
        out += section
    return out


def reading_order(words: Iterable[Word]) -> list[list[Segment]]:
    segments = _segments(words)
    return _ordered(segments) if segments else []


def layout_text(words: Iterable[Word]) -> str:
    return "\n".join(" ".join(s.text for s in row) for row in reading_order(words))
