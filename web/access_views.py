"""The member's "Who read what" page: every brand read of their shared data, newest first.

Like every member page: signed-in members only (default deny) and only their own reads. The
rows are the ledger entries the brand API appends with each read, found by the member's
principal in the ledger's access index (:mod:`brand_gateway.access_log`); each names its seq. The
chart of reads per brand per day is inline SVG drawn here on the server: no script, no request
of its own.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from flask import Blueprint, g, render_template, request

from brand_gateway.access_log import DAY, DailyReads
from brand_gateway.storage import access_log
from consent.vocabulary import PURPOSE_BY_CODE, field_label

from .member import require_member
from .vaults import get_consent, get_vault, merge_pending_reads

bp = Blueprint("access", __name__, url_prefix="/member")
bp.before_request(require_member)

PER_PAGE = 50
MAX_PAGE = 100_000
CHART_DAYS = 14
CHART_BRANDS = 6            # the brands that read most; the rest are summed as "Others"


@dataclass(frozen=True)
class Series:
    brand_name: str
    reads: tuple[int, ...]              # one count per day of the chart, oldest first


@dataclass(frozen=True)
class Chart:
    days: tuple[dt.date, ...]
    series: tuple[Series, ...]
    peak: int


def chart(daily: list[DailyReads], today: dt.date, days: int = CHART_DAYS) -> Chart:
    """Reads per brand per day for the last ``days`` days, the busiest brands first."""
    span = tuple(today - dt.timedelta(days=days - 1 - i) for i in range(days))
    index = {day: i for i, day in enumerate(span)}
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * days)
    for row in daily:
        if row.day in index:
            counts[row.brand_name][index[row.day]] += row.reads
    ranked = sorted(counts.items(), key=lambda item: (-sum(item[1]), item[0]))
    shown = [Series(name, tuple(reads)) for name, reads in ranked[:CHART_BRANDS]]
    rest = [reads for _, reads in ranked[CHART_BRANDS:]]
    if rest:
        shown.append(Series("Others", tuple(sum(day) for day in zip(*rest, strict=True))))
    peak = max((max(s.reads) for s in shown), default=0)
    return Chart(span, tuple(shown), peak)


@bp.get("/access")
def reads() -> str:
    vault = get_vault()
    consent = get_consent()
    merge_pending_reads()       # the reads the API's workers have spooled: all of them, now
    page = request.args.get("page", default=1, type=int) or 1
    page = min(max(page, 1), MAX_PAGE)
    log = access_log(ledger=consent.ledger, database=vault.data, clock=vault.clock)
    principal = consent.principal(g.member_id)
    listing = log.page(principal, page=page, per_page=PER_PAGE)
    today = dt.date(1970, 1, 1) + dt.timedelta(days=int(vault.clock()) // DAY)
    return render_template(
        "access.html", listing=listing, chart=chart(log.daily(principal), today),
        purposes=PURPOSE_BY_CODE, field_label=field_label)
