"""Brand management in the console, for administrators: what ``vrmvault brand`` does from the
command line (web/brand_cli.py), over the same services: register a brand as an OAuth client,
list the clients, rotate a client's secret, disable a client.

Only administrators (the ``administrator`` role with two-step sign-in, :func:`web.console.
require_administrator`, read on every request); compliance officers do not manage brands.
Every form carries the session's CSRF token (the blueprint is one of
``web.security.FORM_BLUEPRINTS``) and shows its errors next to its fields.

A client secret exists in clear only in the answer to the ``POST`` that created or rotated it:
shown once on that page (never in a URL, a redirect, a flash message or a log; every answer is
``Cache-Control: no-store``), as ``vrmvault brand create`` prints it once. Disabling records the
end of every authorization the client held (receipts, ledger entries, webhooks) as the command
does.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from brand_gateway.clients import CLIENT_SCOPES, ClientRegistry, ClientSecretHasher
from brand_gateway.observers import family_end_hook
from brand_gateway.storage import client_registry
from consent.event_details import ClientDisabled, ClientSecretRotated
from consent.events import EventDetails
from consent.vocabulary import AGREEMENT_BY_CODE, DEFAULT_AGREEMENT
from vault.brands import MAX_NAME
from vault.errors import ConflictError, ValidationError

from .console import require_administrator
from .forms import FormSchema, form_data, load, member_words, text, ticks
from .sessions import current_member_id
from .vaults import get_consent, get_vault

bp = Blueprint("console_brands", __name__, url_prefix="/console/brands")
bp.before_request(require_administrator)

MULTI = frozenset({"scopes", "accepts"})


class BrandForm(FormSchema):
    """A new brand: the fields of ``vrmvault brand create``."""

    name = text("Brand name", max_length=4 * MAX_NAME, shown_max=MAX_NAME, required=True,
                empty="Enter the brand's name.")
    redirect_uris = text("Redirect URIs, one per line", max_length=25_000, required=True,
                         empty="Enter at least one redirect URI (https, or http on a loopback"
                               " host).")
    categories = text("Categories, separated by spaces or commas", max_length=2_000,
                      load_default="", allow_none=True)
    scopes = ticks("Brand-level scopes", most=len(CLIENT_SCOPES), load_default=list)
    accepts = ticks("IEEE 7012 terms the brand accepts", most=len(AGREEMENT_BY_CODE),
                    load_default=list)


def _registry() -> ClientRegistry:
    vault = get_vault()
    return client_registry(database=vault.data, clock=vault.clock,
                           hasher=ClientSecretHasher.from_master(vault.master))


def _record(details: EventDetails) -> None:
    """A change to a client, in the ledger: by the administrator who made it (pseudonym)."""
    administrator = current_member_id()
    assert administrator is not None            # the blueprint admits administrators only
    consent = get_consent()
    consent.ledger.record_event(actor=consent.principal(administrator), details=details)


def _index(*, errors: dict[str, list[str]] | None = None, values: dict[str, Any] | None = None,
           status: int = 200) -> tuple[str, int]:
    return render_template(
        "console_brands.html", clients=_registry().list(), scopes=CLIENT_SCOPES,
        agreements=list(AGREEMENT_BY_CODE.values()), default_agreement=DEFAULT_AGREEMENT,
        max_name=MAX_NAME,
        errors=errors or {}, values=values or {"scopes": list(CLIENT_SCOPES),
                                               "accepts": [DEFAULT_AGREEMENT]}), status


@bp.get("/")
def index() -> tuple[str, int]:
    return _index()


@bp.post("/")
def create() -> tuple[str, int]:
    # What was typed, shown again if the form itself is refused (a field sent twice).
    submitted: dict[str, Any] = {
        name: request.form.getlist(name) if name in MULTI else request.form.get(name)
        for name in BrandForm().fields}
    try:
        submitted = form_data(request.form, multi=MULTI)
        fields = load(BrandForm(), submitted)
        uris = [line.strip() for line in (fields["redirect_uris"] or "").splitlines()
                if line.strip()]
        categories = [c for c in (fields.get("categories") or "").replace(",", " ").split()]
        client, secret = _registry().create(
            fields["name"], uris, categories, scopes=fields["scopes"],
            accepts=fields["accepts"] or (DEFAULT_AGREEMENT,))
    except ValidationError as exc:
        return _index(errors=member_words(BrandForm(), exc.errors), values=submitted,
                      status=422)
    except ConflictError:                       # the name is taken
        return _index(errors=member_words(BrandForm(), {"name": [
            "A brand of that name is registered already; choose another name."]}),
            values=submitted, status=409)
    return render_template("console_brand_secret.html", client=client, secret=secret,
                           created=True), 201


@bp.post("/<client_id>/rotate-secret")
def rotate_secret(client_id: str) -> str:
    registry = _registry()
    registry.get(client_id)                    # 404 for an unknown client
    secret = registry.rotate_secret(client_id)
    client = registry.get(client_id)
    _record(ClientSecretRotated(client=client_id, brand=client.brand_id,
                                rotated_at=client.secret_rotated_at))
    return render_template("console_brand_secret.html", client=client, secret=secret,
                           created=False)


@bp.post("/<client_id>/disable")
def disable(client_id: str) -> Response:
    registry = _registry()
    known = registry.get(client_id)
    if not known.active:
        flash(f"{known.brand_name} was disabled already; nothing changed.", "info")
        return redirect(url_for(".index"))
    consent = get_consent()                     # its grant observer queues the webhooks
    registry.disable(client_id, on_end=family_end_hook(consent.grants, get_vault().data))
    _record(ClientDisabled(client=client_id, brand=known.brand_id))
    flash(f"Disabled {known.brand_name}: its client can no longer authenticate, and every"
          " authorization it held has ended.", "success")
    return redirect(url_for(".index"))
