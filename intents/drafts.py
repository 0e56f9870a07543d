"""A member's intent as submitted, checked: every part at once, one message per bad field.

Rules (issue 16): a category of the catalog; a description of 1 to :data:`MAX_DESCRIPTION`
characters; a budget ``0 <= min <= max`` in an ISO 4217 currency; a time window that has not
ended and does not start in the past (an edit may keep the start it had), at most a year
ahead; a coarse place or none; profile fields the member would reveal (never sensitive ones);
an expiry after today and at most :data:`MAX_OPEN_DAYS` ahead (default
:data:`DEFAULT_OPEN_DAYS`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from consent.vocabulary import SENSITIVE_FIELDS
from vault.catalog import BY_KEY, clean_text
from vault.errors import ValidationError

from .catalog import check_category, check_currency, check_location, parse_amount
from .model import IntentDraft

MAX_DESCRIPTION = 1000
MAX_WINDOW_DAYS = 366
DEFAULT_OPEN_DAYS = 30
MAX_OPEN_DAYS = 180
#: Profile fields a member may offer to reveal: the catalog's, never the sensitive ones.
REVEALABLE = tuple(key for key in BY_KEY if key not in SENSITIVE_FIELDS)


@dataclass(frozen=True)
class CheckedDraft:
    category: str
    description: str
    budget_min: int
    budget_max: int
    currency: str
    window_from: dt.date
    window_until: dt.date
    country: str | None
    region: str | None
    city: str | None
    reveal_fields: tuple[str, ...]
    expires_on: dt.date


def check_draft(draft: IntentDraft, *, today: dt.date,
                kept_start: dt.date | None = None) -> CheckedDraft:
    """The draft checked, or one :class:`ValidationError` naming every bad field.
    ``kept_start``: an edited intent's start, which may stay as it was though past."""
    errors: dict[str, list[str]] = {}

    def attempt(field: str, check: object) -> object:
        try:
            return check() if callable(check) else check
        except ValidationError as exc:
            for key, messages in exc.errors.items():
                errors.setdefault(key if key != "location" else field, []).extend(messages)
        except ValueError as exc:
            errors.setdefault(field, []).append(str(exc))
        return None

    category = attempt("category", lambda: check_category(draft.category))
    description = attempt("description", lambda: clean_text(
        draft.description, max_length=MAX_DESCRIPTION, multiline=True))
    if description == "":
        errors["description"] = ["Say what you are looking for."]
    currency = attempt("currency", lambda: check_currency(draft.currency))
    low = high = None
    if currency is not None:
        low = attempt("budget_min", lambda: parse_amount(draft.budget_min, str(currency),
                                                         field="budget_min"))
        high = attempt("budget_max", lambda: parse_amount(draft.budget_max, str(currency),
                                                          field="budget_max"))
        if isinstance(low, int) and isinstance(high, int) and low > high:
            errors["budget_max"] = ["The highest budget must not be below the lowest."]
    start = attempt("window_from", lambda: _date(draft.window_from, "window_from"))
    end = attempt("window_until", lambda: _date(draft.window_until, "window_until"))
    if isinstance(start, dt.date) and start < today and start != kept_start:
        errors["window_from"] = ["The window cannot start in the past."]
    if isinstance(end, dt.date):
        if end < today:
            errors["window_until"] = ["The window has ended already: choose a later date."]
        elif end > today + dt.timedelta(days=MAX_WINDOW_DAYS):
            errors["window_until"] = ["At most a year from today."]
        elif isinstance(start, dt.date) and end < start:
            errors["window_until"] = ["The window must end on or after its start."]
    place = attempt("city", lambda: check_location(draft.country, draft.region, draft.city))
    fields = tuple(dict.fromkeys(draft.reveal_fields))
    unknown = [f for f in fields if f not in REVEALABLE]
    if unknown:
        errors["reveal_fields"] = ["Choose fields of your profile; sensitive fields cannot be "
                                   "revealed through an intent."]
    expires = attempt("expires_on", lambda: _date(draft.expires_on, "expires_on")
                      if draft.expires_on not in (None, "") else
                      today + dt.timedelta(days=DEFAULT_OPEN_DAYS))
    if isinstance(expires, dt.date) and not \
            today < expires <= today + dt.timedelta(days=MAX_OPEN_DAYS):
        errors["expires_on"] = [f"A day after today, at most {MAX_OPEN_DAYS} days ahead."]
    if errors:
        raise ValidationError(errors)
    assert isinstance(place, tuple) and isinstance(start, dt.date) and \
        isinstance(end, dt.date) and isinstance(expires, dt.date) and \
        isinstance(low, int) and isinstance(high, int)
    country, region, city = place
    return CheckedDraft(str(category), str(description), low, high, str(currency), start, end,
                        country, region, city, fields, expires)


def _date(value: object, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValidationError({field: ["A date as YYYY-MM-DD."]})
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError({field: ["A date as YYYY-MM-DD, for example 2027-03-31."]}) \
            from None
