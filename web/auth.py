"""Sign-up, sign-in (with the optional TOTP step) and sign-out for members."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from vault.errors import (
    AuthenticationError,
    ConflictError,
    SecondFactorRequiredError,
    ThrottledError,
    ValidationError,
)

from .authorize import pending_authorization
from .forms import CodeForm, LoginForm, SignupForm, check_signup, form_data, load, member_words
from .sessions import begin_member_session, current_member_id, end_session
from .vaults import get_vault

bp = Blueprint("auth", __name__)

PENDING_KEY = "pending_member"
PENDING_AT = "pending_at"
PENDING_SECONDS = 300
LOGIN_FIELDS = ("email", "password")
WRONG_CODE = "That code is not right. Enter the 6 digits your app shows now."


def _client() -> str:
    return request.remote_addr or "unknown"


@bp.get("/")
def home() -> str | Response:
    if current_member_id():
        return redirect(url_for("member.dashboard"))
    return render_template("home.html")


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> str | Response | tuple[str, int]:
    if request.method == "GET":
        return render_template("signup.html", errors={}, values={})
    try:
        fields = load(SignupForm(), form_data(request.form), check=check_signup)
        member_id = get_vault().members.register(fields["email"], fields["password"])
    except (ValidationError, ConflictError) as exc:
        errors = exc.errors if isinstance(exc, ValidationError) else {"email": [exc.message]}
        errors = member_words(SignupForm(), errors)
        status = 409 if isinstance(exc, ConflictError) else 422
        return render_template("signup.html", errors=errors,
                               values={"email": request.form.get("email", "")}), status
    response = _signed_in(member_id)
    flash("Welcome to your vault. Nothing is shared with anyone until you say so.", "success")
    return response


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
                                                     client=_client())
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
    """Start the member's session; back to a brand's waiting authorization request, if any."""
    target = pending_authorization()
    begin_member_session(member_id)
    return redirect(target or url_for("member.dashboard"))


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
    try:
        fields = load(CodeForm(), form_data(request.form))
        get_vault().members.verify_totp(pending, fields["code"], client=_client())
    except (ValidationError, AuthenticationError):
        return render_template("login_code.html", errors=member_words(
            CodeForm(), {"code": [WRONG_CODE]})), 401
    except ThrottledError as exc:
        return render_template("login_code.html",
                               errors=member_words(CodeForm(), {"code": [exc.message]})), 429, \
            {"Retry-After": str(exc.retry_after)}
    return _signed_in(pending)


@bp.post("/logout")
def logout() -> Response:
    end_session()
    flash("You are signed out.", "success")
    return redirect(url_for("auth.login"))
