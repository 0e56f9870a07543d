"""Legal deadlines of data subject requests, as pure functions over ``datetime.date``.

Placeholder with the shared names until the deadlines module lands on main (it replaces this
file at the merge): GDPR Art. 12(3) one calendar month (the corresponding day, or the month's
last day), extendable by two further months; CCPA regulations sec. 7021 (confirm within 10
business days, answer within 45 calendar days, extendable once by 45) and sec. 7026 (opt-outs
within 15 business days).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from enum import StrEnum


class Urgency(StrEnum):
    OVERDUE = "overdue"
    RED = "red"
    AMBER = "amber"
    GREEN = "green"


class HolidayCalendar:
    """Business days: Monday to Friday, except the listed holidays."""

    def __init__(self, holidays: Iterable[dt.date] = ()) -> None:
        self.holidays = frozenset(holidays)

    def is_business_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def add_business_days(self, day: dt.date, count: int) -> dt.date:
        while count > 0:
            day += dt.timedelta(days=1)
            if self.is_business_day(day):
                count -= 1
        return day


def holiday_calendar(holidays: Iterable[dt.date] = ()) -> HolidayCalendar:
    return HolidayCalendar(holidays)


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def gdpr_due(received: dt.date) -> dt.date:
    return _add_months(received, 1)


def gdpr_extended_due(received: dt.date) -> dt.date:
    return _add_months(received, 3)


def gdpr_extension_notice_by(received: dt.date) -> dt.date:
    return gdpr_due(received)


def ccpa_confirm_by(received: dt.date, calendar: HolidayCalendar) -> dt.date:
    return calendar.add_business_days(received, 10)


def ccpa_due(received: dt.date) -> dt.date:
    return received + dt.timedelta(days=45)


def ccpa_extended_due(received: dt.date) -> dt.date:
    return received + dt.timedelta(days=90)


def ccpa_extension_notice_by(received: dt.date) -> dt.date:
    return ccpa_due(received)


def optout_due(received: dt.date, calendar: HolidayCalendar) -> dt.date:
    return calendar.add_business_days(received, 15)


def urgency(due: dt.date, today: dt.date) -> Urgency:
    left = (due - today).days
    if left < 0:
        return Urgency.OVERDUE
    if left < 5:
        return Urgency.RED
    if left < 10:
        return Urgency.AMBER
    return Urgency.GREEN
