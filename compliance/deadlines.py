"""The legal deadlines of a data subject request, as pure functions over :class:`datetime.date`.

Everything here is arithmetic on dates: no clock, no store, no setting read at call time (the
holiday calendar is built once from the settings by :func:`holiday_calendar` and passed in).

**When a request is received.** A request is received at an instant (a UTC ``datetime``);
:func:`received_on` turns it into the *day of receipt* in the deadline time zone, the setting
``VRMVAULT_DEADLINE_TIMEZONE`` (default ``America/Los_Angeles``). Why a zone and that default:
the law counts calendar days where the request arrives, and a UTC date can be a day *later*
than the Californian one (a request at 20:00 Pacific time is already the next day in UTC),
which would push every deadline a day too late. Pacific time is behind every European zone, so
for a European member it gives the same date or one day earlier: a deadline computed from it is
never later than the one the member's own zone gives (for GDPR and CCPA alike), at most a day
earlier. An operator whose members live west of it (Hawaii) sets the zone further west. Zone
names are read from the IANA database of the ``tzdata`` package where the system has none.

**The day of receipt does not count.** Each period runs from the day *after* the day of receipt:

- GDPR Art. 12(3): "without undue delay and in any event within one month of receipt of the
  request ... That period may be extended by two further months where necessary". Periods of EU
  law are computed by Regulation (EEC, Euratom) No 1182/71: Art. 3(1) second subparagraph, the
  day during which the event occurs is not counted; Art. 3(2)(c), a period expressed in months
  ends with the expiry of the last hour of the day in the last month which is the same date as
  the day from which the period runs (the day of receipt), or, if there is no such day in that
  month, with the last day of that month. So 15 January -> 15 February, 31 January -> 28 (29 in
  a leap year) February, 31 March -> 30 April. The UK ICO's guidance on subject access requests
  counts the same way (from the day after receipt to the corresponding calendar date, or the
  last day of a shorter month). Art. 3(4) of 1182/71 would let a period ending on a
  weekend or public holiday run to the next working day; we do **not** take that extra time:
  the earlier date is always in time, and it keeps the GDPR dates independent of a holiday
  calendar of the wrong country.
- The extension by "two further months" is two months added to the end of the first period
  (:func:`gdpr_extended_due`): three months from receipt, except at a month's end where the
  first period was cut short (31 January -> 28 February -> 28 April, not 30 April). That is the
  literal reading (the *period* is extended) and, where the readings differ, the earlier date.
  It is allowed only by a reasoned notice within the first month
  (:func:`gdpr_extension_notice_by`).
- CCPA regulations (Cal. Code Regs. tit. 11) sec. 7021(a): confirm receipt "no later than 10
  business days after receiving" the request; 7021(b): respond "no later than 45 calendar days
  after receipt ... The 45-day period will begin on the day that the business receives the
  request, regardless of time required to verify the request"; up to an additional 45 calendar
  days, "for a maximum total of 90 calendar days from the day the request is received", with
  notice and reasons within the first 45 days (Civ. Code sec. 1798.130(a)(2)). "45 days after
  receipt" is the day of receipt plus 45: received 1 January, due 15 February.
- CCPA regulations sec. 7026(f): a request to opt out of sale/sharing is complied with "as soon
  as feasibly possible, but no later than 15 business days from the date the business receives
  the request".

**Business days** are the days that are neither a Saturday, a Sunday nor a holiday of the
calendar: python-holidays' calendar for ``VRMVAULT_HOLIDAYS`` (a country code, optionally
``-`` subdivision, default ``US-CA``: the CCPA is Californian, and the state's calendar carries
the federal holidays and California's own, "observed" days included) plus the operator's
``VRMVAULT_HOLIDAYS_EXTRA`` dates. "N business days after" a day is the N-th business day
after it, the day itself never counting, whether or not it is a business day (received on a
Saturday, the following Monday is business day 1).

**Urgency** (:func:`urgency`) is what the console colours a request by: overdue after its due
date, red with under 5 days left, amber under 10, green otherwise; on its due date it has 0
days left (red, not overdue: an answer that day is in time).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import holidays as python_holidays

from vault.errors import ValidationError

__all__ = [
    "HolidayCalendar", "Urgency", "ccpa_confirm_by", "ccpa_due", "ccpa_extended_due",
    "ccpa_extension_notice_by", "days_left", "gdpr_due", "gdpr_extended_due",
    "gdpr_extension_notice_by", "holiday_calendar", "optout_due", "received_on", "urgency",
]

DEFAULT_HOLIDAYS = "US-CA"
DEFAULT_TIMEZONE = "America/Los_Angeles"

CCPA_CONFIRM_BUSINESS_DAYS = 10  # regs sec. 7021(a)
CCPA_RESPONSE_DAYS = 45  # regs sec. 7021(b)
CCPA_EXTENSION_DAYS = 45  # regs sec. 7021(b): at most 90 in all
OPTOUT_BUSINESS_DAYS = 15  # regs sec. 7026(f)
GDPR_MONTHS = 1  # Art. 12(3)
GDPR_EXTENSION_MONTHS = 2  # Art. 12(3)

RED_UNDER_DAYS = 5
AMBER_UNDER_DAYS = 10
SATURDAY = 5


def received_on(moment: datetime, zone: str | ZoneInfo = DEFAULT_TIMEZONE) -> date:
    """The day of receipt of a request received at ``moment`` (aware; a naive one is UTC, as
    the vault's clocks are), in the deadline time zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)).date()


def add_months(day: date, months: int) -> date:
    """The same date ``months`` later, or that month's last day if it has no such date
    (Regulation 1182/71 Art. 3(2)(c))."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# -- GDPR Art. 12(3) --------------------------------------------------------------------------
def gdpr_due(received: date) -> date:
    """One calendar month from the day of receipt."""
    return add_months(received, GDPR_MONTHS)


def gdpr_extended_due(received: date) -> date:
    """The first period's end plus two further months (see the module docstring)."""
    return add_months(gdpr_due(received), GDPR_EXTENSION_MONTHS)


def gdpr_extension_notice_by(received: date) -> date:
    """The last day a reasoned notice of extension may be sent: within the first month."""
    return gdpr_due(received)


# -- CCPA regulations sec. 7021 and 7026 ------------------------------------------------------
def ccpa_due(received: date) -> date:
    """45 calendar days after the day of receipt."""
    return received + timedelta(days=CCPA_RESPONSE_DAYS)


def ccpa_extended_due(received: date) -> date:
    """90 calendar days after the day of receipt: once 45 more, the most there is."""
    return received + timedelta(days=CCPA_RESPONSE_DAYS + CCPA_EXTENSION_DAYS)


def ccpa_extension_notice_by(received: date) -> date:
    """The last day the notice of an extension may be given: within the first 45 days."""
    return ccpa_due(received)


class HolidayCalendar:
    """Which days are business days: not a Saturday or Sunday, not a holiday of python-holidays'
    calendar for ``code`` (``US``, ``US-CA``, ``DE-BY``...), not one of ``extra``.

    Immutable once built; the years of python-holidays' calendar are filled in as asked.
    """

    def __init__(self, code: str = DEFAULT_HOLIDAYS, extra: Iterable[date] = ()) -> None:
        self.code = code
        self.extra = frozenset(extra)
        self._holidays = _country_holidays(code)

    def __repr__(self) -> str:
        return f"HolidayCalendar({self.code!r}, extra={sorted(self.extra)!r})"

    def is_holiday(self, day: date) -> bool:
        return day in self.extra or day in self._holidays

    def holiday_name(self, day: date) -> str | None:
        if day in self.extra:
            return "holiday set by the operator"
        name = self._holidays.get(day)
        return str(name) if name is not None else None

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < SATURDAY and not self.is_holiday(day)

    def add_business_days(self, day: date, count: int) -> date:
        """The ``count``-th business day after ``day`` (``day`` itself never counts); ``day``
        for a count of 0."""
        if count < 0:
            raise ValueError("count must not be negative")
        current = day
        while count:
            current += timedelta(days=1)
            if self.is_business_day(current):
                count -= 1
        return current


def _country_holidays(code: str) -> python_holidays.HolidayBase:
    """python-holidays' calendar for ``COUNTRY`` or ``COUNTRY-SUBDIVISION``; ``ValueError``
    naming what is not known."""
    country, _, subdivision = code.strip().partition("-")
    if not country:
        raise ValueError("names no country")
    try:
        return python_holidays.country_holidays(country.upper(),
                                                subdiv=subdivision.upper() or None)
    except NotImplementedError as exc:
        raise ValueError(f"is not a calendar python-holidays knows ({exc})") from None


def parse_holiday_code(text: str) -> str:
    """A setting's parser: the code, normalised, once python-holidays knows it."""
    code = text.strip().upper()
    _country_holidays(code)
    return code


def parse_extra_holidays(text: str) -> tuple[date, ...]:
    """A setting's parser: comma-separated ISO dates (``2026-12-24,2026-12-31``)."""
    days = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            days.append(date.fromisoformat(part))
        except ValueError:
            raise ValueError(f"has {part[:20]!r}, not a date YYYY-MM-DD") from None
    return tuple(sorted(set(days)))


def parse_timezone(text: str) -> str:
    """A setting's parser: an IANA time zone name that this machine's zone database knows."""
    name = text.strip()
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        raise ValueError("is not a time zone name such as Europe/Berlin") from None
    return name


def holiday_calendar(code: str = DEFAULT_HOLIDAYS, extra: Iterable[date] = ()
                     ) -> HolidayCalendar:
    """The calendar of the settings ``VRMVAULT_HOLIDAYS`` and ``VRMVAULT_HOLIDAYS_EXTRA``; a
    code python-holidays does not know is a :class:`ValidationError` on ``holidays``."""
    try:
        return HolidayCalendar(code, extra)
    except ValueError as exc:
        raise ValidationError({"holidays": [f"{code!r} {exc}"]}) from None


def ccpa_confirm_by(received: date, calendar: HolidayCalendar) -> date:
    """10 business days after the day of receipt (regs sec. 7021(a))."""
    return calendar.add_business_days(received, CCPA_CONFIRM_BUSINESS_DAYS)


def optout_due(received: date, calendar: HolidayCalendar) -> date:
    """15 business days after the day of receipt (regs sec. 7026(f))."""
    return calendar.add_business_days(received, OPTOUT_BUSINESS_DAYS)


# -- urgency ------------------------------------------------------------------------------------
class Urgency(StrEnum):
    OVERDUE = "overdue"
    RED = "red"
    AMBER = "amber"
    GREEN = "green"


def days_left(due: date, today: date) -> int:
    """Calendar days from ``today`` to ``due``: 0 on the due date, negative once past it."""
    return (due - today).days


def urgency(due: date, today: date) -> Urgency:
    """Overdue after the due date; red with under 5 days left (the due date itself included),
    amber under 10, green from 10."""
    left = days_left(due, today)
    if left < 0:
        return Urgency.OVERDUE
    if left < RED_UNDER_DAYS:
        return Urgency.RED
    if left < AMBER_UNDER_DAYS:
        return Urgency.AMBER
    return Urgency.GREEN
