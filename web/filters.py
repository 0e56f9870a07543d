"""Jinja filters: dates and times shown to people (UTC, unambiguous), and the words for the
codes of the consent vocabulary (the codes themselves go in "Codes for the record")."""

from __future__ import annotations

import datetime as dt

from flask import Flask

from consent.vocabulary import AGREEMENT_BY_CODE, FIELD_CATEGORY, field_category


def when(seconds: int | float | None) -> str:
    if not seconds:
        return ""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def term_words(code: str | None) -> str:
    """What an IEEE 7012 term lets a brand do, in words; an unknown code as it is."""
    agreement = AGREEMENT_BY_CODE.get(code or "")
    return agreement.summary.rstrip(".") if agreement else (code or "")


def days(count: int) -> str:
    """A number of days in words: "1 day", "30 days"."""
    return f"{count} day" if count == 1 else f"{count} days"


def data_code(field: str) -> str:
    """The DPV personal-data category of a vault field (``pd:City``); "" if it has none."""
    category = field_category(field) if field in FIELD_CATEGORY else None
    return category.code if category else ""


def in_a_sentence(text: str) -> str:
    """A label or a description as a phrase inside a sentence: its first letter lower-case
    (unless the first word is all capitals, as "GPC" or "NPS"), no closing full stop, and every
    other letter as written ("when I buy" stays so)."""
    text = text.strip().removesuffix(".")
    first = text.split(" ", 1)[0]
    if not text or (len(first) > 1 and first.isupper()):
        return text
    return text[0].lower() + text[1:]


def init_app(app: Flask) -> None:
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["term_words"] = term_words
    app.jinja_env.filters["data_code"] = data_code
    app.jinja_env.filters["days"] = days
    app.jinja_env.filters["in_a_sentence"] = in_a_sentence
