"""What the receipt tests share: fixed grants in each variant and event, the published Kantara
schema (``../shared/standards``), and small helpers to walk a receipt."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

from consent.model import AccessEnd, Grant, GrantEvent, GrantStatus, Mode
from consent.receipts import ReceiptSigner
from vault.keys import MasterKey

STANDARDS = Path(__file__).resolve().parents[3].parent / "shared" / "standards"
PRINCIPAL = "member:" + hashlib.sha256(b"member-1").hexdigest()[:32]
AT = 1_795_000_000                       # 2026-11-18T11:06:40Z
DAY = 86_400
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: The master key every receipt test signs with: fixed, so the receipts are too.
FIXED_MASTER = MasterKey(bytes(range(32)))
EMAIL = re.compile(r"[^\s@\"]+@[^\s@\"]+\.[A-Za-z]{2,}")


# -- the Kantara schema, loaded as published ----------------------------------------------------
def strip_json_comments(text: str) -> str:
    """Drop ``//`` comments outside strings (``//`` inside URLs in strings stays)."""
    out: list[str] = []
    in_string = escaped = False
    i = 0
    while i < len(text):
        char = text[i]
        if in_string:
            out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            out.append(char)
        elif text.startswith("//", i):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        else:
            out.append(char)
        i += 1
    return "".join(out)


def kantara_validator() -> Draft4Validator:
    schema = json.loads(strip_json_comments(
        (STANDARDS / "kantara-consent-receipt-v1_1-schema.json").read_text()))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


# -- grants and receipts ------------------------------------------------------------------------
BASE_GRANT = Grant(
    id="grant_00112233445566778899aabb", member_id="alice@example.org", brand_id="brand_velo",
    purpose="dpv:Personalisation", fields=frozenset({"given_name", "category:interests"}),
    mode=Mode.INDIVIDUAL, starts_at=AT, ends_at=AT + 30 * DAY, retention_days=30,
    onward_sharing=False, third_party=None, jurisdiction="EU",
    collection_method="vrmvault member page", agreement="SD-BASE-ATP", terms_version=3,
    status=GrantStatus.ACTIVE, withdrawn_at=None, version=1, created_at=AT, updated_at=AT)
VARIANTS: dict[str, dict[str, Any]] = {
    "plain": {},
    "onward-sharing": {"onward_sharing": True, "third_party": "Acme Statistics Ltd",
                       "mode": Mode.AGGREGATE, "agreement": "SD-BASE-ATP-S3P"},
    "sensitive": {"fields": frozenset({"religion", "health_conditions", "city"}),
                  "purpose": "dpv:ServiceProvision", "agreement": "SD-BASE"},
}


def make_grant(event: GrantEvent = GrantEvent.GIVEN, **changes: Any) -> Grant:
    if event is GrantEvent.NARROWED:
        changes.setdefault("version", 2)
    if event is GrantEvent.WITHDRAWN:
        changes.setdefault("status", GrantStatus.WITHDRAWN)
        changes.setdefault("withdrawn_at", AT + 3 * DAY)
    if event is GrantEvent.RELEASED:
        changes.setdefault("status", GrantStatus.RELEASED)
        changes.setdefault("withdrawn_at", AT + 4 * DAY)
        changes.setdefault("access_ended", AccessEnd.REVOKED_BY_BRAND)
    if event is GrantEvent.REPLACED:
        changes.setdefault("status", GrantStatus.REPLACED)
        changes.setdefault("withdrawn_at", AT + 5 * DAY)
        changes.setdefault("replaced_by", "grant_ffeeddccbbaa998877665544")
    if event is GrantEvent.ACCESS_ENDED:
        changes.setdefault("access_ended", AccessEnd.REFRESH_REPLAY)
        changes.setdefault("access_ended_at", AT + 2 * DAY)
    return dataclasses.replace(BASE_GRANT, **changes)


def event_time(event: GrantEvent) -> int:
    return {GrantEvent.GIVEN: AT, GrantEvent.NARROWED: AT + DAY,
            GrantEvent.WITHDRAWN: AT + 3 * DAY, GrantEvent.EXPIRED: AT + 30 * DAY,
            GrantEvent.ACCESS_ENDED: AT + 2 * DAY, GrantEvent.RELEASED: AT + 4 * DAY,
            GrantEvent.REPLACED: AT + 5 * DAY}[event]


def build(signer: ReceiptSigner, event: GrantEvent = GrantEvent.GIVEN, variant: str = "plain",
          **kwargs: Any) -> dict[str, Any]:
    grant = make_grant(event, **VARIANTS[variant])
    return signer.build(grant, event, at=event_time(event), principal_id=PRINCIPAL,
                        brand_name="Velo Bikes", **kwargs)


def resolve(document: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings(k) + strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


CASES = [(variant, event) for variant in VARIANTS for event in GrantEvent]
