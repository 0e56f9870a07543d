"""The brand API, under ``/api/v1``: the member data a brand's token was authorized for.

Machine endpoints, not pages: no session, no CSRF token (``api`` is not in
``security.FORM_BLUEPRINTS``), nothing here reads or writes the session, so an API request never
makes a session row or sets a cookie. A brand authenticates every request with a bearer token
in the ``Authorization`` header only (RFC 6750 sec. 2.1): a token in the query string or a form
body is refused, since URLs end up in logs (RFC 6750 sec. 5.3, RFC 9700 sec. 4.3.2).

Errors are RFC 9457 problem details built by :func:`web.errors.problem`; those about the token
also carry the RFC 6750 sec. 3 challenge: ``WWW-Authenticate: Bearer realm="vrmvault"`` alone
when no token was sent, with ``error="invalid_token"`` (401) for an unknown, expired or revoked
token, ``error="insufficient_scope"`` (403) for a brand-level token on a member endpoint, and
``error="invalid_request"`` (400) for a token sent elsewhere. ``429`` carries ``Retry-After``.

Per member-data read: in one read snapshot of the data store, the token (token and family in
one join), the client, the policy (grants and terms) and whether the member's pairwise subject
was handed out, then one profile read that opens only the fields it may release; then the
rate count, from this worker's lease (:mod:`brand_gateway.rate_limits`), and the read committed
to this worker's access spool before the response leaves (:mod:`consent.spool`: merged into the
ledger, which indexes it for the member's "Who read what", within a second). A read writes
nothing to the data store (the subject's mapping once per member and brand, the first time) nor
to any file another worker writes, so no worker's page cache is dropped by another's reads.

Kept between requests: the connections (:mod:`web.vaults`); and, by each connection, the token,
client, policy and subject it read, only for as long as nothing at all has been committed to
the data store since, by anyone (``Database.memoized``): a withdrawal, revocation, narrowing or
erasure anywhere shows on the very next request, as before. The profile values are read (and
decrypted) every time, and nothing decrypted is kept. A client this worker refused for its rate
is remembered until its window ends (:class:`brand_gateway.rate_limits.SpentWindows`).

What the filtering means (withheld fields, whose feedback) is in
:mod:`brand_gateway.member_data`; the response shapes are in :mod:`web.api_schemas` and served
as OpenAPI 3.1 at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, request, url_for
from marshmallow import Schema
from marshmallow import ValidationError as SchemaError
from werkzeug.routing import BuildError

from brand_gateway.access_log import FEEDBACK, PROFILE
from brand_gateway.api_errors import (
    InvalidRequestError,
    InvalidTokenError,
    MissingTokenError,
    QueryError,
    RateLimitedError,
    ResourceError,
)
from brand_gateway.clients import ClientRegistry, ClientSecretHasher, OAuthClient
from brand_gateway.member_data import (
    FeedbackRelease,
    MemberAccess,
    ProfileRelease,
    PurposeAccess,
    delegated_member,
    member_access,
    release_feedback,
    release_profile,
)
from brand_gateway.oauth import issuer, public_url
from brand_gateway.pseudonyms import PairwisePseudonyms
from brand_gateway.rate_limits import Leases, RateLimiter, SpentWindows
from brand_gateway.tokens import AccessToken, TokenStore, token_hash
from consent.context import member_principal
from consent.events import Event, EventTag
from consent.vocabulary import PURPOSE_BY_CODE
from vault.feedback import FeedbackEntry
from vault.home import Vault

from .api_schemas import FeedbackQuery, MemberQuery, OpenApiQuery, ProfileQuery, openapi_document
from .errors import problem
from .vaults import get_consent, get_rate_counts, get_spool, get_vault

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)

REALM = "vrmvault"
TOKEN_PARAMETER = "access_token"
# RFC 6750 sec. 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# Characters RFC 6750 sec. 3 allows in error_description (printable ASCII less " and \).
_UNQUOTABLE = re.compile(r'[^\x20\x21\x23-\x5b\x5d-\x7e]')

_RATES = "vrmvault_api_rates"             # app.extensions: this process's _Rates
_MEMBER_QUERY = MemberQuery()
_PROFILE_QUERY = ProfileQuery()
_FEEDBACK_QUERY = FeedbackQuery()
_OPENAPI_QUERY = OpenApiQuery()
_DEFAULTS: dict[Schema, dict[str, Any]] = {}
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)   # one for all responses
R = TypeVar("R")


@dataclass(frozen=True)
class Caller:
    """A request's authenticated client and its active token."""

    token: AccessToken
    client: OAuthClient
    now: float
    vault: Vault            # the request's (web.vaults.get_vault)


# -- authentication -------------------------------------------------------------------------------
def _clock() -> Any:
    return current_app.extensions["vrmvault"].clock


def bearer_token() -> str:
    """The token of the ``Authorization: Bearer`` header; raises a :class:`ResourceError`."""
    environ = request.environ
    # The query and the body are parsed only if there are any (the common GET has neither).
    if (environ.get("QUERY_STRING") and TOKEN_PARAMETER in request.args) or (
            environ.get("CONTENT_TYPE")
            and request.mimetype == "application/x-www-form-urlencoded"
            and TOKEN_PARAMETER in request.form):
        raise InvalidRequestError("Send the access token in the Authorization header only, "
                                  "never in the URL or the body (RFC 6750 sec. 2.1).")
    header = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = header.strip().partition(" ")
    # RFC 6750 sec. 3.1: a request without our scheme "lacks any authentication information".
    if scheme.lower() != "bearer":
        raise MissingTokenError("Send an access token: Authorization: Bearer <token>.")
    credentials = credentials.strip()
    if not _B64TOKEN.fullmatch(credentials):
        raise InvalidRequestError("The Authorization header is malformed: "
                                  "Authorization: Bearer <token>.")
    return credentials


def authenticate(*, count: bool = True) -> Caller:
    """The caller of this request: an active token of an active client, within its rate.

    ``count=False``: authenticate only; the caller counts the request against the client's rate
    itself (the member-data reads, :func:`_read_as_caller`, count in the transaction that records
    the read). A request without a valid token is never counted (it has no client)."""
    token_string = bearer_token()
    vault = get_vault()
    data = vault.data
    clock = _clock()
    tokens = TokenStore(database=data, clock=clock)
    # Token and client as the store holds them now: remembered by the worker's connection
    # only while nothing at all has been committed since (vault.storage, Database.memoized).
    token = data.memoized(("access-token", token_hash(token_string)),
                          lambda: tokens.find(token_string))
    now = tokens.now()
    if token is None or not token.active(now):
        raise InvalidTokenError("The access token is unknown, expired or revoked.")
    client_id = token.client_id
    client = data.memoized(("oauth-client", client_id), lambda: ClientRegistry(
        database=data, clock=clock, hasher=ClientSecretHasher.from_master(vault.master)
    ).get(client_id))
    if not client.active:
        raise InvalidTokenError("The access token is unknown, expired or revoked.")
    if count:
        _limiter().hit(client.client_id)
    return Caller(token, client, now, vault)


@dataclass(frozen=True)
class _Rates:
    """This process's rate bookkeeping (made on first use in each process)."""

    spent: SpentWindows
    leases: Leases


def _rates(app: Any) -> _Rates:
    rates: _Rates | None = app.extensions.get(_RATES)
    if rates is None:
        rates = app.extensions.setdefault(_RATES, _Rates(SpentWindows(), Leases()))
    return rates


def _limiter() -> RateLimiter:
    # The counters are in rates.db: see brand_gateway.rate_limits for why.
    app = current_app._get_current_object()     # type: ignore[attr-defined]
    rates = _rates(app)
    return RateLimiter(database=get_rate_counts(), clock=app.extensions["vrmvault"].clock,
                       limit=app.config["VRMVAULT_API_RATE_LIMIT"], spent=rates.spent,
                       leases=rates.leases)


def _spent_windows() -> SpentWindows:
    return _rates(current_app).spent


def load_query(schema: Schema) -> dict[str, Any]:
    """The query string through ``schema``; :class:`QueryError` (400) naming each problem."""
    # Parsed only if there is a query string (the common GET has none).
    args = request.args if request.environ.get("QUERY_STRING") else None
    if args is not None:
        repeated = sorted(k for k in args if len(args.getlist(k)) > 1)
        if repeated:
            raise QueryError({k[:40]: ["Give this parameter once."] for k in repeated[:5]})
    try:
        return dict(schema.load(args.to_dict())) if args is not None else _defaults(schema)
    except SchemaError as exc:
        messages = exc.messages if isinstance(exc.messages, Mapping) else {"query": exc.messages}
        raise QueryError({str(k)[:40]: _strings(v) for k, v in list(messages.items())[:10]}
                         ) from None


def _defaults(schema: Schema) -> dict[str, Any]:
    """What ``schema`` loads from no parameters: the same every time, so loaded once per schema
    (a new dict each call; its values are immutable)."""
    loaded: dict[str, Any] | None = _DEFAULTS.get(schema)
    if loaded is None:
        loaded = _DEFAULTS[schema] = dict(schema.load({}))
    return dict(loaded)


def _strings(value: Any) -> list[str]:
    messages = value if isinstance(value, list | tuple) else [value]
    return ["Unknown parameter." if m == "Unknown field." else str(m) for m in messages]


# -- member data ----------------------------------------------------------------------------------
def _access(caller: Caller) -> MemberAccess:
    member_id = delegated_member(caller.token)
    brand_id = caller.client.brand_id
    policy = caller.vault.data.memoized(
        ("policy", member_id, brand_id),
        lambda: get_consent().decisions.policy(member_id, brand_id))
    return member_access(caller.token, policy, caller.now)


def _pseudonyms() -> PairwisePseudonyms:
    vault = get_vault()
    return PairwisePseudonyms.from_master(database=vault.data, master=vault.master)


def _subject(member_id: str, brand_id: str) -> str:
    return _pseudonyms().pairwise_id(member_id, brand_id)


@dataclass(frozen=True)
class _Names:
    """How a read names its member: ``principal`` in the ledger; ``subject`` to the brand, if
    it was handed out already (else ``None``: :func:`_record_read` records it)."""

    principal: str
    subject: str | None


def _names(caller: Caller, member_id: str) -> _Names:
    """Read inside the read phase's snapshot, where the memo costs no statement of its own."""
    vault, brand_id = caller.vault, caller.client.brand_id
    return _Names(
        vault.data.memoized(("principal", member_id),
                            lambda: member_principal(vault, member_id)),
        vault.data.memoized(("pairwise", member_id, brand_id),
                            lambda: _pseudonyms().recorded_id(member_id, brand_id)))


class _SpentError(Exception):
    """The client had spent its window before this request (refused before any reading)."""


def _read_as_caller(read: Callable[[Caller], R]) -> tuple[Caller, R]:
    """Authenticate, then ``read(caller)``, in one read snapshot of the data store: everything a
    decision uses is from one moment, at or after the request arrived (so a withdrawal committed
    before it is seen), and SQLite validates its page cache once instead of per statement.

    Nothing is written here: a read snapshot cannot take the write lock. The request is counted
    against the client's rate on every outcome after authentication, as :func:`authenticate`
    counts: here if the read fails (a 429 replaces the error once past the limit), else in
    :func:`_record_read`'s transaction. A client this process refused earlier in its window is
    refused again before anything is read (:class:`brand_gateway.rate_limits.SpentWindows`).
    """
    data = get_vault().data
    caller: Caller | None = None
    try:
        with data.snapshot():
            caller = authenticate(count=False)
            if _spent_windows().until(caller.client.client_id, int(caller.now)) is not None:
                raise _SpentError
            return caller, read(caller)
    except Exception as exc:
        if caller is None:
            raise
        allowance = _limiter().count(caller.client.client_id)
        if allowance.exceeded:
            raise allowance.refusal() from None
        if isinstance(exc, _SpentError):
            # The window ended between the look and the count: refused all the same (nothing
            # was read), and told to come back at once.
            raise RateLimitedError(retry_after=1, limit=allowance.limit) from None
        raise


def _record_read(caller: Caller, member_id: str, names: _Names, *, resource: str,
                 purpose: str, fields: Iterable[str], grant_ids: list[str], **extra: Any) -> str:
    """Count the request; within the client's rate, record the read (pseudonyms and names
    only, no values) in this process's access spool before the data leaves: a read that cannot
    be recorded is not served. The spool's reads reach the ledger, with the time they were
    served, within ``consent.spool.MAX_MERGE_DELAY`` (see there for why a spool, and what it
    guarantees). The member's pairwise subject for the response: the one the read phase found
    handed out already (``names``), else recorded now.

    Past the limit only the count is kept, and nothing is recorded or served (429). The data
    store is not written, except for the subject's mapping the first time this brand reads
    this member, after the entry (so only an id actually handed out resolves).
    """
    brand_id = caller.client.brand_id
    allowance = _limiter().count(caller.client.client_id)
    if allowance.exceeded:
        raise allowance.refusal()
    tag = EventTag.ACCESS_PROFILE_READ if resource == PROFILE else EventTag.ACCESS_FEEDBACK_READ
    details = {"member": names.principal, "client": caller.client.client_id,
               "purpose": purpose, "fields": list(fields), "grants": grant_ids, **extra}
    get_spool().append(Event(tag, "brand:" + brand_id, details), at=caller.now)
    return names.subject if names.subject is not None else _subject(member_id, brand_id)


def _json(body: dict[str, Any]) -> Response:
    return Response(_COMPACT.encode(body), mimetype="application/json")


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC).isoformat().replace("+00:00", "Z")


@bp.get("/member")
def member() -> Response:
    caller = authenticate()
    load_query(_MEMBER_QUERY)
    access = _access(caller)
    token = caller.token
    ends = min(t for t in (token.expires_at, token.family_expires_at) if t is not None)
    return _json({
        "subject": _subject(access.member_id, caller.client.brand_id),
        "authorizations": [
            {"purpose": p.purpose,
             "purpose_label": getattr(PURPOSE_BY_CODE.get(p.purpose), "label", p.purpose),
             "fields": list(p.allowed), "ends_at": _iso(p.ends_at)}
            for p in access.purposes.values()],
        "token_expires_at": _iso(ends),
    })


@bp.get("/member/profile")
def profile() -> Response:
    def read(caller: Caller) -> tuple[MemberAccess, PurposeAccess, ProfileRelease, _Names]:
        query = load_query(_PROFILE_QUERY)
        access = _access(caller)
        purpose = access.for_purpose(query.get("purpose"))
        profiles = caller.vault.profile
        release = release_profile(purpose, query.get("field_names"),
                                  lambda fields: profiles.read(access.member_id, fields))
        return access, purpose, release, _names(caller, access.member_id)

    caller, (access, purpose, release, names) = _read_as_caller(read)
    subject = _record_read(caller, access.member_id, names, resource=PROFILE,
                           purpose=purpose.purpose, fields=release.values,
                           grant_ids=release.grant_ids)
    return _json({"subject": subject, "purpose": purpose.purpose, "profile": release.values,
                  "withheld": list(release.withheld)})


@bp.get("/member/feedback")
def feedback() -> Response:
    def read(caller: Caller) -> tuple[MemberAccess, PurposeAccess, FeedbackRelease, int, int,
                                      _Names]:
        query = load_query(_FEEDBACK_QUERY)
        access = _access(caller)
        purpose = access.for_purpose(query.get("purpose"))
        journal = caller.vault.feedback
        limit, offset = query["limit"], query["offset"]
        return access, purpose, release_feedback(
            purpose, caller.client.brand_id, lambda: journal.for_member(access.member_id),
            limit=limit, offset=offset), limit, offset, _names(caller, access.member_id)

    caller, (access, purpose, release, limit, offset, names) = _read_as_caller(read)
    subject = _record_read(caller, access.member_id, names, resource=FEEDBACK,
                           purpose=purpose.purpose,
                           fields=[] if release.withheld else ["feedback"],
                           grant_ids=release.grant_ids, entries=len(release.entries))
    return _json({"subject": subject, "purpose": purpose.purpose,
                  "entries": [_entry(e) for e in release.entries], "total": release.total,
                  "next_offset": offset + limit if offset + limit < release.total else None,
                  "withheld": list(release.withheld)})


def _entry(entry: FeedbackEntry) -> dict[str, Any]:
    # No entry id: the vault's ids are global and sequential, and would tell a brand how much
    # feedback the vault holds; nothing else about the entry is left out.
    return {"touchpoint": entry.touchpoint, "rating": entry.rating, "nps": entry.nps,
            "occurred_on": entry.occurred_on, "comment": entry.comment}


# -- the OpenAPI document -------------------------------------------------------------------------
@bp.get("/openapi.json")
def openapi() -> Response:
    load_query(_OPENAPI_QUERY)
    base = issuer()
    try:
        authorization_url = public_url(url_for("authorize.authorize"))
    except BuildError:      # the authorization endpoint is not registered in this app
        authorization_url = base + "/oauth/authorize"
    body = _openapi_json(base + PREFIX, authorization_url, public_url(url_for("oauth.token")))
    return Response(body, mimetype="application/json")


@lru_cache(maxsize=8)
def _openapi_json(server: str, authorization_url: str, token_url: str) -> str:
    # Built once per host: the document depends only on the code and these URLs.
    return json.dumps(openapi_document(server=server, authorization_url=authorization_url,
                                       token_url=token_url))


# -- errors ---------------------------------------------------------------------------------------
@bp.errorhandler(ResourceError)
def resource_error(error: ResourceError) -> Response:
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if isinstance(error, MissingTokenError) or error.oauth_error:
        headers["WWW-Authenticate"] = challenge(error.oauth_error, error.message)
    if error.oauth_error:
        extra["error"] = error.oauth_error
    if isinstance(error, QueryError):
        extra["errors"] = error.errors
    if isinstance(error, RateLimitedError):
        headers["Retry-After"] = str(error.retry_after)
    return problem(error.status, error.title, error.message, type_=error.type, headers=headers,
                   **extra)


def challenge(error: str | None, description: str) -> str:
    """An RFC 6750 sec. 3 ``WWW-Authenticate`` value; no error code when none applies."""
    if error is None:
        return f'Bearer realm="{REALM}"'
    text = _UNQUOTABLE.sub("", description)
    return f'Bearer realm="{REALM}", error="{error}", error_description="{text}"'
