"""The authorization endpoint: a brand asks, the member decides (RFC 6749 sec. 4.1, RFC 9396).

``GET /oauth/authorize`` validates the brand's request with Authlib (client, exact redirect URI,
``response_type=code``, PKCE S256, ``authorization_details``), then:

- errors found before the redirect URI is known good are shown to the member as a page, never
  redirected (RFC 6749 sec. 4.1.2.1); later ones go back to the brand, with ``iss``;
- a member who is not signed in signs in (or signs up) first and comes back here (the request
  is kept in the server-side session, not in a ``next`` parameter);
- a request that breaks what the member may never be asked (:mod:`brand_gateway.first_contact`:
  a GPC opt-out, a term the brand will not agree) never reaches the consent screen: the member
  is told why and can only send the brand back an ``access_denied``;
- a request that needs only what the member may accept for this brand (a purpose not accepted
  yet, a longer grant, an IEEE 7012 term with the brand) first shows what, in plain words;
  accepting records it (agreement, terms for this brand, signed receipt) and comes back here;
- otherwise the consent screen: the brand, each purpose in plain language, each field (which the
  member can untick), the duration, retention and onward sharing.

``POST`` (same URL, CSRF-protected) carries the decision. Approval
(:func:`brand_gateway.approval.approve`) records, in one data-store transaction, the IEEE 7012
agreement where the brand accepts the member's proffered term as standing policy, then each
grant and its receipt through ``consent/``, then the token family and the authorization code;
only then is the member sent back to the brand with the code.

A page of the web app's (its templates, its session and sign-in), served through the stores
the app binds (:mod:`brand_gateway.request_stores`), never by importing the web package.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749.errors import AccessDeniedError, OAuth2Error
from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from consent.context import Consent
from consent.model import GivenFor
from consent.vocabulary import (
    AGREEMENT_BY_CODE,
    FIELD_CATEGORY,
    PURPOSE_BY_CODE,
    SENSITIVE_FIELDS,
    field_label,
)
from vault.errors import ConflictError, NotFoundError, ValidationError

from .approval import approve
from .authorizations import Family
from .clients import OAuthClient
from .errors import AuthorizationNotIssuedError
from .first_contact import Relaxation, assess, relax
from .oauth import Approval, authorization
from .rar import MemberDataDetail
from .request_stores import request_stores
from .storage import authorization_store

bp = Blueprint("authorize", __name__)

#: Session key of an authorization request waiting for the member to sign in, and of the name
#: of the brand that sent it.
NEXT_KEY = "authorize_next"
NEXT_BRAND_KEY = "authorize_next_brand"
#: Session key of the consent screen last shown, so each showing is answered once.
SCREEN_KEY = "authorize_screen"
PATH = "/oauth/authorize"


def _consent() -> Consent:
    return request_stores().consent()


def pending_authorization() -> str | None:
    """The authorization request to return to after sign-in, if one is waiting."""
    target = session.get(NEXT_KEY)
    if isinstance(target, str) and target.startswith(PATH + "?"):
        return target
    return None


def pending_brand() -> str | None:
    """The name of the brand whose authorization request waits in this browser, if one does."""
    name = session.get(NEXT_BRAND_KEY)
    return name if isinstance(name, str) and pending_authorization() else None


@bp.route(PATH, methods=["GET", "POST"])
def authorize() -> Any:
    try:
        grant = authorization.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        if error.redirect_uri:
            return authorization.handle_error_response(request, error)
        # No trusted place to send the error: tell the member, not an unknown address.
        return render_template("authorize_error.html", error=error), 400
    member_id = request_stores().signed_in_member()
    client: OAuthClient = grant.client.record
    if member_id is None:
        session[NEXT_KEY] = request.full_path
        session[NEXT_BRAND_KEY] = client.brand_name
        flash(f"Sign in, or create a vault, to answer the request from {client.brand_name}.",
              "success")
        return redirect(url_for("auth.login"))
    session.pop(NEXT_KEY, None)
    session.pop(NEXT_BRAND_KEY, None)
    details: tuple[MemberDataDetail, ...] = grant.request.authorization_details
    consent = _consent()
    agreement = consent.agreements.in_force(member_id, client.brand_id)
    # A brand that accepts the member's proffered term as standing policy agrees on approval.
    assessment = assess(consent, client, member_id, details)
    new_term = assessment.new_term
    if assessment.absolute:
        denied = authorization.handle_error_response(request, _denied(grant, "refused"))
        return render_template("authorize_refused.html", client=client,
                               reasons=assessment.absolute,
                               back=denied.headers["Location"]), 403
    if request.method == "POST":
        # One answer per showing of the screen: a double submit cannot grant twice.
        shown = session.pop(SCREEN_KEY, None)
        if not shown or request.form.get("screen") != shown:
            flash("That request was already answered. If the brand asks again, answer here.",
                  "error")
            return redirect(url_for("consents.overview"))
        if assessment.relaxation is not None:
            return _relax(grant, client, member_id, assessment.relaxation)
        return _decide(grant, client, member_id, details, new_term)
    if assessment.relaxation is not None:
        return _terms_screen(grant, client, assessment.relaxation, errors={})
    return _screen(grant, client, details, new_term or (agreement.agreed if agreement else None),
                   errors={})


def _relax(grant: Any, client: OAuthClient, member_id: str, relaxation: Relaxation) -> Any:
    """The answer to the terms screen: refuse, or accept for this brand and come back."""
    decision = request.form.get("decision")
    if decision == "refuse":
        return authorization.handle_error_response(request, _denied(grant, "refused"))
    if decision != "accept-terms":
        # An Allow posted past the terms screen (a stale or crafted form) grants nothing.
        return _terms_screen(grant, client, relaxation, status=409, errors={"form": [
            f"First accept or refuse what the request from {client.brand_name} needs of your"
            " terms."]})
    if request.form.get("terms") != relaxation.fingerprint:
        return _terms_screen(grant, client, relaxation, status=409, errors={"form": [
            "What this request needs changed meanwhile: read it again, then answer."]})
    vault = request_stores().vault()
    try:
        with vault.data.transaction():
            relax(_consent(), member_id, relaxation)
    except (ValidationError, ConflictError, NotFoundError):
        return _terms_screen(grant, client, relaxation, status=409, errors={"form": [
            "Your terms or this brand's offers changed meanwhile; reload and try again."]})
    flash(f"Accepted for {client.brand_name} only, with a signed receipt on your Sharing page. "
          "Now choose what to share.", "success")
    return redirect(request.full_path)


def _terms_screen(grant: Any, client: OAuthClient, relaxation: Relaxation, *,
                  errors: dict[str, list[str]], status: int = 200) -> Response:
    screen = session[SCREEN_KEY] = secrets.token_urlsafe(16)
    html = render_template("authorize_terms.html", client=client, relaxation=relaxation,
                           errors=errors, action=request.full_path, screen=screen)
    return _form_action_to_brand(Response(html, status=status), grant)


def _denied(grant: Any, why: str) -> AccessDeniedError:
    error = AccessDeniedError(redirect_uri=grant.redirect_uri,
                              description=f"The member {why} the request.")
    error.state = grant.request.payload.state
    return error


def _screen(grant: Any, client: OAuthClient, details: tuple[MemberDataDetail, ...],
            term: str | None, *, errors: dict[str, list[str]], status: int = 200,
            ticked: dict[int, set[str]] | None = None) -> Response:
    now = request_stores().vault().clock()
    grants = _consent().grants
    items = []
    for index, detail in enumerate(details):
        purpose = PURPOSE_BY_CODE[detail.purpose]
        until = dt.datetime.fromtimestamp(now + detail.duration_days * 86_400, dt.UTC)
        items.append({
            "index": index, "purpose": purpose, "detail": detail, "until": until,
            # First shown, every field asked is ticked but the sensitive ones (GDPR Art. 9):
            # each of those is shared only if the member ticks it.
            "fields": [(f, field_label(f), f in SENSITIVE_FIELDS,
                        f not in SENSITIVE_FIELDS if ticked is None
                        else f in ticked.get(index, set())) for f in detail.fields],
            "asks_sensitive": any(f in SENSITIVE_FIELDS for f in detail.fields),
            # Allowing replaces what the brand's asking holds now for this purpose: say what,
            # first. What a community membership or a care case holds stays beside it.
            "replaces": [{"fields": [field_label(f) for f in
                                     sorted(g.covered, key=list(FIELD_CATEGORY).index)],
                          "until": dt.datetime.fromtimestamp(g.ends_at, dt.UTC)}
                         for g in grants.replaced_by_new(request_stores().signed_in_member() or "",
                                                         client.brand_id, detail.purpose,
                                                         given_for=GivenFor.BRAND, now=now)],
        })
    screen = session[SCREEN_KEY] = secrets.token_urlsafe(16)
    html = render_template("authorize.html", client=client, items=items, errors=errors,
                           term=AGREEMENT_BY_CODE.get(term or ""), action=request.full_path,
                           screen=screen)
    return _form_action_to_brand(Response(html, status=status), grant)


def _form_action_to_brand(response: Response, grant: Any) -> Response:
    # The approval's answer is a redirect to the brand: let the form go there (CSP form-action
    # also governs where a submitted form may be redirected).
    target = urlsplit(grant.redirect_uri)
    origin = f"{target.scheme}://{target.netloc}"
    response.headers["Content-Security-Policy"] = request_stores().page_policy.replace(
        "form-action 'self'", f"form-action 'self' {origin}")
    return response


def _decide(grant: Any, client: OAuthClient, member_id: str,
            details: tuple[MemberDataDetail, ...], new_term: str | None) -> Any:
    decision = request.form.get("decision")
    if decision == "refuse":
        return authorization.handle_error_response(request, _denied(grant, "refused"))
    if decision != "approve":
        return _screen(grant, client, details, new_term, status=422,
                       errors={"form": ["Choose Allow or Refuse."]})
    ticked: dict[int, set[str]] = {}
    for index, detail in enumerate(details):
        chosen = set(request.form.getlist(f"fields-{index}"))
        if not chosen <= set(detail.fields):
            return _screen(grant, client, details, new_term, status=422,
                           errors={"form": ["Only the fields asked for can be shared."]})
        ticked[index] = chosen
    if not any(ticked.values()):
        return _screen(grant, client, details, new_term, status=422, ticked=ticked,
                       errors={"form": ["Tick at least one field to share, or choose Refuse."]})
    vault = request_stores().vault()

    def issue_code(family: Family) -> Any:
        response = authorization.create_authorization_response(
            grant=grant, grant_user=Approval(member_id, family))
        if response.status_code != 302 or "code=" not in response.headers["Location"]:
            raise AuthorizationNotIssuedError(response)
        return response

    try:
        return approve(database=vault.data, consent=_consent(),
                       authorizations=authorization_store(database=vault.data, clock=vault.clock),
                       client=client, member_id=member_id, details=details, ticked=ticked,
                       new_term=new_term, issue_code=issue_code)
    except AuthorizationNotIssuedError as failed:
        return failed.response
    except (ValidationError, ConflictError) as exc:
        message = exc.message if isinstance(exc, ConflictError) else \
            "Your terms or this brand changed meanwhile; reload and try again."
        return _screen(grant, client, details, new_term, status=409,
                       errors={"form": [message]})



