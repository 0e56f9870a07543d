"""The member's Asked page: the surveys, feedback requests and attribute requests their
communities put to them.

Every route requires a signed-in member (default deny, in ``before_request``) and acts only on
what is put to that member: a survey is shown only if it is asked of them now or they answered
it (community/surveys.py decides, inside the vault), otherwise it is a 404 like a missing one.
A member answers, skips, changes an answer until the survey closes, and withdraws it whenever;
for an attribute request they fill the attribute in their own profile and choose whether it
counts in that brand's aggregates (new grants, with receipts, through the consent services).
"""

from __future__ import annotations

import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from community.attribute_requests import AttributeRequestService, attribute_label
from community.storage import attribute_request_service, survey_service
from community.surveys import NO_SUCH_SURVEY, SurveyService
from vault.catalog import BY_KEY, TOUCHPOINTS, DataType
from vault.errors import ConflictError, NotFoundError, ValidationError

from .forms import MULTI_VALUE, ProfileForm, form_data, labelled, member_words
from .member import require_member
from .vaults import get_consent, get_vault

bp = Blueprint("surveys", __name__, url_prefix="/member/asked")
bp.before_request(require_member)

_SURVEY_ID = re.compile(r"srv_[0-9a-f]{24}")
_REQUEST_ID = re.compile(r"atr_[0-9a-f]{24}")
_TOUCHPOINT_LABELS = dict(TOUCHPOINTS)


def _surveys() -> SurveyService:
    return survey_service(consent=get_consent(),
                          minimum_cohort=current_app.config["VRMVAULT_MINIMUM_COHORT"])


def _requests() -> AttributeRequestService:
    return attribute_request_service(consent=get_consent())


def _checked(survey_id: str) -> str:
    if not _SURVEY_ID.fullmatch(survey_id):
        raise NotFoundError(NO_SUCH_SURVEY)
    return survey_id


def _brand_names() -> dict[str, str]:
    return {b.id: b.name for b in get_vault().brands.all()}


@bp.get("/")
def overview() -> str:
    surveys = _surveys()
    asked = [a for a in surveys.asked(g.member_id) if not a.answers]
    # Every answer the member gave, whether the survey is still put to them or not (they left
    # the community, the survey closed): each can still be withdrawn.
    answered = surveys.everything_answered(g.member_id)
    now = get_vault().clock()
    return render_template(
        "asked.html", open=[a for a in asked if not a.skipped],
        answered=[a for a in answered if a.survey.is_open(now)],
        skipped=[a for a in asked if a.skipped],
        closed=[a for a in answered if not a.survey.is_open(now)],
        requests=_requests().asked(g.member_id),
        brand_names=_brand_names(), touchpoints=_TOUCHPOINT_LABELS,
        attribute_label=attribute_label)


def _survey_page(survey_id: str, *, values: dict[str, Any] | None = None,
                 errors: dict[str, list[str]] | None = None, status: int = 200
                 ) -> tuple[str, int]:
    asked = _surveys().for_member(g.member_id, survey_id)
    if values is None:
        values = {}
        for answer in asked.answers:
            key = f"q{answer.position}"
            values[key] = (answer.text if answer.text is not None else
                           [str(i) for i in answer.choices] if answer.choices is not None
                           else str(answer.value))
    now = get_vault().clock()
    return render_template(
        "asked_survey.html", asked=asked, survey=asked.survey, values=values,
        errors=errors or {}, open=asked.survey.is_open(now), brand_names=_brand_names(),
        touchpoints=_TOUCHPOINT_LABELS), status


@bp.get("/surveys/<survey_id>")
def survey(survey_id: str) -> tuple[str, int]:
    return _survey_page(_checked(survey_id))


@bp.post("/surveys/<survey_id>")
def answer(survey_id: str) -> Response | tuple[str, int]:
    survey_id = _checked(survey_id)
    surveys = _surveys()
    asked = surveys.for_member(g.member_id, survey_id)
    multiple = frozenset(f"q{q.position}" for q in asked.survey.questions
                         if q.kind == "multiple")
    submitted: dict[str, Any] = {}
    try:
        submitted = form_data(request.form, multi=multiple)
        surveys.answer(g.member_id, survey_id, submitted)
    except ValidationError as exc:
        # Each message led by its question's prompt, as the page's other forms name a field.
        prompts = labelled({f"q{q.position}": q.prompt for q in asked.survey.questions})
        return _survey_page(survey_id, values=submitted, errors=member_words(prompts, exc.errors),
                            status=422)
    except ConflictError as exc:
        return _survey_page(survey_id, values=submitted, errors={"form": [exc.message]},
                            status=409)
    flash("Your answer is saved in your vault." if not asked.answers
          else "Your answer is changed.", "success")
    return redirect(url_for("surveys.overview"))


@bp.post("/surveys/<survey_id>/skip")
def skip(survey_id: str) -> Response:
    _surveys().skip(g.member_id, _checked(survey_id))
    flash("Skipped: it will not be asked again. You can still answer it until it closes.",
          "success")
    return redirect(url_for("surveys.overview"))


@bp.post("/surveys/<survey_id>/withdraw")
def withdraw(survey_id: str) -> Response:
    survey_id = _checked(survey_id)
    if not _surveys().withdraw(g.member_id, survey_id):
        raise NotFoundError("You have no answer to this survey.")
    flash("Your answer is withdrawn and deleted.", "success")
    return redirect(url_for("surveys.overview"))


# -- attribute requests ------------------------------------------------------------------------
def _request_id(request_id: str) -> str:
    if not _REQUEST_ID.fullmatch(request_id):
        raise NotFoundError("There is no such request, or it is not put to you.")
    return request_id


def _attribute_page(request_id: str, *, values: dict[str, Any] | None = None,
                    errors: dict[str, list[str]] | None = None, status: int = 200
                    ) -> tuple[str, int]:
    asked = _requests().for_member(g.member_id, request_id)
    spec = BY_KEY[asked.request.attribute]
    if values is None:
        values = {spec.key: asked.value} if asked.value is not None else {}
    return render_template(
        "asked_attribute.html", asked=asked, spec=spec, values=values, errors=errors or {},
        brand_name=_brand_names().get(asked.request.brand_id, "the brand"),
        DataType=DataType), status


@bp.get("/attributes/<request_id>")
def attribute(request_id: str) -> tuple[str, int]:
    return _attribute_page(_request_id(request_id))


@bp.post("/attributes/<request_id>")
def attribute_answer(request_id: str) -> Response | tuple[str, int]:
    request_id = _request_id(request_id)
    asked = _requests().for_member(g.member_id, request_id)
    key = asked.request.attribute
    submitted: dict[str, Any] = {}
    try:
        submitted = form_data(request.form, multi=MULTI_VALUE | {key}
                              if key in MULTI_VALUE else frozenset())
        unknown = set(submitted) - {key, "count"}
        if unknown:
            raise ValidationError({"form": ["This form has fields it should not have."]})
        answered = _requests().respond(g.member_id, request_id, value=submitted.get(key),
                                       count=submitted.get("count") == "yes")
    except ValidationError as exc:
        return _attribute_page(request_id, values=submitted,
                               errors=member_words(ProfileForm(), exc.errors), status=422)
    flash(f"Saved in your profile; it counts for {_brand_names().get(answered.request.brand_id)}"
          " from now on (see the receipt on your Sharing page)." if answered.counted else
          "Saved in your profile; it does not count for the brand.", "success")
    return redirect(url_for("surveys.overview"))


@bp.post("/attributes/<request_id>/decline")
def attribute_decline(request_id: str) -> Response:
    _requests().decline(g.member_id, _request_id(request_id))
    flash("Declined: the brand is not told.", "success")
    return redirect(url_for("surveys.overview"))
