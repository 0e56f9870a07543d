"""Data subject requests' part of a member's export: their requests (with what they wrote,
each brand's state and the results brands returned) and their processing restrictions. How the
parts of an export meet is in :mod:`vault.export`."""

from __future__ import annotations

import base64
from typing import Any

from vault.export import DATA_STORE, NULLABLE_TIME, TIME, CsvFile, Exporter, Section, iso, list_of

from .requests import RequestService

_TEXT = {"type": "string"}
_NULLABLE_TEXT = {"type": ["string", "null"]}


def requests_exporter(*, requests: RequestService) -> Exporter:
    def requests_of(member_id: str) -> list[dict[str, Any]]:
        return [{
            "id": r.id, "regime": r.row.regime, "kind": r.row.kind, "source": r.row.source,
            "text": r.text, "state": r.row.state, "received_at": iso(r.row.received_at),
            "due_on": r.row.due_on, "extension_reason": r.row.extension_reason,
            "fulfilment": r.row.fulfilment, "closed_at": iso(r.row.closed_at),
            "brands": [{"brand_id": t.brand_id, "message": t.message, "state": t.state,
                        "reason": t.reason, "updated_at": iso(t.updated_at)}
                       for t in r.tasks],
            "results": [{"brand_id": next(t.brand_id for t in r.tasks if t.uid == d.task_uid),
                         "name": d.name, "media_type": d.media_type,
                         "data_base64": base64.b64encode(d.data).decode()}
                        for d in r.results]}
            for r in requests.for_member(member_id)]

    def restrictions(member_id: str) -> list[dict[str, Any]]:
        return [{"id": r.id, "brand_id": r.brand_id, "scope": r.scope.value,
                 "basis": r.basis.value, "request": r.request_id, "since": iso(r.since),
                 "lifted_at": iso(r.lifted_at)}
                for r in requests.restrictions(member_id)]

    brand = list_of({"brand_id": _TEXT, "message": _TEXT, "state": _TEXT,
                     "reason": _NULLABLE_TEXT, "updated_at": TIME})
    result = list_of({"brand_id": _TEXT, "name": _TEXT, "media_type": _TEXT,
                      "data_base64": _TEXT})
    return Exporter("data subject requests", (
        Section("data_subject_requests", list_of({
            "id": _TEXT, "regime": _TEXT, "kind": _TEXT, "source": _TEXT,
            "text": _NULLABLE_TEXT, "state": _TEXT, "received_at": TIME, "due_on": _TEXT,
            "extension_reason": _NULLABLE_TEXT, "fulfilment": _NULLABLE_TEXT,
            "closed_at": NULLABLE_TIME, "brands": brand, "results": result},
            description="Your data subject requests (GDPR, CCPA), what each brand did with"
                        " them, and the documents brands returned."),
            requests_of, tables=(f"{DATA_STORE}:dsr_requests", f"{DATA_STORE}:dsr_tasks",
                                 f"{DATA_STORE}:dsr_results", f"{DATA_STORE}:dsr_history"),
            csv=CsvFile("data_subject_requests.csv",
                        ("id", "regime", "kind", "state", "received_at", "due_on",
                         "closed_at"), "your data subject requests")),
        Section("processing_restrictions", list_of({
            "id": {"type": "integer"}, "brand_id": _NULLABLE_TEXT, "scope": _TEXT,
            "basis": _TEXT, "request": _NULLABLE_TEXT, "since": TIME,
            "lifted_at": NULLABLE_TIME},
            description="The restrictions of processing, objections and limits on sensitive"
                        " data you asked for (brand_id null: every brand)."),
            restrictions, tables=(f"{DATA_STORE}:processing_restrictions",)),
    ))
