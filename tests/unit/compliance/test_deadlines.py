"""Deadline arithmetic against references written differently: months by
``dateutil.relativedelta`` (python-dateutil, which python-holidays brings), business days by a
naive day-by-day loop over a hand-written holiday list, and the explicit edge cases of
GDPR Art. 12(3) / Regulation 1182/71 and CCPA regs sec. 7021 / 7026."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from compliance import deadlines
from compliance.deadlines import (
    HolidayCalendar,
    Urgency,
    ccpa_confirm_by,
    ccpa_due,
    ccpa_extended_due,
    ccpa_extension_notice_by,
    gdpr_due,
    gdpr_extended_due,
    gdpr_extension_notice_by,
    holiday_calendar,
    optout_due,
    received_on,
    urgency,
)
from vault.errors import ValidationError
from web.config import from_environment

DAYS = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))
CALIFORNIA = HolidayCalendar("US-CA")

# Every holiday of python-holidays' US-CA calendar in 2026, written out by hand from the
# state's published list, so the loop below does not ask the code under test.
CALIFORNIA_2026 = frozenset({
    date(2026, 1, 1), date(2026, 1, 19), date(2026, 2, 15), date(2026, 2, 16),
    date(2026, 3, 31), date(2026, 5, 25), date(2026, 6, 19), date(2026, 7, 3),
    date(2026, 7, 4), date(2026, 9, 7), date(2026, 11, 8), date(2026, 11, 11),
    date(2026, 11, 26), date(2026, 11, 27), date(2026, 12, 25),
})


def naive_business_days(start: date, count: int, off: frozenset[date]) -> date:
    """The count-th day after start that is Monday-Friday and not in off, one day at a time."""
    day, seen = start, 0
    while seen < count:
        day = day + timedelta(days=1)
        if day.isoweekday() <= 5 and day not in off:
            seen += 1
    return day


# -- GDPR: properties ------------------------------------------------------------------------
@given(DAYS)
def test_gdpr_due_is_one_calendar_month_as_relativedelta_counts(received: date) -> None:
    assert gdpr_due(received) == received + relativedelta(months=1)


@given(DAYS)
def test_gdpr_due_is_the_same_date_or_the_last_day_of_a_shorter_month(received: date) -> None:
    due = gdpr_due(received)
    assert (due.year * 12 + due.month) - (received.year * 12 + received.month) == 1
    if due.day != received.day:
        assert due.day < received.day
        assert (due + timedelta(days=1)).day == 1  # the last day of its month


@given(DAYS)
def test_the_gdpr_period_is_28_to_31_days_and_the_receipt_day_does_not_count(
        received: date) -> None:
    assert 28 <= (gdpr_due(received) - received).days <= 31
    assert gdpr_due(received) > received


@given(DAYS)
def test_the_gdpr_extension_adds_two_months_to_the_first_period(received: date) -> None:
    first = received + relativedelta(months=1)
    assert gdpr_extended_due(received) == first + relativedelta(months=2)
    # Never later than three months from receipt, and equal unless the first month was cut.
    three = received + relativedelta(months=3)
    assert gdpr_extended_due(received) <= three
    if first.day == received.day:
        assert gdpr_extended_due(received) == three
    assert gdpr_extension_notice_by(received) == gdpr_due(received)


@given(DAYS, DAYS)
def test_gdpr_due_never_goes_backwards(a: date, b: date) -> None:
    if a <= b:
        assert gdpr_due(a) <= gdpr_due(b)
        assert gdpr_extended_due(a) <= gdpr_extended_due(b)


# -- GDPR: edge cases ------------------------------------------------------------------------
@pytest.mark.parametrize(("received", "due", "extended"), [
    (date(2026, 1, 15), date(2026, 2, 15), date(2026, 4, 15)),
    (date(2026, 1, 31), date(2026, 2, 28), date(2026, 4, 28)),   # no 31 February
    (date(2028, 1, 31), date(2028, 2, 29), date(2028, 4, 29)),   # leap year
    (date(2026, 1, 30), date(2026, 2, 28), date(2026, 4, 28)),
    (date(2028, 1, 30), date(2028, 2, 29), date(2028, 4, 29)),
    (date(2026, 1, 29), date(2026, 2, 28), date(2026, 4, 28)),
    (date(2028, 1, 29), date(2028, 2, 29), date(2028, 4, 29)),
    (date(2026, 1, 28), date(2026, 2, 28), date(2026, 4, 28)),
    (date(2026, 3, 31), date(2026, 4, 30), date(2026, 6, 30)),   # no 31 April
    (date(2026, 5, 31), date(2026, 6, 30), date(2026, 8, 30)),
    (date(2028, 2, 29), date(2028, 3, 29), date(2028, 5, 29)),   # from a leap day
    (date(2026, 2, 28), date(2026, 3, 28), date(2026, 5, 28)),
    (date(2026, 11, 30), date(2026, 12, 30), date(2027, 2, 28)),  # extension into February
    (date(2027, 11, 30), date(2027, 12, 30), date(2028, 2, 29)),
    (date(2026, 12, 31), date(2027, 1, 31), date(2027, 3, 31)),  # December -> January
    (date(2026, 12, 1), date(2027, 1, 1), date(2027, 3, 1)),
    (date(2026, 10, 31), date(2026, 11, 30), date(2027, 1, 30)),
    (date(2100, 1, 29), date(2100, 2, 28), date(2100, 4, 28)),   # 2100 is not a leap year
    (date(2000, 1, 29), date(2000, 2, 29), date(2000, 4, 29)),   # 2000 is
])
def test_gdpr_dates(received: date, due: date, extended: date) -> None:
    assert gdpr_due(received) == due
    assert gdpr_extension_notice_by(received) == due
    assert gdpr_extended_due(received) == extended


# -- CCPA calendar days ----------------------------------------------------------------------
@given(DAYS)
def test_ccpa_due_is_45_calendar_days_after_receipt_and_at_most_90_extended(
        received: date) -> None:
    assert ccpa_due(received).toordinal() - received.toordinal() == 45
    assert ccpa_extended_due(received).toordinal() - received.toordinal() == 90
    assert ccpa_extension_notice_by(received) == ccpa_due(received)


@pytest.mark.parametrize(("received", "due", "extended"), [
    (date(2026, 1, 1), date(2026, 2, 15), date(2026, 4, 1)),
    (date(2028, 1, 1), date(2028, 2, 15), date(2028, 3, 31)),    # leap February
    (date(2026, 12, 20), date(2027, 2, 3), date(2027, 3, 20)),   # across New Year
    (date(2026, 11, 28), date(2027, 1, 12), date(2027, 2, 26)),  # a Saturday: days are days
])
def test_ccpa_calendar_dates(received: date, due: date, extended: date) -> None:
    assert ccpa_due(received) == due
    assert ccpa_extended_due(received) == extended


# -- business days ---------------------------------------------------------------------------
def test_the_hand_written_2026_list_is_what_the_calendar_holds() -> None:
    in_2026 = {date(2026, 1, 1) + timedelta(days=n) for n in range(365)}
    assert {day for day in in_2026 if CALIFORNIA.is_holiday(day)} == CALIFORNIA_2026


@given(st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 11, 30)),
       st.integers(min_value=0, max_value=20))
def test_business_days_match_a_day_by_day_count(received: date, count: int) -> None:
    assert CALIFORNIA.add_business_days(received, count) == naive_business_days(
        received, count, CALIFORNIA_2026)


@given(st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 9, 30)),
       st.integers(min_value=0, max_value=30),
       st.sets(st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)), max_size=40))
def test_extra_holidays_are_skipped_like_weekends(received: date, count: int,
                                                  extra: set[date]) -> None:
    calendar = HolidayCalendar("US-CA", extra)
    result = calendar.add_business_days(received, count)
    if result.year == 2026:  # the hand-written list covers 2026
        assert result == naive_business_days(received, count, CALIFORNIA_2026 | extra)
    assert count == 0 or calendar.is_business_day(result)


@given(DAYS)
def test_ccpa_business_deadlines_are_business_days_after_receipt(received: date) -> None:
    confirm, optout = ccpa_confirm_by(received, CALIFORNIA), optout_due(received, CALIFORNIA)
    assert CALIFORNIA.is_business_day(confirm) and CALIFORNIA.is_business_day(optout)
    # Two (three) working weeks from a Sunday at the least; a few holidays more at most.
    assert 12 <= (confirm - received).days <= 20
    assert 19 <= (optout - received).days <= 28
    assert received < confirm < optout


@pytest.mark.parametrize(("received", "confirm", "optout", "why"), [
    (date(2026, 11, 20), date(2026, 12, 8), date(2026, 12, 15),
     "Thanksgiving and the day after are skipped"),
    (date(2026, 12, 18), date(2027, 1, 5), date(2027, 1, 12),
     "Christmas and New Year's Day are skipped"),
    (date(2026, 12, 24), date(2027, 1, 11), date(2027, 1, 19),
     "from Christmas Eve, across New Year, into Martin Luther King Jr. Day"),
    (date(2026, 11, 28), date(2026, 12, 11), date(2026, 12, 18),
     "received on a Saturday: Monday is business day 1"),
    (date(2026, 11, 26), date(2026, 12, 11), date(2026, 12, 18),
     "received on Thanksgiving: Friday is a holiday too, Monday is day 1"),
    (date(2026, 12, 25), date(2027, 1, 11), date(2027, 1, 19),
     "received on Christmas Day"),
    (date(2026, 6, 26), date(2026, 7, 13), date(2026, 7, 20),
     "Independence Day observed on Friday 3 July; the Saturday itself changes nothing"),
])
def test_ccpa_business_day_dates(received: date, confirm: date, optout: date, why: str) -> None:
    assert ccpa_confirm_by(received, CALIFORNIA) == confirm, why
    assert optout_due(received, CALIFORNIA) == optout, why
    assert confirm == naive_business_days(received, 10, CALIFORNIA_2026 | {
        date(2027, 1, 1), date(2027, 1, 18)})


def test_an_extra_holiday_of_the_operator_moves_a_deadline() -> None:
    plain = ccpa_confirm_by(date(2026, 12, 18), CALIFORNIA)
    assert ccpa_confirm_by(date(2026, 12, 18), holiday_calendar(
        "US-CA", [date(2026, 12, 24), date(2026, 12, 31)])) == plain + timedelta(days=2)
    assert plain == date(2027, 1, 5)


def test_another_country_has_other_holidays() -> None:
    germany = holiday_calendar("DE")
    assert not germany.is_business_day(date(2026, 12, 26))  # Zweiter Weihnachtsfeiertag
    assert CALIFORNIA.is_business_day(date(2026, 12, 28))
    assert not CALIFORNIA.is_business_day(date(2026, 11, 26))
    assert germany.is_business_day(date(2026, 11, 26))
    assert CALIFORNIA.holiday_name(date(2026, 11, 26)) == "Thanksgiving Day"


def test_zero_business_days_is_the_day_itself_and_negative_is_refused() -> None:
    assert CALIFORNIA.add_business_days(date(2026, 11, 28), 0) == date(2026, 11, 28)
    with pytest.raises(ValueError):
        CALIFORNIA.add_business_days(date(2026, 11, 28), -1)


def test_an_unknown_calendar_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        holiday_calendar("XX")
    with pytest.raises(ValidationError):
        holiday_calendar("US-ZZ")


# -- the day of receipt ----------------------------------------------------------------------
@pytest.mark.parametrize(("moment", "zone", "day"), [
    (datetime(2026, 1, 2, 4, 0, tzinfo=UTC), "America/Los_Angeles", date(2026, 1, 1)),
    (datetime(2026, 1, 2, 4, 0, tzinfo=UTC), "UTC", date(2026, 1, 2)),
    (datetime(2026, 1, 31, 23, 30), "Europe/Berlin", date(2026, 2, 1)),  # naive is UTC
    (datetime(2026, 7, 1, 6, 59, tzinfo=UTC), "America/Los_Angeles", date(2026, 6, 30)),
    (datetime(2026, 7, 1, 7, 0, tzinfo=UTC), "America/Los_Angeles", date(2026, 7, 1)),
])
def test_the_day_of_receipt_is_the_date_in_the_deadline_zone(moment, zone, day) -> None:
    assert received_on(moment, zone) == day


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2080, 1, 1)),
       st.sampled_from(["Europe/Berlin", "Europe/Lisbon", "Europe/Helsinki", "UTC",
                        "America/New_York", "America/Los_Angeles"]))
def test_pacific_time_never_makes_a_deadline_later_than_the_members_zone(
        moment: datetime, zone: str) -> None:
    pacific = received_on(moment)
    assert pacific <= received_on(moment, zone)
    assert gdpr_due(pacific) <= gdpr_due(received_on(moment, zone))


# -- urgency ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("left", "state"), [
    (-30, Urgency.OVERDUE), (-1, Urgency.OVERDUE), (0, Urgency.RED), (4, Urgency.RED),
    (5, Urgency.AMBER), (9, Urgency.AMBER), (10, Urgency.GREEN), (45, Urgency.GREEN),
])
def test_urgency_by_days_left(left: int, state: Urgency) -> None:
    today = date(2026, 12, 30)
    assert urgency(today + timedelta(days=left), today) == state
    assert str(state) == state.value


@given(DAYS, DAYS)
def test_urgency_only_grows_as_time_passes(due: date, today: date) -> None:
    order = [Urgency.GREEN, Urgency.AMBER, Urgency.RED, Urgency.OVERDUE]
    later = today + timedelta(days=1)
    assert order.index(urgency(due, later)) >= order.index(urgency(due, today))


# -- the settings ----------------------------------------------------------------------------
def test_the_settings_default_to_california_and_pacific_time() -> None:
    config = from_environment({})
    assert config["VRMVAULT_HOLIDAYS"] == "US-CA"
    assert config["VRMVAULT_HOLIDAYS_EXTRA"] == ()
    assert config["VRMVAULT_DEADLINE_TIMEZONE"] == deadlines.DEFAULT_TIMEZONE


def test_the_settings_are_parsed() -> None:
    config = from_environment({"VRMVAULT_HOLIDAYS": "de-by",
                               "VRMVAULT_HOLIDAYS_EXTRA": " 2026-12-31,2026-12-24,,2026-12-24",
                               "VRMVAULT_DEADLINE_TIMEZONE": "Europe/Berlin"})
    assert config["VRMVAULT_HOLIDAYS"] == "DE-BY"
    assert config["VRMVAULT_HOLIDAYS_EXTRA"] == (date(2026, 12, 24), date(2026, 12, 31))
    assert config["VRMVAULT_DEADLINE_TIMEZONE"] == "Europe/Berlin"


@pytest.mark.parametrize(("name", "value", "says"), [
    ("VRMVAULT_HOLIDAYS", "XX", "python-holidays"),
    ("VRMVAULT_HOLIDAYS", "US-ZZ", "python-holidays"),
    ("VRMVAULT_HOLIDAYS", "-CA", "names no country"),
    ("VRMVAULT_HOLIDAYS_EXTRA", "2026-12-24,24/12/2026", "not a date"),
    ("VRMVAULT_HOLIDAYS_EXTRA", "2026-02-30", "not a date"),
    ("VRMVAULT_DEADLINE_TIMEZONE", "Mars/Olympus", "time zone"),
    ("VRMVAULT_DEADLINE_TIMEZONE", "../../etc/passwd", "time zone"),
])
def test_a_malformed_setting_is_refused_naming_it(name: str, value: str, says: str) -> None:
    from web.errors import SettingError
    with pytest.raises(SettingError) as caught:
        from_environment({name: value})
    assert name in str(caught.value) and says in str(caught.value)
