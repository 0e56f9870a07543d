"""The insight community's part of a member's export (see :mod:`vault.export` for how the
layers' parts meet): their care cases, with the brand's answers opened."""

from __future__ import annotations

from typing import Any

from vault.export import DATA_STORE, NULLABLE_TIME, TIME, CsvFile, Exporter, Section, iso, list_of

from .care import CareService

_TEXT = {"type": "string"}
_NULLABLE_TEXT = {"type": ["string", "null"]}


def community_exporter(*, care: CareService) -> Exporter:
    def cases(member_id: str) -> list[dict[str, Any]]:
        return [{"id": c.id, "brand_id": c.brand_id, "grant_id": c.grant_id,
                 "source": c.source, "source_ref": c.source_ref,
                 "contact_field": c.contact_field, "state": c.state.value,
                 "opened_at": iso(c.opened_at), "ends_at": iso(c.ends_at),
                 "answered_at": iso(c.answered_at), "closed_at": iso(c.closed_at),
                 "closed_by": c.closed_by, "answer": c.answer}
                for c in care.for_member(member_id)]

    return Exporter("community", (Section(
        "care_cases", list_of({
            "id": _TEXT, "brand_id": _TEXT, "grant_id": _TEXT, "source": _TEXT,
            "source_ref": _TEXT, "contact_field": _NULLABLE_TEXT, "state": _TEXT,
            "opened_at": TIME, "ends_at": TIME, "answered_at": NULLABLE_TIME,
            "closed_at": NULLABLE_TIME, "closed_by": _NULLABLE_TEXT,
            "answer": _NULLABLE_TEXT},
            description="The times you asked a brand to get back to you after a low score,"
                        " and what the brand answered."),
        cases, tables=(f"{DATA_STORE}:care_cases",),
        csv=CsvFile("care_cases.csv", ("id", "brand_id", "state", "opened_at", "closed_at",
                                       "closed_by", "answer"),
                    "the brands you asked to get back to you, and their answers")),))
