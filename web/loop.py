"""The member's side of closing the loop: their care cases (asking a brand to get back to them
after a low score, seeing the case's state and the brand's answer, closing it) and their
Results page (what brands did with what they said, next to the aggregate they contributed to,
and charts of their own ratings).

Every route requires a signed-in member (default deny, in ``before_request``) and acts only on
that member's records: a case or entry id in a URL is looked up with the member id.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for

from brand_gateway.storage import accepts_term
from community.care import CONTACT_FIELDS, CareService, is_low
from community.loop import WeDidService
from community.storage import care_service, survey_service, wedid_service
from vault.catalog import BY_KEY, TOUCHPOINTS
from vault.errors import ConflictError, NotFoundError, ValidationError

from .charts import Bar, bars, timeline
from .forms import labelled, member_words
from .member import feedback_entry_id, require_member
from .vaults import get_consent, get_vault

bp = Blueprint("loop", __name__, url_prefix="/member")
bp.before_request(require_member)

_TOUCHPOINT_LABELS = dict(TOUCHPOINTS)
CONTACT_CHOICES = (("", "Don't give them a way to reach me: they answer here, in my vault"),
                   *((key, f"My {BY_KEY[key].label.lower()}") for key in CONTACT_FIELDS))


def member_care() -> CareService:
    """The care service over the request's stores (the Sharing page's withdrawal uses it too)."""
    consent = get_consent()
    vault = consent.vault
    return care_service(consent=consent, accepts_term=accepts_term(
        database=vault.data, clock=vault.clock, master=vault.master))


def _posts() -> WeDidService:
    return wedid_service(consent=get_consent())


def _brand_names() -> dict[str, str]:
    return {b.id: b.name for b in get_vault().brands.all()}


# -- care ----------------------------------------------------------------------------------------
@bp.get("/care")
def care() -> str:
    vault = get_vault()
    cases = member_care().for_member(g.member_id)
    asked = {int(c.source_ref) for c in cases if c.source == "feedback"}
    entries = vault.feedback.for_member(g.member_id)
    low = [e for e in entries if is_low(e.rating, e.nps) and e.id not in asked]
    surveys = {c.source_ref: c for c in cases if c.source == "survey"}
    # Which entry each case shares: a member's cases with one brand read alike without it.
    by_id = {str(e.id): e for e in entries}
    about = {c.id: f"your entry of {entry.occurred_on} ("
                   f"{_TOUCHPOINT_LABELS.get(entry.touchpoint, entry.touchpoint)}, "
                   f"{entry.rating} of 5)" if (entry := by_id.get(c.source_ref)) else
             "a journal entry you deleted since" for c in cases if c.source == "feedback"}
    return render_template("care.html", cases=cases, low=low[:50], about=about,
                           low_surveys=member_care().low_surveys(g.member_id)[:50],
                           survey_titles=_survey_titles(list(surveys)), names=_brand_names(),
                           touchpoints=_TOUCHPOINT_LABELS, contact_labels=dict(CONTACT_CHOICES))


def case_scopes(member_id: str) -> dict[str, str]:
    """grant id -> what each of the member's care cases lets its brand read of their journal or
    their survey answers, in words: the Sharing page says so instead of the field's name, which
    would read as the whole journal (the brand reads the one entry only, through the case)."""
    scopes: dict[str, str] = {}
    cases = member_care().for_member(member_id)
    titles = _survey_titles([c.source_ref for c in cases if c.source == "survey"])
    for case in cases:
        if case.source == "survey":
            title = titles.get(case.source_ref)
            scopes[case.grant_id] = (f'Your answers to the survey "{title}" only' if title
                                     else "Your answers to one survey only (withdrawn since)")
            continue
        try:
            entry = get_vault().feedback.get(member_id, int(case.source_ref))
        except NotFoundError:
            scopes[case.grant_id] = "One feedback entry only (deleted since)"
        else:
            scopes[case.grant_id] = f"Your feedback entry of {entry.occurred_on} only"
    return scopes


def _survey_titles(survey_ids: list[str]) -> dict[str, str]:
    """The titles of the surveys the member's cases are about (a withdrawn answer: none)."""
    surveys = survey_service(consent=get_consent())
    titles = {}
    for survey_id in survey_ids:
        try:
            titles[survey_id] = surveys.for_member(g.member_id, survey_id).survey.record.title
        except NotFoundError:
            pass
    return titles


def _ask_page(entry_id: int | None, *, values: dict[str, Any], errors: dict[str, list[str]],
              status: int = 200, survey_id: str | None = None) -> tuple[str, int]:
    entry = get_vault().feedback.get(g.member_id, entry_id) if entry_id is not None else None
    asked = survey_service(consent=get_consent()).for_member(g.member_id, survey_id) \
        if survey_id is not None else None
    return render_template("care_ask.html", entry=entry, asked=asked, names=_brand_names(),
                           touchpoints=_TOUCHPOINT_LABELS, choices=CONTACT_CHOICES,
                           values=values, errors=errors), status


def _ask_errors(exc: ValidationError) -> dict[str, list[str]]:
    """The care service's errors as the page shows them: about the entry or the request, the
    whole form's; about the way to reach the member, led by that field's label."""
    return member_words(labelled({"contact_field": "How they may reach you"}), {
        ("form" if key in ("request", "entry") else key): messages
        for key, messages in exc.errors.items()})


@bp.get("/care/ask/<entry_id>")
def care_ask(entry_id: str) -> tuple[str, int]:
    number = feedback_entry_id(entry_id)
    errors: dict[str, list[str]] = {}
    try:
        member_care().check(g.member_id, entry_id=number, contact_field=None)
    except ValidationError as exc:
        errors = exc.errors
    return _ask_page(number, values={}, errors=errors)


@bp.post("/care/ask/<entry_id>")
def care_ask_send(entry_id: str) -> Response | tuple[str, int]:
    number = feedback_entry_id(entry_id)
    unknown = set(request.form) - {"csrf_token", "contact_field"}
    contact = request.form.get("contact_field") or None
    try:
        if unknown:
            raise ValidationError({"form": ["The form held fields it does not have."]})
        member_care().ask(g.member_id, entry_id=number, contact_field=contact)
    except ValidationError as exc:
        return _ask_page(number, values=request.form.to_dict(), errors=_ask_errors(exc),
                         status=422)
    except ConflictError as exc:
        return _ask_page(number, values=request.form.to_dict(), errors={"form": [str(exc)]},
                         status=409)
    flash("Your request is sent. The brand can see this entry"
          + (" and how to reach you" if contact else "") + " until the case closes.",
          "success")
    return redirect(url_for("loop.care"))


@bp.get("/care/ask-survey/<survey_id>")
def care_ask_survey(survey_id: str) -> tuple[str, int]:
    survey_id = survey_id[:64]
    errors: dict[str, list[str]] = {}
    try:
        member_care().check_survey(g.member_id, survey_id=survey_id, contact_field=None)
    except ValidationError as exc:
        errors = exc.errors
    return _ask_page(None, survey_id=survey_id, values={}, errors=errors)


@bp.post("/care/ask-survey/<survey_id>")
def care_ask_survey_send(survey_id: str) -> Response | tuple[str, int]:
    survey_id = survey_id[:64]
    unknown = set(request.form) - {"csrf_token", "contact_field"}
    contact = request.form.get("contact_field") or None
    try:
        if unknown:
            raise ValidationError({"form": ["The form held fields it does not have."]})
        member_care().ask_about_survey(g.member_id, survey_id=survey_id, contact_field=contact)
    except ValidationError as exc:
        return _ask_page(None, survey_id=survey_id, values=request.form.to_dict(),
                         errors=_ask_errors(exc), status=422)
    except ConflictError as exc:
        return _ask_page(None, survey_id=survey_id, values=request.form.to_dict(),
                         errors={"form": [str(exc)]}, status=409)
    flash("Your request is sent. The brand can see your answers to this survey"
          + (" and how to reach you" if contact else "") + " until the case closes.",
          "success")
    return redirect(url_for("loop.care"))


@bp.post("/care/<case_id>/close")
def care_close(case_id: str) -> Response:
    try:
        member_care().close_by_member(g.member_id, case_id[:64])
    except ValidationError:
        pass            # its grant had ended already: the case is closed all the same
    flash("The case is closed; the brand can no longer see that entry.", "success")
    return redirect(url_for("loop.care"))


# -- results and charts --------------------------------------------------------------------------
@bp.get("/results")
def results() -> str:
    vault = get_vault()
    names = _brand_names()
    entries = vault.feedback.for_member(g.member_id)
    oldest_first = sorted(entries, key=lambda e: (e.occurred_on, e.id))
    over_time = timeline(
        "over-time", "Your ratings over time",
        "Each of your feedback ratings, from 1 (very poor) to 5 (excellent), oldest on the "
        "left. " + "; ".join(f"{e.occurred_on}: {e.rating}" for e in oldest_first[-60:]),
        [(e.occurred_on, e.rating, f"{names.get(e.brand_id, '?')}, "
          f"{_TOUCHPOINT_LABELS.get(e.touchpoint, e.touchpoint)}, {e.occurred_on}: "
          f"{e.rating} of 5") for e in oldest_first[-60:]]) if entries else None
    by_touchpoint: dict[str, list[int]] = defaultdict(list)
    for entry in entries:
        by_touchpoint[entry.touchpoint].append(entry.rating)
    touchpoint_rows = [(label, len(by_touchpoint[key]),
                        sum(by_touchpoint[key]) / len(by_touchpoint[key]))
                       for key, label in TOUCHPOINTS if by_touchpoint[key]]
    per_touchpoint = bars(
        "per-touchpoint", "Your average rating per moment",
        "; ".join(f"{label}: {mean:.1f} of 5 over {count} entries"
                  for label, count, mean in touchpoint_rows),
        [Bar(label, mean, f"{mean:.1f} ({count})") for label, count, mean in touchpoint_rows],
        lowest=0, highest=5) if touchpoint_rows else None
    loops = [_loop(post, entries, names) if post.subject_kind == "touchpoint"
             else _survey_loop(post, names) if post.subject_kind == "survey"
             else _idea_loop(post, names) for post in _posts().for_member(g.member_id)]
    return render_template("results.html", over_time=over_time, per_touchpoint=per_touchpoint,
                           touchpoint_rows=touchpoint_rows, loops=loops, names=names,
                           touchpoints=_TOUCHPOINT_LABELS)


def _loop(post: Any, entries: list[Any], names: dict[str, str]) -> dict[str, Any]:
    """A "we did" with the member's own ratings there and the brand's stored release."""
    mine = [e.rating for e in entries
            if e.brand_id == post.brand_id and e.touchpoint == post.subject_ref]
    own = sum(mine) / len(mine) if mine else None
    release = post.release or {}
    mean = release.get("mean_rating") if not release.get("suppressed") else None
    rows = []
    if own is not None:
        rows.append(Bar("You", own, f"{own:.1f} ({len(mine)} of yours)"))
    if mean is not None:
        rows.append(Bar("All members who shared", mean["value"],
                        f"{mean['value']:.1f} (±{(mean['high'] - mean['low']) / 2:.1f})",
                        low=mean["low"], high=mean["high"], kind="community"))
    else:
        rows.append(Bar("All members who shared", None,
                        "not shown: too few members" if post.release else "no figure"))
    label = _TOUCHPOINT_LABELS.get(post.subject_ref, post.subject_ref)
    brand = names.get(post.brand_id, "A brand")
    chart = bars(f"wedid-{post.id}", f"Average rating of {brand} at {label}",
                 "; ".join(f"{r.label}: {r.text}" for r in rows), rows, lowest=0, highest=5)
    return {"post": post, "brand": brand, "touchpoint": label, "own": own, "count": len(mine),
            "mean": mean, "nps": release.get("nps") if not release.get("suppressed") else None,
            "release": post.release, "chart": chart}


def _survey_loop(post: Any, names: dict[str, str]) -> dict[str, Any]:
    """A "we did" about a survey the member answered: per rating or NPS question, their own
    answer and the brand's stored release, each question a chart of its own (its own scale)."""
    brand = names.get(post.brand_id, "A brand")
    try:
        asked = survey_service(consent=get_consent()).for_member(g.member_id,
                                                                  post.subject_ref)
    except NotFoundError:        # the answer was withdrawn meanwhile: the post left the list
        return {"post": post, "brand": brand, "touchpoint": "a survey", "questions": []}
    release = post.release or {}
    released = {q["position"]: q for q in release.get("questions") or []}
    questions = []
    for question in asked.survey.questions:
        if question.kind not in ("rating", "nps"):
            continue
        own = asked.answer(question.position)
        mine = own.value if own is not None else None
        result = released.get(question.position)
        value = result["value"] if result and not result["suppressed"] else None
        lowest, highest = (0, 5) if question.kind == "rating" else (-100, 100)
        rows = []
        if mine is not None:
            rows.append(Bar("Your answer", mine if question.kind == "rating" else None,
                            f"{mine}" + (" of 5" if question.kind == "rating" else " of 10")))
        if value is not None:
            rows.append(Bar("All members who shared", value["value"],
                            f"{value['value']:.1f} (±{(value['high'] - value['low']) / 2:.1f})"
                            + (" NPS" if question.kind == "nps" else ""),
                            low=value["low"], high=value["high"], kind="community"))
        else:
            rows.append(Bar("All members who shared", None,
                            "not shown: too few members" if post.release else "no figure"))
        chart = bars(f"wedid-{post.id}-{question.position}", question.prompt,
                     "; ".join(f"{r.label}: {r.text}" for r in rows), rows,
                     lowest=lowest, highest=highest)
        questions.append({"prompt": question.prompt, "kind": question.kind, "mine": mine,
                          "value": value, "chart": chart})
    return {"post": post, "brand": brand, "touchpoint": asked.survey.record.title,
            "questions": questions, "release": post.release}


def _idea_loop(post: Any, names: dict[str, str]) -> dict[str, Any]:
    """A "we did" about an idea the member posted or voted for, with its votes then."""
    votes = (post.release or {}).get("votes")
    return {"post": post, "brand": names.get(post.brand_id, "A brand"),
            "touchpoint": "an idea you posted or voted for", "votes": votes,
            "release": post.release}
