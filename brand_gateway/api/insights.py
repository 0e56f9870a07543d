"""Privacy-safe insights for brands, under ``/api/v1/insights`` (``insights:read``).

- ``GET /api/v1/insights/touchpoints`` (``purpose``, ``measure`` nps|rating, ``source``
  journal|surveys, ``touchpoints``, ``by``, ``epsilon``, ``format``): NPS or mean rating per
  touchpoint, from the journals or from survey answers tied to a touchpoint.
- ``GET /api/v1/insights/profile`` (``purpose``, ``attribute``, ``by``, ``epsilon``,
  ``format``): the distribution of a persona attribute.
- ``GET /api/v1/insights/surveys/<id>`` (``purpose``, ``by``, ``epsilon``, ``format``): the
  results of one of the brand's surveys, question by question (never text); another brand's
  survey is as unknown as a missing one (404).

A client credentials token with the ``insights:read`` scope. Each answer is one differentially
private release (``brand_gateway/insights/queries.py`` says what counts and how each member is
bounded) paid from the brand's privacy budget; a query the budget cannot pay is a 429
problem saying what is left and when it renews (``Retry-After``). ``format=vega-lite`` answers
the same release as a Vega-Lite v5 specification (``brand_gateway/insights/charts.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, current_app

from vault.errors import NotFoundError, ValidationError

from ..api_errors import ApiNotFoundError, QueryError
from ..insights.budget import DAY, BudgetSettings
from ..insights.charts import specification, survey_specification
from ..insights.queries import TOUCHPOINT_KEYS, EpsilonLimits, InsightQueries
from ..insights.releases import Estimate, PrivateReleases, Release, ReleaseSettings
from ..reads import Caller
from ..request_stores import request_stores
from ..storage import insight_queries, privacy_budget
from . import PREFIX
from .bearer import requires_scope
from .insight_schemas import INSIGHTS_SCOPE, ProfileQuery, SurveyResultsQuery, TouchpointsQuery
from .payloads import iso, json_response, load_query

bp = Blueprint("api_insights", __name__, url_prefix=PREFIX)

_TOUCHPOINTS_QUERY = TouchpointsQuery()
_PROFILE_QUERY = ProfileQuery()
_SURVEY_QUERY = SurveyResultsQuery()
MECHANISM = "discrete Laplace (OpenDP), pure epsilon-DP"


def budget_settings() -> BudgetSettings:
    """Each brand's privacy budget as the app is configured (the insights', the survey
    audiences' and the community sizes', one budget)."""
    config = current_app.config
    return BudgetSettings(epsilon_per_period=config["VRMVAULT_INSIGHTS_BUDGET"],
                          period_seconds=config["VRMVAULT_INSIGHTS_PERIOD_DAYS"] * DAY)


def release_settings() -> ReleaseSettings:
    return ReleaseSettings(minimum_cohort=current_app.config["VRMVAULT_MINIMUM_COHORT"])


def brand_releases() -> PrivateReleases:
    """Releases paid from the brands' budgets in the request's data store, as the app is
    configured: what survey audiences and community sizes are measured with
    (brand_gateway/insights/audience.py)."""
    stores = request_stores()
    return PrivateReleases(budget=privacy_budget(database=stores.vault().data,
                                                 clock=stores.clock, settings=budget_settings()),
                           settings=release_settings())


def _queries() -> InsightQueries:
    stores = request_stores()
    vault = stores.vault()
    maximum = current_app.config["VRMVAULT_INSIGHTS_MAX_EPSILON"]
    return insight_queries(
        database=vault.data, clock=stores.clock, profiles=vault.profile,
        ledger=stores.consent().ledger, budget=budget_settings(), releases=release_settings(),
        limits=EpsilonLimits(maximum=maximum, default=min(0.5, maximum)))


@bp.get("/insights/touchpoints")
@requires_scope(INSIGHTS_SCOPE)
def touchpoints(caller: Caller) -> Response:
    query = load_query(_TOUCHPOINTS_QUERY)
    with _as_query_errors():
        release = _queries().touchpoints(
            caller.client.brand_id, purpose=query["purpose"], measure=query["measure"],
            touchpoints=query.get("touchpoints"), by=query.get("by"),
            epsilon=query.get("epsilon"), source=query["source"])
    echo = {"kind": "touchpoints", "purpose": query["purpose"], "measure": query["measure"],
            "source": query["source"],
            "touchpoints": list(query.get("touchpoints") or TOUCHPOINT_KEYS),
            "by": query.get("by")}
    return _answer(release, echo, query["format"])


@bp.get("/insights/profile")
@requires_scope(INSIGHTS_SCOPE)
def profile(caller: Caller) -> Response:
    query = load_query(_PROFILE_QUERY)
    with _as_query_errors():
        release = _queries().distribution(
            caller.client.brand_id, purpose=query["purpose"], attribute=query["attribute"],
            by=query.get("by"), epsilon=query.get("epsilon"))
    echo = {"kind": "profile", "purpose": query["purpose"], "attribute": query["attribute"],
            "by": query.get("by")}
    return _answer(release, echo, query["format"])


@bp.get("/insights/surveys/<survey_id>")
@requires_scope(INSIGHTS_SCOPE)
def survey(caller: Caller, survey_id: str) -> Response:
    query = load_query(_SURVEY_QUERY)
    with _as_query_errors():
        try:
            results = _queries().survey(caller.client.brand_id, survey_id,
                                        purpose=query["purpose"], by=query.get("by"),
                                        epsilon=query.get("epsilon"))
        except NotFoundError:
            raise ApiNotFoundError("None of your surveys has this id.") from None
    echo = {"kind": "survey", "purpose": query["purpose"], "survey": survey_id,
            "by": query.get("by")}
    first = results[0][1]
    body = {
        "query": echo,
        "epsilon": sum(release.epsilon for _, release in results),
        "budget": _budget(first),
        "questions": [{"position": question.position, "kind": question.kind,
                       "privacy": _privacy(release),
                       "groups": [_group(group, "survey") for group in release.groups]}
                      for question, release in results],
    }
    if query["format"] == "vega-lite":
        return json_response(survey_specification(body))
    return json_response(body)


# -- the answer ---------------------------------------------------------------------------------
def _answer(release: Release, echo: dict[str, Any], form: str) -> Response:
    body = answer_body(release, echo)
    return json_response(specification(body) if form == "vega-lite" else body)


def answer_body(release: Release, echo: dict[str, Any]) -> dict[str, Any]:
    """The JSON answer of a touchpoints or profile release (``echo``: the query as asked)."""
    return {
        "query": echo,
        "privacy": _privacy(release),
        "budget": _budget(release),
        "groups": [_group(group, echo["kind"]) for group in release.groups],
    }


def _privacy(release: Release) -> dict[str, Any]:
    return {"epsilon": release.epsilon, "delta": release.delta, "mechanism": MECHANISM,
            "unit": "member", "contributions": release.contributions,
            "sensitivity": release.sensitivity, "noise_scale": release.noise_scale,
            "confidence": release.confidence, "accuracy": release.accuracy,
            "minimum_cohort": release.minimum_cohort}


def _budget(release: Release) -> dict[str, Any]:
    return {"epsilon_spent": release.budget.spent,
            "epsilon_remaining": release.budget.remaining,
            "renews_at": iso(release.budget.renews_at)}


def _group(group: Any, kind: str) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    if kind == "touchpoints":
        shown["touchpoint"] = _touchpoint(group.group)
    shown["by"] = _by(group.group) if kind == "touchpoints" else group.group
    shown["suppressed"] = group.suppressed
    shown["respondents"] = _estimate(group.respondents)
    shown["value"] = _estimate(group.value) if kind != "profile" else None
    shown["counts"] = None if group.counts is None else [
        {"category": str(category), **_estimate_values(estimate)}
        for category, estimate in group.counts]
    return shown


def _touchpoint(label: Any) -> str:
    return label[0] if isinstance(label, tuple) else label


def _by(label: Any) -> Any:
    return label[1] if isinstance(label, tuple) else None


def _estimate(estimate: Estimate | None) -> dict[str, float] | None:
    return None if estimate is None else _estimate_values(estimate)


def _estimate_values(estimate: Estimate) -> dict[str, float]:
    return {"value": float(estimate.value), "low": float(estimate.low),
            "high": float(estimate.high)}


@contextlib.contextmanager
def _as_query_errors() -> Iterator[None]:
    """The service's refusals of the query (an epsilon past the vault's maximum, say) as the
    API's 400."""
    try:
        yield
    except ValidationError as exc:
        raise QueryError({k: list(v) for k, v in exc.errors.items()}) from None
