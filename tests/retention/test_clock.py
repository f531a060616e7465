"""Calendar arithmetic: fiscal years, leap days, the first eligible day."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retention import add_years, eligible_on, fiscal_year_end, fiscal_year_start
from retention.clock import clock_start, next_fiscal_year_start
from tests.retention.strategies import PROPERTY, days

months = st.integers(min_value=1, max_value=12)


def test_voucher_example_from_the_brief() -> None:
    # Dated 2024-03-05, fiscal year = calendar year: the clock starts 2025-01-01 and the
    # first day after 30 years is 2055-01-01.
    assert clock_start(date(2024, 3, 5), fiscal=True) == date(2025, 1, 1)
    assert fiscal_year_end(date(2024, 3, 5)) == date(2024, 12, 31)
    assert eligible_on(date(2024, 3, 5), 30, fiscal=True) == date(2055, 1, 1)


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        (date(2024, 2, 29), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 4, date(2028, 2, 29)),
        (date(2024, 2, 29), 30, date(2054, 2, 28)),
        (date(2023, 2, 28), 1, date(2024, 2, 28)),
        (date(2024, 3, 1), 1, date(2025, 3, 1)),
        (date(2024, 12, 31), 0, date(2024, 12, 31)),
    ],
)
def test_add_years_maps_29_february_to_28_february(day: date, years: int, expected: date) -> None:
    assert add_years(day, years) == expected


@pytest.mark.parametrize(
    ("anchor", "years", "first_eligible"),
    [
        # Civil Code counting: the anchor day is not counted, the period ends on the
        # corresponding day (month end when missing), eligibility starts the day after.
        (date(2024, 2, 29), 1, date(2025, 3, 1)),
        (date(2024, 2, 28), 1, date(2025, 3, 1)),
        (date(2023, 2, 28), 1, date(2024, 2, 29)),
        (date(2024, 2, 29), 4, date(2028, 3, 1)),
        (date(2030, 6, 30), 10, date(2040, 7, 1)),
    ],
)
def test_leap_days_for_date_and_event_triggers(
    anchor: date, years: int, first_eligible: date
) -> None:
    assert eligible_on(anchor, years, fiscal=False) == first_eligible


def test_leap_day_document_under_fiscal_trigger() -> None:
    assert eligible_on(date(2024, 2, 29), 10, fiscal=True) == date(2035, 1, 1)


@pytest.mark.parametrize(
    ("day", "start_month", "fy_start", "fy_end"),
    [
        (date(2024, 3, 5), 1, date(2024, 1, 1), date(2024, 12, 31)),
        (date(2024, 3, 5), 4, date(2023, 4, 1), date(2024, 3, 31)),
        (date(2024, 4, 1), 4, date(2024, 4, 1), date(2025, 3, 31)),
        (date(2024, 2, 10), 3, date(2023, 3, 1), date(2024, 2, 29)),
        (date(2024, 12, 31), 12, date(2024, 12, 1), date(2025, 11, 30)),
    ],
)
def test_configurable_fiscal_year(
    day: date, start_month: int, fy_start: date, fy_end: date
) -> None:
    assert fiscal_year_start(day, start_month) == fy_start
    assert fiscal_year_end(day, start_month) == fy_end


def test_april_fiscal_year_voucher() -> None:
    assert eligible_on(date(2024, 3, 5), 30, fiscal=True, start_month=4) == date(2054, 4, 1)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        add_years(date(2024, 1, 1), -1)
    with pytest.raises(ValueError):
        fiscal_year_end(date(2024, 1, 1), 13)


@PROPERTY
@given(days, st.integers(min_value=0, max_value=100))
def test_add_years_keeps_month_and_day_except_leap_day(day: date, years: int) -> None:
    result = add_years(day, years)
    assert result.year == day.year + years
    if (day.month, day.day) == (2, 29) and not calendar.isleap(result.year):
        assert (result.month, result.day) == (2, 28)
    else:
        assert (result.month, result.day) == (day.month, day.day)


@PROPERTY
@given(days, months)
def test_fiscal_year_contains_the_day(day: date, start_month: int) -> None:
    start = fiscal_year_start(day, start_month)
    end = fiscal_year_end(day, start_month)
    assert start <= day <= end
    assert start.day == 1 and start.month == start_month
    assert end + timedelta(days=1) == next_fiscal_year_start(day, start_month)
    assert 365 <= (end - start).days + 1 <= 366


@PROPERTY
@given(days, days, st.integers(min_value=0, max_value=60), st.booleans(), months)
def test_eligible_on_is_monotonic_in_anchor_and_after_it(
    a: date, b: date, years: int, fiscal: bool, start_month: int
) -> None:
    early, late = sorted((a, b))
    first = eligible_on(early, years, fiscal=fiscal, start_month=start_month)
    assert first <= eligible_on(late, years, fiscal=fiscal, start_month=start_month)
    assert first > early  # never eligible on the anchor day itself
    assert first <= eligible_on(early, years + 1, fiscal=fiscal, start_month=start_month)
