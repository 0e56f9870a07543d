"""The compliance console: what compliance officers check, without personal data; and, apart
from it, brand management for administrators (web/console_brands.py).

Default deny, in ``before_request``, per blueprint: an anonymous visitor is sent to the
sign-in page; a signed-in account without the blueprint's role gets a 403 page. This
blueprint's gate is :func:`require_officer` (the ``compliance`` role); the brand pages' is
:func:`require_administrator`. The two roles are kept apart: an administrator does not see the
officers' pages (the ledger, requests, reports, reveals, spam reports: what members did) and an
officer does not manage brands, so a stolen administrator session shows no member's records, and an
account holds only one of the roles (``vault/members.py``). A console blueprint picks one of
the two gates for every route it has; the matrix test (tests/functional/test_console_matrix.py)
holds every console route against every role. The role is read from the store on every
request (``vrmvault officer`` gives and takes it), so a revoked officer's open session loses
the console at once. Both roles need two-step sign-in on (``vrmvault officer grant`` refuses an
account without it, and turning it off is refused while a role is held); should one still be
without it (an officer made before this rule), the console stays closed to them until it is
on. Officers and administrators sign in on the ordinary sign-in page; their own member pages
stay theirs, and nothing here shows another member's pages or data.

What is shown is the webhook delivery record (GDPR Art. 19: brands told of withdrawals,
expiries and erasures), from the same queries as ``vrmvault webhooks attempts``: brands,
endpoint URLs, event types and ids, states, attempts and results. Outbox payloads hold only
pseudonyms, and they are not shown either. And whether brand reads reach the ledger in time:
how many wait in the workers' spools and for how long (``consent/spool.py``), a warning once
one has waited longer than the maximum merge delay. And how many spam reports on intent
offers wait for a decision (their queue: ``web/console_intents.py``).
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

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

from brand_gateway.intents_wiring import intent_service
from brand_gateway.storage import webhook_outbox
from brand_gateway.webhooks.outbox import STATUSES, outbox_count, outbox_entries, outbox_tallies
from compliance.reveals import MAX_REASON, MIN_REASON
from compliance.storage import reveal_service
from consent.spool import MAX_MERGE_DELAY
from vault.errors import MemberKeyMissingError, NotFoundError, ValidationError, VaultError
from vault.members import ADMINISTRATOR, COMPLIANCE

from .forms import FormSchema, form_data, load, member_words, text, whole_number_in_url
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


def page_query(takes: tuple[str, ...], *, most: int) -> tuple[dict[str, str], int]:
    """The query of a console page that takes ``takes`` (``page`` among them, a whole number
    from 1 to ``most``): each parameter given once and one the page takes, else a 400 page
    naming it, as the pages with a filter form answer (an ``overdue=yes`` was read as
    "every request", a ``page=abc`` as page 1)."""
    try:
        query = form_data(request.args)
    except ValidationError as exc:
        abort(400, description=f"This filter is not valid: {sorted(exc.errors)[0][:40]} is"
                               " given more than once.")
    unknown = sorted(set(query) - set(takes))
    if unknown:
        abort(400, description=f"This filter is not valid: {unknown[0][:40]} is not a"
                               f" parameter of this page (it takes {' and '.join(takes)}).")
    page = whole_number_in_url(query.get("page", "1"), most)
    if not page:
        abort(400, description=f"This filter is not valid: page must be a whole number from 1"
                               f" to {most}.")
    return query, page


def _staff_state() -> tuple[str | None, bool]:
    """The signed-in account's console role (``compliance``, ``administrator`` or ``None``)
    and whether it has two-step sign-in on; read once per request."""
    if "staff_state" not in g:
        member_id = current_member_id()
        try:
            members = get_vault().members
            role = members.role(member_id) if member_id is not None else None
            role = role if role in (COMPLIANCE, ADMINISTRATOR) else None
            g.staff_state = (role, role is not None
                             and members.has_second_factor(member_id or ""))
        except VaultError:          # e.g. while rendering the error page of a broken store
            g.staff_state = (None, False)
    state: tuple[str | None, bool] = g.staff_state
    return state


def is_compliance_officer() -> bool:
    """Whether the signed-in account may open the officers' console (for the navigation)."""
    return _staff_state() == (COMPLIANCE, True)


def is_administrator() -> bool:
    """Whether the signed-in account may manage brands (for the navigation)."""
    return _staff_state() == (ADMINISTRATOR, True)


@bp.app_context_processor
def navigation() -> dict[str, Any]:
    return {"is_compliance_officer": is_compliance_officer,
            "is_administrator": is_administrator}


_WHO = {COMPLIANCE: "compliance officers", ADMINISTRATOR: "administrators"}


def _require(role: str) -> Response | None:
    member_id = current_member_id()
    if member_id is None:
        if request.method == "GET":
            flash("Please sign in to see that page.", "error")
        return redirect(url_for("auth.login"))
    held, second_factor = _staff_state()
    if held != role:
        abort(403, description=f"This page is for {_WHO[role]} only.")
    if not second_factor:
        abort(403, description=f"{_WHO[role].capitalize()} need two-step sign-in. Turn it on"
                               " on your Security page, then come back.")
    return None


def require_officer() -> Response | None:
    """The gate of the officers' pages: signed in, ``compliance`` role, second factor on."""
    return _require(COMPLIANCE)


def require_administrator() -> Response | None:
    """The gate of the administrators' pages: signed in, ``administrator`` role, second
    factor on."""
    return _require(ADMINISTRATOR)


bp.before_request(require_officer)


@bp.get("/")
def overview() -> str:
    vault = get_vault()
    tallies = outbox_tallies(webhook_outbox(vault.data))
    totals = {status: sum(t.counts[status] for t in tallies) for status in STATUSES}
    # Looked at, not merged: the page shows whether the keeper keeps up on its own.
    backlog = spool_directory().backlog(get_consent().ledger)
    now = vault.clock()
    open_reports = intent_service(get_consent()).count_reports("open")
    return render_template("console.html", tallies=tallies, totals=totals, statuses=STATUSES,
                           open_reports=open_reports, backlog=backlog,
                           behind=backlog.behind(now),
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
    outbox = webhook_outbox(get_vault().data)
    total = outbox_count(outbox, client_id=client, status=status)
    entries = outbox_entries(outbox, client_id=client, status=status, limit=PER_PAGE,
                             offset=(page - 1) * PER_PAGE)
    return render_template(
        "console_webhooks.html", entries=entries, total=total, page=page,
        pages=max(1, math.ceil(total / PER_PAGE)), status=status, client=client,
        statuses=STATUSES, brands=[(t.client_id, t.brand_name)
                                   for t in outbox_tallies(outbox)])


# -- reveals (compliance/reveals.py) -----------------------------------------------------------
REVEALS_PER_PAGE = 50


class RevealForm(FormSchema):
    """The reveal form every console page showing pseudonyms may carry; ``next`` is where to
    go back to (a console path only)."""

    case = text("Case", max_length=200, required=True,
                empty="Enter the case: a request's id (dsr_…) or exposure: and a brand id.")
    principal = text("Member's pseudonym", max_length=100, required=True,
                     empty="Enter the member's pseudonym (member: and 32 hex digits).")
    reason = text("Why you need this member's identity for this case", max_length=4000,
                  shown_max=MAX_REASON, required=True,
                  empty=f"Write the reason, in {MIN_REASON} characters at least.")
    next = fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(max=2000))


def local_console_path(target: str | None) -> str | None:
    """``target`` if it is a path of this console (no scheme, host, backslash or control
    character: never an open redirect), else ``None``."""
    if not target or any(ch in target for ch in "\\\r\n\t") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not (parts.path + "/").startswith("/console/"):
        return None
    if ".." in parts.path.split("/"):
        return None
    return target


def officer_name(officer_id: str) -> str:
    """An officer as the console names who did what: the address, or why it cannot be shown
    (one unreadable address must not take the page down for every officer)."""
    try:
        return get_vault().members.get(officer_id).email
    except NotFoundError:
        return "an officer whose account was deleted since"
    except MemberKeyMissingError:
        return "an officer whose address cannot be opened (its key was lost in a restore)"


def _reveals_page(*, errors: dict[str, list[str]] | None = None,
                  values: dict[str, Any] | None = None, status: int = 200) -> tuple[str, int]:
    officer_id = current_member_id() or ""
    service = reveal_service(get_consent())
    _, page = page_query(("page",), most=MAX_PAGE)
    reveals = service.latest(officer_id, limit=REVEALS_PER_PAGE,
                             offset=(page - 1) * REVEALS_PER_PAGE)
    officers: dict[str, str] = {}
    mine: dict[str, dict[str, str]] = {}
    for reveal in reveals:
        if reveal.officer_id not in officers:
            officers[reveal.officer_id] = officer_name(reveal.officer_id)
        if reveal.officer_id == officer_id and reveal.case not in mine:
            mine[reveal.case] = service.revealed(officer_id=officer_id, case=reveal.case)
    total = service.count()
    return render_template(
        "console_reveals.html", reveals=reveals, officers=officers, mine=mine,
        me=officer_id, page=page, pages=max(1, math.ceil(total / REVEALS_PER_PAGE)),
        total=total, errors=errors or {}, values=values or {},
        min_reason=MIN_REASON), status


@bp.get("/reveals")
def reveals() -> tuple[str, int]:
    """Every reveal, newest first: who, when, which case and member (by pseudonym), the
    reason's digest; the officer's own reveals with the address shown, for their case."""
    return _reveals_page()


@bp.post("/reveal")
def reveal() -> Response | tuple[str, int]:
    submitted = form_data(request.form)
    try:
        fields_ = load(RevealForm(), submitted)
        reveal_service(get_consent()).reveal(
            officer_id=current_member_id() or "", case=fields_["case"],
            principal=fields_["principal"], reason=fields_["reason"])
    except ValidationError as exc:
        return _reveals_page(errors=member_words(RevealForm(), exc.errors), values=submitted,
                             status=422)
    except NotFoundError as exc:
        return _reveals_page(errors=member_words(RevealForm(), {"principal": [exc.message]}),
                             values=submitted, status=404)
    flash(f"Revealed for {fields_['case']}: the address is shown on that case's pages and"
          " under your reveals, and the reveal is in the ledger.", "success")
    return redirect(local_console_path(fields_.get("next")) or url_for(".reveals"))
