"""Exact calendar arithmetic for retention periods.

Contract:

* Pure functions over ``datetime.date``; nothing here reads the system clock.
* ``add_years`` keeps month and day; a 29 February that does not exist in the target year
  becomes **28 February** (the month-end rule of the Civil Code, 《民法典》第二百零二条:
  a period counted in years ends on the corresponding day of the last month, or on that
  month's last day when it has no corresponding day).
* Two ways to start a clock (see ``eligible_on``):

  - **fiscal**: the clock starts on the first day after the fiscal year in which the anchor
    falls (会计档案管理办法: 保管期限从会计年度终了后的第一天算起). The start is always the
    1st of a month, so N whole years later is exact and never touches a leap day.
  - **date / event**: the anchor day itself is not counted (《民法典》第二百零一条); the period
    ends on the anchor's corresponding day N years later (29 Feb -> 28 Feb), and the
    record becomes eligible the day after. Hence an anchor of 2024-02-29 with one year
    gives a first eligible day of 2025-03-01, and 2023-02-28 gives 2024-02-29.

``eligible_on`` always returns the *first day on which destruction is allowed*, never the
last day of the period, so callers compare with ``as_of >= eligible_on``.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)


def _check_month(start_month: int) -> None:
    if not 1 <= start_month <= 12:
        raise ValueError(f"fiscal year start month must be 1..12, got {start_month}")


def add_years(day: date, years: int) -> date:
    """``day`` shifted by ``years`` calendar years; 29 Feb -> 28 Feb in a common year."""
    if years < 0:
        raise ValueError("retention periods never run backwards")
    year = day.year + years
    if day.month == 2 and day.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return day.replace(year=year)


def fiscal_year_start(day: date, start_month: int = 1) -> date:
    """First day of the fiscal year containing ``day`` (fiscal year = calendar year by default)."""
    _check_month(start_month)
    year = day.year if day.month >= start_month else day.year - 1
    return date(year, start_month, 1)


def next_fiscal_year_start(day: date, start_month: int = 1) -> date:
    """First day after the fiscal year containing ``day``: where a fiscal-year clock starts."""
    start = fiscal_year_start(day, start_month)
    return date(start.year + 1, start.month, 1)


def fiscal_year_end(day: date, start_month: int = 1) -> date:
    """Last day of the fiscal year containing ``day``."""
    return next_fiscal_year_start(day, start_month) - ONE_DAY


def clock_start(anchor: date, *, fiscal: bool, start_month: int = 1) -> date:
    """First day counted in the period (fiscal: next fiscal year; otherwise the day after)."""
    if fiscal:
        return next_fiscal_year_start(anchor, start_month)
    return anchor + ONE_DAY


def eligible_on(anchor: date, years: int, *, fiscal: bool, start_month: int = 1) -> date:
    """First day on which a record anchored on ``anchor`` may be destroyed after ``years``."""
    if fiscal:
        # The start is the 1st of a month, so adding years is exact.
        return add_years(next_fiscal_year_start(anchor, start_month), years)
    return add_years(anchor, years) + ONE_DAY
