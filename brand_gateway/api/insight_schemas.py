"""The insights API's marshmallow schemas, and its part of the OpenAPI document.

Queries are loaded with ``unknown = RAISE`` like every query of the brand API. A sensitive or
unknown attribute, as a measure or a breakdown, is refused by the schema with the reason in
words (``brand_gateway/insights/personas.py``), before anything is counted or spent.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from marshmallow import Schema, fields, validate
from marshmallow import ValidationError as SchemaError

from ..insights.personas import BREAKDOWNS, PERSONAS, refusal
from ..insights.queries import MEASURES, MINIMUM_EPSILON, SOURCES, TOUCHPOINT_KEYS
from .schemas import _PURPOSES, QuerySchema
from .survey_schemas import SURVEY_ID_PATTERN

FORMATS = ("json", "vega-lite")
INSIGHTS_SCOPE = "insights:read"
_TOUCHPOINT = "(?:" + "|".join(TOUCHPOINT_KEYS) + ")"


class TouchpointList(fields.String):
    """``a,b`` -> ``["a", "b"]``: touchpoints of the journal, each once."""

    def _deserialize(self, value: Any, attr: str | None, data: Any,  # type: ignore[override]
                     **kwargs: Any) -> list[str]:
        items = [item.strip() for item in value.split(",")] if isinstance(value, str) else []
        if not items or any(item not in TOUCHPOINT_KEYS for item in items) or \
                len(set(items)) != len(items):
            raise SchemaError("Give touchpoints of the journal, comma-separated, each once: "
                              + ", ".join(TOUCHPOINT_KEYS) + ".")
        return items


def _usable(*, breakdown: bool) -> Any:
    def check(value: str) -> None:
        reason = refusal(value, breakdown=breakdown)
        if reason:
            raise SchemaError(reason)
    return check


_EPSILON_HELP = ("The privacy loss this query spends from the brand's budget of the period:"
                 f" from {MINIMUM_EPSILON:g} to the vault's maximum per query"
                 " (VRMVAULT_INSIGHTS_MAX_EPSILON, 1 by default); 0.5 (or that maximum, if"
                 " lower) when left out. Less epsilon, more noise.")
_BY_HELP = ("Break the answer down by one non-sensitive attribute; only members who allow it"
            " for the purpose count. Sensitive attributes are refused.")
_FORMAT_HELP = ("json (default): the release with its privacy figures; vega-lite: the same"
                " release as a Vega-Lite v5 specification (chart-ready, with the intervals)."
                " Each is one query, paid for.")


class _InsightQuery(QuerySchema):
    purpose = fields.String(required=True, validate=validate.OneOf(_PURPOSES), metadata={
        "description": "The DPV purpose the insight is for: only members who allow it for"
                       " this purpose count."})
    # Its range is checked by the queries (EpsilonLimits), which know the vault's maximum: a
    # range here too answered 0 with "less than or equal to 10.0", not the true one.
    epsilon = fields.Float(allow_nan=False, metadata={"description": _EPSILON_HELP,
                                                      "minimum": MINIMUM_EPSILON})
    by = fields.String(validate=_usable(breakdown=True), metadata={
        "description": _BY_HELP, "enum": list(BREAKDOWNS)})
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS),
                           metadata={"description": _FORMAT_HELP})


class TouchpointsQuery(_InsightQuery):
    measure = fields.String(load_default="nps", validate=validate.OneOf(MEASURES), metadata={
        "description": "nps: Net Promoter Score (promoters minus detractors, percent of"
                       " respondents), each member by the mean of their scores at the"
                       " touchpoint; rating: mean rating 1-5, each member by their mean"
                       " rating rounded to half points."})
    source = fields.String(load_default="journal", validate=validate.OneOf(SOURCES), metadata={
        "description": "journal (default): the members' feedback journals; surveys: their"
                       " answers to the brand's surveys and feedback requests tied to a"
                       " touchpoint (rating and NPS questions), for the members who allow"
                       " their survey answers. Each is its own release."})
    touchpoints = TouchpointList(metadata={
        "description": "Comma-separated touchpoints (default: all). Each member counts once"
                       " per touchpoint named, so fewer touchpoints, less noise.",
        "pattern": f"^{_TOUCHPOINT}(?:,{_TOUCHPOINT})*$"})


class ProfileQuery(_InsightQuery):
    attribute = fields.String(required=True, validate=_usable(breakdown=False), metadata={
        "description": "The persona attribute to count: motivations (purchase_drivers,"
                       " price_sensitivity, tech_adoption, life_stage), interests, household"
                       " size, age_band (from the date of birth) or region (from the country)."
                       " Sensitive attributes are refused.",
        "enum": list(PERSONAS)})


class SurveyResultsQuery(_InsightQuery):
    """The survey results: the epsilon is shared equally among its questions."""


# -- responses ----------------------------------------------------------------------------
class EstimateSchema(Schema):
    value = fields.Float(required=True)
    low = fields.Float(required=True)
    high = fields.Float(required=True)


class CategoryCountSchema(EstimateSchema):
    category = fields.String(required=True)


class InsightGroupSchema(Schema):
    touchpoint = fields.String(validate=validate.OneOf(TOUCHPOINT_KEYS))
    by = fields.String(required=True, allow_none=True, metadata={
        "description": "The category of the breakdown (null without one)."})
    suppressed = fields.Boolean(required=True, metadata={
        "description": "True when the group's noisy count of members is below the minimum"
                       " cohort: nothing else is given."})
    respondents = fields.Nested(EstimateSchema, required=True, allow_none=True)
    value = fields.Nested(EstimateSchema, required=True, allow_none=True, metadata={
        "description": "The NPS or mean rating, with its interval (touchpoints)."})
    counts = fields.List(fields.Nested(CategoryCountSchema), required=True, allow_none=True,
                         metadata={"description": "Members per category (distributions)."})


class PrivacySchema(Schema):
    epsilon = fields.Float(required=True)
    delta = fields.Float(required=True)
    mechanism = fields.String(required=True)
    unit = fields.String(required=True, metadata={
        "description": "The privacy unit: one member, whatever their number of entries."})
    contributions = fields.Integer(required=True, metadata={
        "description": "Cells one member may add to the release, at most."})
    sensitivity = fields.Float(required=True)
    noise_scale = fields.Float(required=True)
    confidence = fields.Float(required=True)
    accuracy = fields.Float(required=True, metadata={
        "description": "Half-width of one count's interval at the confidence (OpenDP's"
                       " discrete_laplacian_scale_to_accuracy)."})
    minimum_cohort = fields.Integer(required=True)


class BudgetSchema(Schema):
    epsilon_spent = fields.Float(required=True)
    epsilon_remaining = fields.Float(required=True)
    renews_at = fields.DateTime(required=True)


class InsightQueryEchoSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(
        ["touchpoints", "profile", "survey"]))
    survey = fields.String(metadata={"pattern": SURVEY_ID_PATTERN})
    purpose = fields.String(required=True)
    measure = fields.String(validate=validate.OneOf(MEASURES))
    source = fields.String(validate=validate.OneOf(SOURCES))
    touchpoints = fields.List(fields.String())
    attribute = fields.String()
    by = fields.String(required=True, allow_none=True)


class InsightSchema(Schema):
    query = fields.Nested(InsightQueryEchoSchema, required=True)
    privacy = fields.Nested(PrivacySchema, required=True)
    budget = fields.Nested(BudgetSchema, required=True)
    groups = fields.List(fields.Nested(InsightGroupSchema), required=True)


class SurveyQuestionResultSchema(Schema):
    position = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(
        ["rating", "nps", "single", "multiple"]))
    privacy = fields.Nested(PrivacySchema, required=True, metadata={
        "description": "This question's release: its share of the query's epsilon."})
    groups = fields.List(fields.Nested(InsightGroupSchema), required=True)


class SurveyResultsSchema(Schema):
    query = fields.Nested(InsightQueryEchoSchema, required=True)
    epsilon = fields.Float(required=True, metadata={
        "description": "The query's whole epsilon, shared equally among its questions."})
    budget = fields.Nested(BudgetSchema, required=True)
    questions = fields.List(fields.Nested(SurveyQuestionResultSchema), required=True,
                            metadata={"description": "Every question but text ones (text"
                                                     " is never counted)."})


class BudgetProblemSchema(Schema):
    """RFC 9457 problem details of a 429: a rate limit, or a privacy budget that cannot pay."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    epsilon_requested = fields.Float()
    epsilon_remaining = fields.Float()
    renews_at = fields.String()


_VEGA_LITE = {"type": "object", "required": ["$schema", "data"], "description":
              "A Vega-Lite v5 specification (format=vega-lite).",
              "properties": {"$schema": {"type": "string"}, "data": {"type": "object"}}}


def add_insight_paths(spec: APISpec) -> None:
    """The insights operations, their schemas and their 429 (OpenAPI part)."""
    spec.components.schema("Insight", schema=InsightSchema)
    spec.components.schema("SurveyResults", schema=SurveyResultsSchema)
    spec.components.schema("BudgetProblem", schema=BudgetProblemSchema)
    spec.components.response("InsightsTooManyRequests", {
        "description": "This client's requests per minute are spent, or the brand's privacy"
                       " budget of the period cannot pay for the query (epsilon_remaining,"
                       " renews_at). Nothing was released or spent.",
        "content": {"application/problem+json": {"schema": "BudgetProblem"}},
        "headers": {"Retry-After": {"description": "Seconds until the client may try again"
                                                   " (until the budget renews).",
                                    "schema": {"type": "string"}}}})
    spec.components.response("InsightSurveyNotFound", {
        "description": "None of this brand's surveys has this id.",
        "content": {"application/problem+json": {"schema": "Problem"}}})
    security: list[dict[str, list[str]]] = [{"brand": [INSIGHTS_SCOPE]}]
    answer = {"application/json": {"schema": {"oneOf": [
        {"$ref": "#/components/schemas/Insight"}, _VEGA_LITE]}}}
    for path, query, summary, description in (
            ("/insights/touchpoints", TouchpointsQuery, "NPS or mean rating per touchpoint",
             "From the feedback journals of the members who allow the journal for the purpose"
             " now (or, source=surveys, from their answers to surveys tied to a touchpoint);"
             " each member counts once per touchpoint (the mean of their entries there),"
             " however many entries they wrote. Differentially private (OpenDP, discrete"
             " Laplace): the answer states the epsilon spent, the noise scale and a 95%"
             " interval for every figure; groups below the minimum cohort are suppressed."),
            ("/insights/profile", ProfileQuery, "Distribution of a persona attribute",
             "Members per category of a non-sensitive profile attribute, over the members who"
             " allow that attribute for the purpose now; each member counts once (all of"
             " their choices, for interests and purchase drivers). Differentially private,"
             " as the touchpoints.")):
        spec.path(path=path, operations={"get": {
            "summary": summary, "description": description,
            "parameters": [{"in": "query", "schema": query}],
            "responses": {"200": {"description": "OK", "content": answer},
                          "400": "BadRequest", "401": "Unauthorized", "403": "Forbidden",
                          "429": "InsightsTooManyRequests"},
            "security": security}})
    spec.path(path="/insights/surveys/{survey_id}", operations={"get": {
        "summary": "Results of one of the brand's surveys",
        "description": "Per question: members per choice, the mean rating or the NPS, over"
                       " the members who allow their survey answers for the purpose now, each"
                       " by their one answer (all of their choices for a multiple choice)."
                       " Text answers are never counted. One release per question, the"
                       " epsilon shared equally among them; each states its noise and"
                       " intervals.",
        "parameters": [{"in": "path", "name": "survey_id", "required": True,
                        "schema": {"type": "string", "pattern": SURVEY_ID_PATTERN}},
                       {"in": "query", "schema": SurveyResultsQuery}],
        "responses": {"200": {"description": "OK", "content": {"application/json": {
            "schema": {"oneOf": [{"$ref": "#/components/schemas/SurveyResults"},
                                 _VEGA_LITE]}}}},
            "400": "BadRequest", "401": "Unauthorized", "403": "Forbidden",
            "404": "InsightSurveyNotFound", "429": "InsightsTooManyRequests"},
        "security": security}})
