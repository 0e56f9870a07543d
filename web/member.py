"""The member's own pages: dashboard, profile, feedback journal, security, export, erasure.

Every route here requires a signed-in member (default deny, in ``before_request``) and acts only
on that member's records: ids in URLs are looked up together with the member id.

The same gate turns away, with one page saying why and what they can do (503), a member whose
data key was lost (the key store restored from a backup older than the key:
:class:`~vault.errors.MemberKeyLostError`), on every member page but the one that deletes the
account: nothing else could be shown truthfully, not even an empty form.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import segno
from flask import (
    Blueprint,
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from consent.event_details import DataExported
from vault.catalog import ATTRIBUTES, CATEGORY_LABELS, TOUCHPOINTS, Category, DataType
from vault.errors import ConflictError, MemberKeyLostError, NotFoundError, ValidationError
from vault.feedback import NO_SUCH_ENTRY

from .erasures import finish_erasure
from .errors import wants_problem_json
from .exports import member_export
from .forms import (
    MULTI_VALUE,
    WRONG_CODE,
    ConfirmPasswordForm,
    DeleteAccountForm,
    FeedbackForm,
    NewCodeForm,
    ProfileForm,
    form_data,
    load,
    member_words,
    whole_number_in_url,
)
from .mailing import app_maildir
from .sessions import ACCOUNT_DELETED, current_member_id, end_session
from .vaults import get_consent, get_vault, merge_pending_reads

bp = Blueprint("member", __name__, url_prefix="/member")

TOTP_PENDING = "totp_pending_secret"
# Entry ids are SQLite integers: anything larger cannot exist, so it is a 404, not an overflow.
_LARGEST_ENTRY_ID = 9223372036854775807
WRONG_PASSWORD = "That is not your password."


@bp.before_request
def require_member() -> Response | tuple[str, int] | None:
    member_id = current_member_id()
    if member_id is None:
        if request.method == "GET":
            flash("Please sign in to see that page.", "error")
        return redirect(url_for("auth.login"))
    g.member_id = member_id
    if request.endpoint != "member.delete_account":
        try:
            # Kept for the request (vault.keys.KeyStore): the pages that open the member's
            # data, most of them, read the key once all the same.
            get_vault().key_store.cipher(member_id)
        except MemberKeyLostError:
            if wants_problem_json():
                raise
            return render_template("key_lost.html"), 503
    return None


def _catalog_by_category() -> list[tuple[str, str, list[Any]]]:
    grouped: dict[Category, list[Any]] = defaultdict(list)
    for spec in ATTRIBUTES:
        grouped[spec.category].append(spec)
    return [(str(c), CATEGORY_LABELS[c], grouped[c]) for c in Category]


@bp.get("/")
def dashboard() -> str:
    vault = get_vault()
    profile = vault.profile.get(g.member_id)
    completeness = []
    for _key, label, specs in _catalog_by_category():
        filled = sum(1 for s in specs if s.key in profile)
        completeness.append((label, filled, len(specs)))
    entries = vault.feedback.for_member(g.member_id)
    return render_template("dashboard.html", member=vault.members.get(g.member_id),
                           completeness=completeness, feedback_count=len(entries))


# -- profile -----------------------------------------------------------------------------------
@bp.route("/profile", methods=["GET", "POST"])
def profile() -> str | Response | tuple[str, int]:
    vault = get_vault()
    if request.method == "GET":
        return render_template("profile.html", groups=_catalog_by_category(),
                               values=vault.profile.get(g.member_id), errors={},
                               DataType=DataType)
    submitted = request.form.to_dict()
    try:
        submitted = form_data(request.form, multi=MULTI_VALUE)
        # The page shows every attribute: an unticked choice list means "none of these".
        for key in MULTI_VALUE:
            submitted.setdefault(key, [])
        changes = load(ProfileForm(), submitted, check=vault.profile.check)
        vault.profile.update(g.member_id, changes)
    except ValidationError as exc:
        return render_template("profile.html", groups=_catalog_by_category(),
                               values=submitted, errors=member_words(ProfileForm(), exc.errors),
                               DataType=DataType), 422
    flash("Your profile is saved.", "success")
    return redirect(url_for("member.profile"))


# -- feedback ----------------------------------------------------------------------------------
def _feedback_page(*, values: dict[str, Any], errors: dict[str, list[str]],
                   editing: int | None = None, status: int = 200) -> tuple[str, int]:
    vault = get_vault()
    entries = vault.feedback.for_member(g.member_id)
    chart = defaultdict(list)
    for entry in entries:
        chart[entry.touchpoint].append(entry.rating)
    ratings = [(label, len(chart[key]), sum(chart[key]) / len(chart[key]))
               for key, label in TOUCHPOINTS if chart[key]]
    return render_template(
        "feedback.html", entries=entries, brands=vault.brands.all(),
        brand_names={b.id: b.name for b in vault.brands.all()}, touchpoints=TOUCHPOINTS,
        values=values, errors=errors, editing=editing, ratings=ratings,
        today=vault.feedback.today().isoformat(),
    ), status


@bp.get("/feedback")
def feedback() -> tuple[str, int]:
    return _feedback_page(values={}, errors={})


@bp.post("/feedback")
def feedback_add() -> Response | tuple[str, int]:
    submitted = request.form.to_dict()
    feedback = get_vault().feedback
    try:
        fields = load(FeedbackForm(), form_data(request.form), check=feedback.check)
        feedback.add(g.member_id, fields)
    except ValidationError as exc:
        return _feedback_page(values=submitted, errors=member_words(FeedbackForm(), exc.errors),
                              status=422)
    flash("Your feedback is saved in your vault.", "success")
    return redirect(url_for("member.feedback"))


def feedback_entry_id(text: str) -> int:
    """The feedback entry id in a URL; any text that can be no entry's id (a word, a sign, a
    number too large) gets the same readable "not found" page as an id that is not there."""
    number = whole_number_in_url(text, _LARGEST_ENTRY_ID)
    if number is None:
        raise NotFoundError(NO_SUCH_ENTRY)
    return number


@bp.route("/feedback/<entry_id>/edit", methods=["GET", "POST"])
def feedback_edit(entry_id: str) -> str | Response | tuple[str, int]:
    vault = get_vault()
    entry = vault.feedback.get(g.member_id, feedback_entry_id(entry_id))
    if request.method == "GET":
        values = {"brand_id": entry.brand_id, "touchpoint": entry.touchpoint,
                  "rating": entry.rating, "nps": entry.nps, "comment": entry.comment,
                  "occurred_on": entry.occurred_on}
        return render_template("feedback_edit.html", entry=entry, values=values, errors={},
                               brands=vault.brands.all(), touchpoints=TOUCHPOINTS,
                               today=vault.feedback.today().isoformat())
    submitted = request.form.to_dict()
    try:
        vault.feedback.update(g.member_id, entry.id, load(
            FeedbackForm(), form_data(request.form), check=vault.feedback.check))
    except ValidationError as exc:
        return render_template("feedback_edit.html", entry=entry, values=submitted,
                               errors=member_words(FeedbackForm(), exc.errors),
                               brands=vault.brands.all(),
                               touchpoints=TOUCHPOINTS,
                               today=vault.feedback.today().isoformat()), 422
    flash("The entry is updated.", "success")
    return redirect(url_for("member.feedback"))


@bp.post("/feedback/<entry_id>/delete")
def feedback_delete(entry_id: str) -> Response:
    get_vault().feedback.delete(g.member_id, feedback_entry_id(entry_id))
    flash("The entry is deleted.", "success")
    return redirect(url_for("member.feedback"))


# -- security: sessions and the second factor ---------------------------------------------------
#: The id of each Security page form's field, by the form's view: one page holds three forms,
#: so a field's errors are keyed by its id (the summary links to it, the field names them).
_SECURITY_FIELDS = {"totp_confirm": {"code": "code"},
                    "totp_disable": {"password": "disable-password"},
                    "recovery_codes": {"password": "codes-password"}}


@bp.get("/security")
def security() -> str:
    return _security_page(errors={})


def _security_page(*, errors: dict[str, list[str]]) -> str:
    vault = get_vault()
    member = vault.members.get(g.member_id)
    sealed = session.get(TOTP_PENDING)
    pending = vault.members.open_pending_totp(g.member_id, sealed) if sealed else None
    qr_svg = uri = None
    if pending and not member.totp_enabled:
        uri = vault.members.totp_uri(g.member_id, pending)
        qr_svg = segno.make(uri, error="m").svg_inline(scale=4, title="Authenticator QR code")
    return render_template(
        "security.html", member=member, errors=errors,
        sessions=vault.sessions.for_member(g.member_id, current=session.token),  # type: ignore[attr-defined]
        pending=pending, qr_svg=qr_svg, totp_uri=uri,
        recovery_left=vault.members.recovery_codes.remaining(g.member_id),
    )


def _security_errors(schema: Any, errors: dict[str, list[str]], status: int
                     ) -> tuple[str, int]:
    """The Security page again, with this submission's errors next to its form's field."""
    ids = _SECURITY_FIELDS[request.endpoint.rsplit(".", 1)[-1]]  # type: ignore[union-attr]
    worded = member_words(schema, errors)
    return _security_page(errors={ids.get(key, key): messages
                                  for key, messages in worded.items()}), status


def _password_check(wrong: str) -> Any:
    """A :func:`load` check that the password given is the member's (``wrong`` if not)."""
    def check(values: dict[str, Any]) -> None:
        password = values.get("password")
        if password is not None and not get_vault().members.check_password(g.member_id,
                                                                           password):
            raise ValidationError({"password": [wrong]})
    return check


def _wrong_password_only(errors: dict[str, list[str]], wrong: str) -> int:
    """401 when the one problem is a wrong password (as signing in answers), else 422."""
    only = list(errors) == ["password"] and len(errors["password"]) == 1
    return 401 if only and errors["password"][0].endswith(wrong) else 422


@bp.post("/sessions/end-all")
def end_all_sessions() -> Response:
    get_vault().sessions.delete_for_member(g.member_id)
    end_session()
    flash("You are signed out everywhere, including here.", "success")
    return redirect(url_for("auth.login"))


@bp.post("/totp/start")
def totp_start() -> Response:
    members = get_vault().members
    if members.get(g.member_id).totp_enabled:
        flash("Two-step sign-in is on already; turn it off first to set up a new app.", "error")
        return redirect(url_for("member.security"))
    # Sealed under the member's key: session rows are not where secrets go in clear.
    session[TOTP_PENDING] = members.seal_pending_totp(g.member_id, members.new_totp_secret())
    return redirect(url_for("member.security"))


@bp.post("/totp/confirm")
def totp_confirm() -> str | Response | tuple[str, int]:
    sealed = session.get(TOTP_PENDING)
    if not sealed:
        return redirect(url_for("member.security"))
    members = get_vault().members
    try:
        fields = load(NewCodeForm(), form_data(request.form))
    except ValidationError as exc:
        return _security_errors(NewCodeForm(), exc.errors, 422)
    try:
        codes = members.enable_totp(g.member_id,
                                    members.open_pending_totp(g.member_id, sealed),
                                    fields["code"])
    except ConflictError as exc:
        session.pop(TOTP_PENDING, None)
        flash(exc.message, "error")
        return redirect(url_for("member.security"))
    except ValidationError:
        return _security_errors(NewCodeForm(), {"code": [WRONG_CODE]}, 422)
    session.pop(TOTP_PENDING, None)
    # Shown once, in this response: never kept in the session or anywhere else in clear.
    return render_template("recovery_codes.html", codes=codes, turned_on=True)


@bp.post("/totp/recovery-codes")
def recovery_codes() -> str | Response | tuple[str, int]:
    vault = get_vault()
    wrong = "That is not your password; no new codes were made."
    try:
        load(ConfirmPasswordForm(), form_data(request.form), check=_password_check(wrong))
    except ValidationError as exc:
        return _security_errors(ConfirmPasswordForm(), exc.errors,
                                _wrong_password_only(exc.errors, wrong))
    if not vault.members.has_second_factor(g.member_id):
        flash("Turn two-step sign-in on first; its recovery codes come with it.", "error")
        return redirect(url_for("member.security"))
    codes = vault.members.recovery_codes.generate(g.member_id)
    return render_template("recovery_codes.html", codes=codes, turned_on=False)


@bp.post("/totp/disable")
def totp_disable() -> Response | str | tuple[str, int]:
    vault = get_vault()
    wrong = "That is not your password; two-step sign-in is still on."
    try:
        load(ConfirmPasswordForm(), form_data(request.form), check=_password_check(wrong))
    except ValidationError as exc:
        return _security_errors(ConfirmPasswordForm(), exc.errors,
                                _wrong_password_only(exc.errors, wrong))
    try:
        vault.members.disable_totp(g.member_id)
    except ConflictError as exc:
        flash(exc.message, "error")
        return redirect(url_for("member.security"))
    flash("Two-step sign-in is off, and its recovery codes no longer work.", "success")
    return redirect(url_for("member.security"))


# -- portability and erasure ------------------------------------------------------------------
@bp.post("/export")
def export() -> Response:
    vault = get_vault()
    consent = get_consent()
    merge_pending_reads()        # every brand read so far, the last second's too
    payload = member_export(consent).zip_bytes(g.member_id)
    consent.ledger.record_event(actor=consent.principal(g.member_id),
                                details=DataExported(format="zip", bytes=len(payload)))
    day = dt.datetime.fromtimestamp(vault.clock(), dt.UTC).strftime("%Y%m%d")
    return Response(payload, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="vrmvault-export-{day}.zip"',
    })


def _address_if_readable() -> str | None:
    """The member's address, or ``None`` when their key was lost in a restore (the delete
    page is the one a member whose data cannot be opened still reaches)."""
    try:
        return get_vault().members.get(g.member_id).email
    except MemberKeyLostError:
        return None


@bp.route("/delete", methods=["GET", "POST"])
def delete_account() -> str | Response | tuple[str, int]:
    vault = get_vault()
    held = vault.members.deletion_problem(g.member_id)
    if request.method == "GET" or held is not None:
        return render_template("delete.html", errors={}, email=_address_if_readable(),
                               held=held), 200 if request.method == "GET" else 409
    try:
        # The password is checked even when the box is not ticked: both answers come at once.
        load(DeleteAccountForm(), form_data(request.form),
             check=_password_check(WRONG_PASSWORD))
    except ValidationError as exc:
        return render_template("delete.html", errors=member_words(
            DeleteAccountForm(), exc.errors), email=_address_if_readable(), held=None), \
            _wrong_password_only(exc.errors, WRONG_PASSWORD)
    consent = get_consent()
    # Recorded first, sessions ended and sign-in cut in that same commit; then every step,
    # brands told (GDPR Art. 19) with the deletion. A crash on the way is finished at the
    # next start or by the keeper (web/erasures.py).
    # A data subject request for erasure was forwarded to the brands when it was filed
    # (web/requests.py); its vault part is this erasure, recorded while the member still is.
    from .requests import fulfil_erasure_requests  # it imports this module's gate

    fulfil_erasure_requests(g.member_id)
    pending = vault.erasure.begin(g.member_id)
    finish_erasure(vault, consent, pending, maildir=app_maildir())
    end_session()
    # Post/redirect/get: a reload of the next page must not post the deletion again.
    session[ACCOUNT_DELETED] = True
    return redirect(url_for("auth.account_deleted"), 303)
