"""Jinja filters for dates and times shown to people (UTC, unambiguous)."""

from __future__ import annotations

import datetime as dt

from flask import Flask


def when(seconds: int | float | None) -> str:
    if not seconds:
        return ""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def init_app(app: Flask) -> None:
    app.jinja_env.filters["when"] = when
