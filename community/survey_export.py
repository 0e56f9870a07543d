"""Surveys' part of a member's export: their answers as they gave them (text opened with their
key), the surveys they skipped, and how they answered attribute requests.

How the parts of an export meet is in :mod:`vault.export`. A feedback request's answer names
the journal entry it made (the journal itself is in the vault's part).
"""

from __future__ import annotations

from typing import Any

from vault.export import DATA_STORE, NULLABLE_TIME, STRINGS, Exporter, Section, iso, list_of

from .attribute_requests import AttributeRequestService
from .surveys import SurveyService

_ANSWER = {"type": "object", "additionalProperties": False,
           "required": ["position", "value", "choices", "text"],
           "properties": {"position": {"type": "integer"},
                          "value": {"type": ["integer", "null"]},
                          "choices": {"type": ["array", "null"], "items": {"type": "integer"}},
                          "text": {"type": ["string", "null"]}}}


def survey_exporter(*, surveys: SurveyService, requests: AttributeRequestService) -> Exporter:
    def answers(member_id: str) -> list[dict[str, Any]]:
        return [{"survey": asked.survey.id, "brand": asked.survey.record.brand_id,
                 "title": asked.survey.record.title, "kind": asked.survey.record.kind,
                 "answered_at": iso(asked.answered_at), "journal_entry": asked.journal_entry,
                 "answers": [{"position": a.position, "value": a.value,
                              "choices": list(a.choices) if a.choices is not None else None,
                              "text": a.text} for a in asked.answers]}
                for asked in surveys.everything_answered(member_id)]

    def responses(member_id: str) -> list[dict[str, Any]]:
        return [{"request": request_id, "outcome": outcome}
                for request_id, outcome in sorted(requests.responses(member_id).items())]

    return Exporter("surveys", (
        Section("survey_answers", list_of({
            "survey": {"type": "string"}, "brand": {"type": "string"},
            "title": {"type": "string"}, "kind": {"type": "string"},
            "answered_at": NULLABLE_TIME, "journal_entry": {"type": ["integer", "null"]},
            "answers": {"type": "array", "items": _ANSWER}},
            description="Your answers to brands' surveys and feedback requests, as you gave"
                        " them (choices by their index in the survey's list)."),
            answers, (f"{DATA_STORE}:survey_answers", f"{DATA_STORE}:survey_journal_entries")),
        Section("survey_skips", STRINGS | {"description": "The surveys you chose to skip."},
                surveys.skipped, (f"{DATA_STORE}:survey_skips",)),
        Section("attribute_request_responses", list_of({
            "request": {"type": "string"}, "outcome": {"type": "string"}},
            description="How you answered brands' requests for a profile attribute: shared"
                        " (it counts for the brand), kept (in your profile only), declined."),
            responses, (f"{DATA_STORE}:attribute_request_responses",)),
    ))
