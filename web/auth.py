"""Sign-up (verified by mail), sign-in (with the optional TOTP step) and sign-out for members.

Sign-up never tells whether an address has a vault: every well-formed submission gets the same
"check your inbox" page, status and (one argon2 hash either way) timing; a new address is mailed
a link that makes the account, an address with a vault is mailed a notice (``vault/signups.py``).
The link's token travels in the query string, which the access log leaves out
(``web/server.py``), and is posted back from a confirmation page, so a mail scanner that
fetches links cannot spend it or be signed in by it.

A successful sign-in gives the browser a device cookie (``vault/devices.py``); sign-ins from
it are exempt from the locks a stranger can cause. A member coming from a brand's authorization
request returns to it after sign-in, and after following the sign-up link in the same browser.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from brand_gateway.authorization_endpoint import pending_authorization, pending_brand
from vault.devices import LIFETIME as DEVICE_COOKIE_LIFETIME
from vault.email_addresses import NOT_DELIVERABLE_HERE
from vault.errors import (
    AuthenticationError,
    ConflictError,
    LinkExpiredError,
    MailError,
    MemberKeyLostError,
    RecipientNotSupportedError,
    SecondFactorRequiredError,
    ThrottledError,
    ValidationError,
)
from vault.recovery_codes import looks_like_recovery_code
from vault.signups import SIGNUP_LINK_MINUTES

from .communities import pending_community
from .forms import (
    CODE_UNCHECKABLE,
    WRONG_CODE,
    WRONG_RECOVERY_CODE,
    CodeForm,
    LinkForm,
    LoginForm,
    SignupForm,
    check_signup,
    form_data,
    load,
    member_words,
)
from .mailing import send_mail
from .sessions import (
    ACCOUNT_DELETED,
    SECURE_COOKIE,
    begin_member_session,
    cookie_name,
    current_member_id,
    end_session,
)
from .vaults import get_vault

bp = Blueprint("auth", __name__)

PENDING_KEY = "pending_member"
PENDING_AT = "pending_at"
PENDING_SECONDS = 300
DEVICE_COOKIE = "vrmvault_device"
SECURE_DEVICE_COOKIE = "__Host-vrmvault_device"
MAIL_FAILED = ("We could not send the mail just now, so nothing was changed. Please try again"
               " in a few minutes.")
LOGIN_FIELDS = ("email", "password")


def client_address() -> str:
    return request.remote_addr or "unknown"


def device_cookie_name() -> str:
    return SECURE_DEVICE_COOKIE if cookie_name(request) == SECURE_COOKIE else DEVICE_COOKIE


def device_cookie() -> str | None:
    return request.cookies.get(device_cookie_name())


def link_to(endpoint: str, token: str | None = None) -> str:
    """An absolute link for a mail, on the vault's public base URL (``VRMVAULT_PUBLIC_URL``)
    and never on the request's Host header: a reset requested with a forged
    Host must not mail its owner a link to someone else's server ("reset poisoning"). Without
    that setting, the request's host (which the host check then limits)."""
    path = url_for(endpoint, token=token) if token else url_for(endpoint)
    base = current_app.config.get("VRMVAULT_PUBLIC_URL")
    if base:
        return str(base).rstrip("/") + path
    return url_for(endpoint, token=token, _external=True) if token else \
        url_for(endpoint, _external=True)


@bp.get("/")
def home() -> str | Response:
    if current_member_id():
        return redirect(url_for("member.dashboard"))
    return render_template("home.html")


@bp.get("/account-deleted")
def account_deleted() -> str | Response:
    """Where a deletion lands: said once, to the browser that deleted the account."""
    if not session.pop(ACCOUNT_DELETED, False):
        return redirect(url_for("auth.home"))
    return render_template("deleted.html")


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    if request.method == "GET":
        return render_template("signup.html", errors={}, values={})
    values = {"email": request.form.get("email", "")}
    vault = get_vault()
    try:
        fields = load(SignupForm(), form_data(request.form), check=check_signup)
        outcome = vault.signups.request(fields["email"], fields["password"],
                                        client=client_address())
    except ValidationError as exc:
        return render_template("signup.html", errors=member_words(SignupForm(), exc.errors),
                               values=values), 422
    except ThrottledError as exc:
        return render_template("signup.html", values=values, errors={"form": [
            "Too many sign-ups from here or for this address. Try again in"
            f" {_minutes(exc.retry_after)}."]}), 429, {"Retry-After": str(exc.retry_after)}
    try:
        if outcome.token is not None:
            send_mail(to=outcome.email, subject="Confirm your address to open your vault",
                      template="signup_verify", link=link_to("auth.verify_signup",
                                                             outcome.token),
                      minutes=SIGNUP_LINK_MINUTES)
        else:
            send_mail(to=outcome.email, subject="Someone tried to sign up with your address",
                      template="signup_exists", login=link_to("auth.login"),
                      reset=link_to("recovery.forgot"))
    except RecipientNotSupportedError:
        if outcome.token is not None:
            vault.signups.cancel(outcome.token)
        return render_template("signup.html", values=values, errors=member_words(
            SignupForm(), {"email": [NOT_DELIVERABLE_HERE]})), 422
    except MailError:
        if outcome.token is not None:
            vault.signups.cancel(outcome.token)
        return render_template("signup.html", values=values,
                               errors={"form": [MAIL_FAILED]}), 503
    # The link may open in another browser (a phone's mail app): a brand's request waits in
    # this one's session, and is answered here once signed in.
    return render_template("signup_sent.html", minutes=SIGNUP_LINK_MINUTES,
                           waiting=pending_brand())


@bp.route("/signup/verify", methods=["GET", "POST"])
def verify_signup() -> str | Response | tuple[str, int]:
    vault = get_vault()
    if request.method == "GET":
        token = request.args.get("token", "")
        if not vault.signups.is_pending(token):
            return _link_expired("signup")
        return render_template("signup_verify.html", token=token)
    try:
        token = load(LinkForm(), form_data(request.form))["token"]
        member_id = vault.signups.complete(token)
    except (ValidationError, LinkExpiredError):
        return _link_expired("signup")
    except ConflictError as exc:
        return render_template("link_expired.html", kind="signup", message=exc.message), 409
    response = _signed_in(member_id)     # a fresh session: flash into it, not the old one
    flash("Your address is confirmed and your vault is ready. Nothing is shared with anyone"
          " until you say so.", "success")
    return response


def _link_expired(kind: str) -> tuple[str, int]:
    return render_template("link_expired.html", kind=kind, message=None), 410


def _minutes(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    if request.method == "GET":
        return render_template("login.html", errors={}, values={})
    values = {"email": request.form.get("email", "")}
    try:
        fields = load(LoginForm(), form_data(request.form))
    except ValidationError as exc:
        # A field left blank is said next to it; anything else about the values is only ever
        # "wrong", like a wrong password, below.
        blank = member_words(LoginForm(), {
            name: messages for name, messages in exc.errors.items()
            if name in LOGIN_FIELDS and not request.form.get(name)})
        if blank:
            return render_template("login.html", values=values, errors=blank), 422
        fields = {}
    try:
        if not fields:
            raise AuthenticationError()
        member_id = get_vault().members.authenticate(fields["email"], fields["password"],
                                                     client=client_address(),
                                                     device=device_cookie())
    except SecondFactorRequiredError as exc:
        session[PENDING_KEY] = exc.member_id
        session[PENDING_AT] = get_vault().sessions.now()
        return redirect(url_for("auth.login_code"))
    except (ValidationError, AuthenticationError):
        return render_template("login.html", values=values, errors={
            "form": ["Wrong e-mail address or password."]}), 401
    except ThrottledError as exc:
        return render_template("login.html", values=values, errors={"form": [exc.message]}), \
            429, {"Retry-After": str(exc.retry_after)}
    return _signed_in(member_id)


def _signed_in(member_id: str) -> Response:
    """Start the member's session and mark this browser as one of theirs (a new device
    cookie); back to a brand's waiting authorization request, if any."""
    target = pending_authorization() or pending_community()
    begin_member_session(member_id)
    response = redirect(target or url_for("member.dashboard"))
    name = device_cookie_name()
    response.set_cookie(name, get_vault().members.device_cookie(member_id),
                        max_age=DEVICE_COOKIE_LIFETIME, path="/",
                        secure=name == SECURE_DEVICE_COOKIE, httponly=True, samesite="Strict")
    return response


@bp.route("/login/code", methods=["GET", "POST"])
def login_code() -> str | Response | tuple[str, int]:
    pending = session.get(PENDING_KEY)
    started = session.get(PENDING_AT, 0)
    if not pending or get_vault().sessions.now() - started > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        flash("Please sign in again.", "error")
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return render_template("login_code.html", errors={})
    members = get_vault().members
    try:
        fields = load(CodeForm(), form_data(request.form))
    except ValidationError as exc:
        return render_template("login_code.html", errors=exc.errors), 422
    try:
        used = members.verify_totp(pending, fields["code"], client=client_address(),
                                   device=device_cookie())
    except (ValidationError, AuthenticationError):
        wrong = WRONG_RECOVERY_CODE if looks_like_recovery_code(fields["code"]) else WRONG_CODE
        return render_template("login_code.html", errors=member_words(
            CodeForm(), {"code": [wrong]})), 401
    except ThrottledError as exc:
        return render_template("login_code.html",
                               errors=member_words(CodeForm(), {"code": [exc.message]})), 429, \
            {"Retry-After": str(exc.retry_after)}
    except MemberKeyLostError:
        # A recovery code still signs in, and then the member can delete their account.
        return render_template("login_code.html", errors=member_words(
            CodeForm(), {"code": [CODE_UNCHECKABLE]})), 503
    response = _signed_in(pending)
    if used == "recovery":
        left = members.recovery_codes.remaining(pending)
        flash(f"You used a recovery code; {left} left. Make new ones on the Security page"
              " if you have lost your authenticator app.", "success")
    return response


@bp.post("/logout")
def logout() -> Response:
    end_session()
    flash("You are signed out.", "success")
    return redirect(url_for("auth.login"))
