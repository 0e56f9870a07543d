"""Rich Authorization Requests (RFC 9396) for member data: what a brand asks a member for.

Authlib has no RAR support; this module is ours. A brand sends ``authorization_details``, a JSON
array, with one object per purpose, of our type :data:`DETAIL_TYPE`::

    [{"type": "vrmvault-member-data",
      "purpose": "dpv:ServiceProvision",          # a DPV purpose code
      "datatypes": ["given_name", "pd:City"],      # vault fields or DPV personal-data categories
      "actions": ["read"],                         # optional; "read" is the only action
      "duration_days": 30,                         # optional, how long the grant lasts
      "retention_days": 30}]                       # optional, how long the brand keeps copies

Rules, from RFC 9396 sec. 2 and 5: the type must be ours; an object with an unknown or malformed
member, a duplicate purpose, an unknown data type or an empty ``datatypes`` is refused as a whole
with ``invalid_authorization_details``, never partly honoured. A DPV category stands for the
vault fields of that category, never for a sensitive one (GDPR Art. 9 data must be named field by
field, as in grants). ``datatypes`` are expanded to field names here, so the consent screen and
the grant list each field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.base import invalid_error_characters

from consent.grants import MAX_RETENTION_DAYS, BrandRequest
from consent.model import Mode
from consent.vocabulary import (
    ATTRIBUTE_CATEGORY,
    FEEDBACK,
    FEEDBACK_CATEGORY,
    FIELD_CATEGORY,
    PURPOSE_BY_CODE,
    SENSITIVE_FIELDS,
    SURVEY,
)

from . import json_input
from .errors import (
    InvalidAuthorizationDetailsError,
    JsonConstantError,
    JsonDuplicateNameError,
    JsonTooDeepError,
)

DETAIL_TYPE = "vrmvault-member-data"
ACTIONS = ("read",)
MAX_DETAILS = len(PURPOSE_BY_CODE)
MAX_DATATYPES = 64
MAX_PARAMETER_BYTES = 8 * 1024
DEFAULT_DURATION_DAYS = 30
DEFAULT_RETENTION_DAYS = 30
MAX_DURATION_DAYS = 3650
_KEYS = frozenset({"type", "purpose", "datatypes", "actions", "duration_days",
                   "retention_days", "locations"})

# DPV category code -> the non-sensitive vault fields it stands for.
CATEGORY_FIELDS: dict[str, tuple[str, ...]] = {}
for _field, _category in [*ATTRIBUTE_CATEGORY.items(), (FEEDBACK, FEEDBACK_CATEGORY)]:
    if _field not in SENSITIVE_FIELDS:
        CATEGORY_FIELDS.setdefault(_category.code, ())
        CATEGORY_FIELDS[_category.code] += (_field,)


@dataclass(frozen=True)
class MemberDataDetail:
    """One parsed authorization details object: a purpose and the fields asked for."""

    purpose: str
    fields: tuple[str, ...]            # vault field names, in catalogue order
    duration_days: int = DEFAULT_DURATION_DAYS
    retention_days: int = DEFAULT_RETENTION_DAYS

    def brand_request(self, brand_id: str) -> BrandRequest:
        return BrandRequest(brand_id=brand_id, purpose=self.purpose,
                            fields=frozenset(self.fields), mode=Mode.INDIVIDUAL,
                            days=self.duration_days, retention_days=self.retention_days)

    def as_granted(self, fields: Iterable[str], *, grant_id: str, ends_at: int
                   ) -> dict[str, Any]:
        """The object as the member approved it: for the token response (RFC 9396 sec. 7)."""
        chosen = set(fields)
        return {"type": DETAIL_TYPE, "purpose": self.purpose,
                "datatypes": [f for f in self.fields if f in chosen], "actions": list(ACTIONS),
                "duration_days": self.duration_days, "retention_days": self.retention_days,
                "grant_id": grant_id, "expires_at": ends_at}


def narrowed(granted: Mapping[str, Any], *, fields: Iterable[str], ends_at: int
             ) -> dict[str, Any]:
    """An object as granted (:meth:`MemberDataDetail.as_granted`) once its member narrowed the
    grant: only the ``fields`` it still covers, in their order, and its new end."""
    kept = set(fields)
    return {**granted, "datatypes": [f for f in granted["datatypes"] if f in kept],
            "expires_at": ends_at}


def parse(raw: str | None, *, locations: Iterable[str] = ()) -> tuple[MemberDataDetail, ...]:
    """The ``authorization_details`` request parameter, validated; raises
    :class:`InvalidAuthorizationDetailsError` with a description naming the first problem."""
    if raw is None or not raw.strip():
        raise InvalidAuthorizationDetailsError(
            description=f"Send authorization_details: a JSON array of {DETAIL_TYPE!r} objects.")
    if len(raw.encode()) > MAX_PARAMETER_BYTES:
        raise InvalidAuthorizationDetailsError(description="authorization_details is too long.")
    try:
        document = json_input.loads(raw)
    except JsonTooDeepError as exc:
        raise InvalidAuthorizationDetailsError(
            description=f"authorization_details nests arrays and objects more than"
                        f" {exc.max_depth} levels deep.") from None
    except JsonDuplicateNameError as exc:
        raise InvalidAuthorizationDetailsError(
            description=f"authorization_details names {exc.name!r} twice in one object.",
        ) from None
    except JsonConstantError as exc:
        raise InvalidAuthorizationDetailsError(
            description=f"authorization_details holds {exc.constant}, which is not JSON.",
        ) from None
    except ValueError:
        raise InvalidAuthorizationDetailsError(
            description="authorization_details is not valid JSON.") from None
    if not isinstance(document, list) or not document:
        raise InvalidAuthorizationDetailsError(
            description="authorization_details must be a non-empty JSON array.")
    if len(document) > MAX_DETAILS:
        raise InvalidAuthorizationDetailsError(description="Too many authorization details.")
    details = tuple(_detail(obj, i, frozenset(locations)) for i, obj in enumerate(document))
    purposes = [d.purpose for d in details]
    if len(set(purposes)) != len(purposes):
        raise InvalidAuthorizationDetailsError(
            description="Send one object per purpose; a purpose appears twice.")
    return details


def _detail(obj: Any, index: int, locations: frozenset[str]) -> MemberDataDetail:
    where = f"authorization_details[{index}]"

    def fail(problem: str) -> InvalidAuthorizationDetailsError:
        return InvalidAuthorizationDetailsError(description=f"{where}: {problem}")

    if not isinstance(obj, Mapping):
        raise fail("must be a JSON object.")
    if obj.get("type") != DETAIL_TYPE:
        raise fail(f"unknown type; this server knows {DETAIL_TYPE!r}.")
    unknown = sorted(set(obj) - _KEYS)
    if unknown:
        raise fail(f"unknown member {_shown(unknown[0], 40)}.")
    purpose = obj.get("purpose")
    if not isinstance(purpose, str) or purpose not in PURPOSE_BY_CODE:
        raise fail("purpose must be one of " + ", ".join(PURPOSE_BY_CODE) + ".")
    actions = obj.get("actions", list(ACTIONS))
    if not isinstance(actions, list) or not actions or any(a not in ACTIONS for a in actions):
        raise fail("the only action is 'read'.")
    if "locations" in obj:
        given = obj["locations"]
        if not isinstance(given, list) or not given or \
                any(not isinstance(x, str) or x not in locations for x in given):
            raise fail("locations must name this vault's brand API.")
    datatypes = obj.get("datatypes")
    if not isinstance(datatypes, list) or not datatypes or len(datatypes) > MAX_DATATYPES:
        raise fail("datatypes must be a non-empty array of vault fields or DPV categories.")
    fields: set[str] = set()
    for datatype in datatypes:
        if not isinstance(datatype, str):
            raise fail("datatypes must be strings.")
        if datatype == SURVEY:
            raise fail("survey answers are not asked for here: members share them by joining"
                       " the brand's community, and the brand reads them through the survey"
                       " API.")
        if datatype in FIELD_CATEGORY:
            fields.add(datatype)
        elif datatype in CATEGORY_FIELDS:
            fields.update(CATEGORY_FIELDS[datatype])
        else:
            raise fail(f"unknown data type {_shown(datatype, 60)}"
                       + (" (sensitive data is asked for field by field)"
                          if datatype.startswith("pd:") else "") + ".")
    duration = _days(obj, "duration_days", DEFAULT_DURATION_DAYS, MAX_DURATION_DAYS, fail)
    retention = _days(obj, "retention_days", DEFAULT_RETENTION_DAYS, MAX_RETENTION_DAYS, fail,
                      minimum=0)
    ordered = tuple(f for f in FIELD_CATEGORY if f in fields)
    return MemberDataDetail(purpose, ordered, duration, retention)


def _shown(value: str, limit: int) -> str:
    """``value`` cut and quoted for an ``error_description``: RFC 6749 sec. 4.1.2.1 allows only
    %x20-21 / %x23-5B / %x5D-7E there (Authlib raises ``ValueError`` on anything else, which
    would turn the brand's bad request into a 500), so any other character shows as ``?``."""
    return "'" + "".join("?" if c == "'" or invalid_error_characters(c) else c
                         for c in value[:limit]) + "'"


def _days(obj: Mapping[str, Any], key: str, default: int, maximum: int, fail: Any, *,
          minimum: int = 1) -> int:
    value = obj.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise fail(f"{key} must be a whole number from {minimum} to {maximum}.")
    return value


def metadata() -> dict[str, Any]:
    """What RFC 9396 sec. 10 puts in the server metadata."""
    return {"authorization_details_types_supported": [DETAIL_TYPE]}
