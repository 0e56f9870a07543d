"""Password reset pages: ask for a link, follow it, set a new password.

"Forgot your password?" answers every well-formed address with the same page and status: an
address with a vault is mailed a reset link, any other a short note that it has none, so each
request sends one message and tells the person at the keyboard nothing
(``vault/password_resets.py``). Requests are limited per address and per client. The link's
token is in the query string (left out of the access log) and goes back in the form's body; a
used, unknown or stale link gets a clear page. Setting the password ends every session of the
account; the member then signs in, with their second step if it is on.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from vault.email_addresses import NOT_DELIVERABLE_HERE
from vault.errors import (
    LinkExpiredError,
    MailError,
    RecipientNotSupportedError,
    ThrottledError,
    ValidationError,
)
from vault.password_resets import RESET_LINK_MINUTES

from .auth import MAIL_FAILED, _minutes, client_address, link_to
from .forms import EmailForm, NewPasswordForm, form_data, load, member_words
from .mailing import send_mail
from .sessions import current_member_id, end_session
from .vaults import get_vault

bp = Blueprint("recovery", __name__, url_prefix="/password")


@bp.route("/forgot", methods=["GET", "POST"])
def forgot() -> str | tuple[str, int] | tuple[str, int, dict[str, str]]:
    if request.method == "GET":
        return render_template("password_forgot.html", errors={}, values={})
    values = {"email": request.form.get("email", "")}
    vault = get_vault()
    try:
        fields = load(EmailForm(), form_data(request.form))
        outcome = vault.password_resets.request(fields["email"], client=client_address())
    except ValidationError as exc:
        return render_template("password_forgot.html", errors=exc.errors, values=values), 422
    except ThrottledError as exc:
        return render_template("password_forgot.html", values=values, errors={"form": [
            "Too many reset requests from here or for this address. Try again in"
            f" {_minutes(exc.retry_after)}."]}), 429, {"Retry-After": str(exc.retry_after)}
    try:
        if outcome.token is not None:
            send_mail(to=outcome.email, subject="Reset your vrmvault password",
                      template="reset_link", link=link_to("recovery.reset", outcome.token),
                      minutes=RESET_LINK_MINUTES)
        else:
            send_mail(to=outcome.email, subject="About your password reset request",
                      template="reset_unknown", signup=link_to("auth.signup"))
    except RecipientNotSupportedError:
        if outcome.token is not None:
            vault.password_resets.cancel(outcome.token)
        return render_template("password_forgot.html", values=values,
                               errors={"email": [NOT_DELIVERABLE_HERE]}), 422
    except MailError:
        if outcome.token is not None:
            vault.password_resets.cancel(outcome.token)
        return render_template("password_forgot.html", values=values,
                               errors={"form": [MAIL_FAILED]}), 503
    return render_template("password_forgot_sent.html",
                           minutes=RESET_LINK_MINUTES)


@bp.route("/reset", methods=["GET", "POST"])
def reset() -> str | Response | tuple[str, int]:
    resets = get_vault().password_resets
    if request.method == "GET":
        return _reset_page(request.args.get("token", ""), errors={})
    token = request.form.get("token", "")
    try:
        fields = load(NewPasswordForm(), form_data(request.form))
        token = fields["token"]
        member_id = resets.reset(token, fields["password"])
    except LinkExpiredError:
        return _expired()
    except ValidationError as exc:
        if "token" in exc.errors:
            return _expired()
        return _reset_page(token, errors=member_words(NewPasswordForm(), exc.errors),
                           status=422)
    if current_member_id() == member_id:
        end_session()              # this browser's session row is gone already
    flash("Your password is changed and you are signed out everywhere. Sign in with the new"
          " password.", "success")
    return redirect(url_for("auth.login"))


def _reset_page(token: str, *, errors: dict[str, list[str]], status: int = 200
                ) -> tuple[str, int]:
    """The form of a live link, naming its account for the browser's password manager."""
    vault = get_vault()
    try:
        member_id = vault.password_resets.member_for(token)
    except LinkExpiredError:
        return _expired()
    return render_template("password_reset.html", token=token, errors=errors,
                           email=vault.members.get(member_id).email), status


def _expired() -> tuple[str, int]:
    return render_template("link_expired.html", kind="reset", message=None), 410
