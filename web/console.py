"""The compliance console: what compliance officers check, without personal data.

Default deny, in ``before_request``: an anonymous visitor is sent to the sign-in page, a
signed-in account without the ``compliance`` role gets a 403 page. The role is read from the
store on every request (``vrmvault officer`` gives and takes it), so a revoked officer's open
session loses the console at once. An officer must have two-step sign-in on (``vrmvault officer
grant`` refuses an account without it, and turning it off is refused while the role is held);
should one still be without it (an officer made before this rule), the console stays closed
to them until it is on. Officers sign in on the ordinary sign-in page; their own member pages
stay theirs, and nothing here shows another member's pages or data.

What is shown is the webhook delivery record (GDPR Art. 19: brands told of withdrawals,
expiries and erasures), from the same queries as ``vrmvault webhooks attempts``: brands,
endpoint URLs, event types and ids, states, attempts and results. Outbox payloads hold only
pseudonyms, and they are not shown either. And whether brand reads reach the ledger in time:
how many wait in the workers' spools and for how long (``consent/spool.py``), a warning once
one has waited longer than the maximum merge delay.
"""

from __future__ import annotations

import math
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from marshmallow import ValidationError as SchemaError
from marshmallow import fields, validate
from werkzeug.wrappers import Response

from brand_gateway.webhooks.outbox import STATUSES, outbox_count, outbox_entries, outbox_tallies
from brand_gateway.webhooks.sqlcipher import SqlcipherWebhookOutbox
from consent.spool import MAX_MERGE_DELAY
from vault.errors import ValidationError, VaultError
from vault.members import COMPLIANCE

from .forms import FormSchema, form_data
from .sessions import current_member_id
from .vaults import get_consent, get_vault, spool_directory

bp = Blueprint("console", __name__, url_prefix="/console")

PER_PAGE = 50
MAX_PAGE = 100_000


_STATUS_EXPECTED = f"must be {', '.join(STATUSES[:-1])} or {STATUSES[-1]} (or blank for any)"
_PAGE_EXPECTED = f"must be a whole number from 1 to {MAX_PAGE}"


class WebhookFilter(FormSchema):
    """The query of ``/console/webhooks``; blank means "any". Its messages follow the
    parameter's name (the officer may have typed the URL): "page must be a whole number…"."""

    status = fields.String(allow_none=True, validate=validate.OneOf(
        STATUSES, error=_STATUS_EXPECTED), error_messages={"invalid": _STATUS_EXPECTED})
    client = fields.String(allow_none=True, validate=validate.Length(
        max=100, error="must be a client id of at most 100 characters"))
    page = fields.Integer(load_default=1, allow_none=True, strict=False,
                          validate=validate.Range(1, MAX_PAGE, error=_PAGE_EXPECTED),
                          error_messages={"invalid": _PAGE_EXPECTED,
                                          "too_large": _PAGE_EXPECTED})


def _filter_problems(errors: dict[str, Any]) -> str:
    """Each refused parameter by its name (cut short, escaped by Jinja; a few at most)."""
    taken = list(WebhookFilter().fields)
    takes = f"{', '.join(taken[:-1])} and {taken[-1]}"
    problems = []
    for name, messages in sorted(errors.items())[:5]:
        name = str(name)[:40]
        if name not in taken:
            problems.append(f"{name} is not a parameter of this page (it takes {takes})")
        elif "Send this field once." in messages:
            problems.append(f"{name} is given more than once")
        else:
            problems.append(f"{name} {' '.join(messages)}")
    return "; ".join(problems)


def _officer_state() -> tuple[bool, bool]:
    """Whether the signed-in account has the compliance role, and two-step sign-in on."""
    if "officer_state" not in g:
        member_id = current_member_id()
        try:
            members = get_vault().members
            role = member_id is not None and members.role(member_id) == COMPLIANCE
            g.officer_state = (role, role and members.has_second_factor(member_id or ""))
        except VaultError:          # e.g. while rendering the error page of a broken store
            g.officer_state = (False, False)
    state: tuple[bool, bool] = g.officer_state
    return state


def is_compliance_officer() -> bool:
    """Whether the signed-in account may open the console (for the navigation)."""
    role, second_factor = _officer_state()
    return role and second_factor


@bp.app_context_processor
def navigation() -> dict[str, Any]:
    return {"is_compliance_officer": is_compliance_officer}


@bp.before_request
def require_officer() -> Response | None:
    member_id = current_member_id()
    if member_id is None:
        if request.method == "GET":
            flash("Please sign in to see that page.", "error")
        return redirect(url_for("auth.login"))
    role, second_factor = _officer_state()
    if not role:
        abort(403, description="This page is for compliance officers only.")
    if not second_factor:
        abort(403, description="Compliance officers need two-step sign-in. Turn it on on your"
                               " Security page, then come back.")
    return None


@bp.get("/")
def overview() -> str:
    vault = get_vault()
    tallies = outbox_tallies(SqlcipherWebhookOutbox(vault.data))
    totals = {status: sum(t.counts[status] for t in tallies) for status in STATUSES}
    # Looked at, not merged: the page shows whether the keeper keeps up on its own.
    backlog = spool_directory().backlog(get_consent().ledger)
    now = vault.clock()
    return render_template("console.html", tallies=tallies, totals=totals, statuses=STATUSES,
                           backlog=backlog, behind=backlog.behind(now),
                           waited=None if backlog.oldest_at is None else now - backlog.oldest_at,
                           max_delay=MAX_MERGE_DELAY)


@bp.get("/webhooks")
def webhooks() -> str:
    try:
        query = WebhookFilter().load(form_data(request.args))
    except ValidationError as exc:            # a parameter given more than once
        abort(400, description=f"This filter is not valid: {_filter_problems(exc.errors)}.")
    except SchemaError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {}
        abort(400, description=f"This filter is not valid: {_filter_problems(errors)}.")
    status, client, page = query.get("status"), query.get("client"), query.get("page") or 1
    outbox = SqlcipherWebhookOutbox(get_vault().data)
    total = outbox_count(outbox, client_id=client, status=status)
    entries = outbox_entries(outbox, client_id=client, status=status, limit=PER_PAGE,
                             offset=(page - 1) * PER_PAGE)
    return render_template(
        "console_webhooks.html", entries=entries, total=total, page=page,
        pages=max(1, math.ceil(total / PER_PAGE)), status=status, client=client,
        statuses=STATUSES, brands=[(t.client_id, t.brand_name)
                                   for t in outbox_tallies(outbox)])
