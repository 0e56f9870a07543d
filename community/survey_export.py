"""Surveys' part of a member's export: their answers as they gave them (text opened with their
key), the surveys they skipped, and how they answered attribute requests.

How the parts of an export meet is in :mod:`vault.export`. A feedback request's answer names
the journal entry it made (the journal itself is in the vault's part).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vault.export import DATA_STORE, NULLABLE_TIME, STRINGS, Exporter, Section, iso, list_of

from .attribute_requests import AttributeRequestService
from .repositories import QuestionRecord
from .surveys import SurveyService

_ANSWER = {"type": "object", "additionalProperties": False,
           "required": ["position", "kind", "prompt", "value", "choices", "chosen", "text"],
           "properties": {"position": {"type": "integer"},
                          "kind": {"enum": ["rating", "nps", "single", "multiple", "text"]},
                          "prompt": {"type": "string", "description": "The question asked."},
                          "value": {"type": ["integer", "null"],
                                    "description": "A rating, a score, or the index of the"
                                                   " one choice among the question's"},
                          "choices": {"type": ["array", "null"], "items": {"type": "integer"},
                                      "description": "The indexes of several choices"},
                          "chosen": {"type": ["array", "null"], "items": {"type": "string"},
                                     "description": "The words of what was chosen"},
                          "text": {"type": ["string", "null"]}}}


def _answer(question: QuestionRecord, value: int | None, choices: Sequence[int] | None,
            text: str | None) -> dict[str, Any]:
    """One answer with its question and the words of the choices made, so that the export
    reads on its own once the survey has closed."""
    picked = ([value] if question.kind == "single" and value is not None
              else list(choices) if choices is not None else None)
    return {"position": question.position, "kind": question.kind, "prompt": question.prompt,
            "value": value, "choices": list(choices) if choices is not None else None,
            "chosen": None if picked is None else [question.choices[i] for i in picked
                                                   if 0 <= i < len(question.choices)],
            "text": text}


def survey_exporter(*, surveys: SurveyService, requests: AttributeRequestService) -> Exporter:
    def answers(member_id: str) -> list[dict[str, Any]]:
        found = []
        for asked in surveys.everything_answered(member_id):
            questions = {q.position: q for q in asked.survey.questions}
            found.append({
                "survey": asked.survey.id, "brand": asked.survey.record.brand_id,
                "title": asked.survey.record.title, "kind": asked.survey.record.kind,
                "answered_at": iso(asked.answered_at), "journal_entry": asked.journal_entry,
                "answers": [_answer(questions[a.position], a.value, a.choices, a.text)
                            for a in asked.answers]})
        return found

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
                        " them, each with its question and the words of what you chose."),
            answers, (f"{DATA_STORE}:survey_answers", f"{DATA_STORE}:survey_journal_entries")),
        Section("survey_skips", STRINGS | {"description": "The surveys you chose to skip."},
                surveys.skipped, (f"{DATA_STORE}:survey_skips",)),
        Section("attribute_request_responses", list_of({
            "request": {"type": "string"}, "outcome": {"type": "string"}},
            description="How you answered brands' requests for a profile attribute: shared"
                        " (it counts for the brand), kept (in your profile only), declined."),
            responses, (f"{DATA_STORE}:attribute_request_responses",)),
    ))
