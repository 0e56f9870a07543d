"""The outer loop: a brand tells the members who took part what it did with what they said.

A brand posts "you said, we did" against one of its touchpoints, one of its surveys or an idea
posted in one of its challenges: what it heard, what it changed, and when the change took
effect. The members who took part (a touchpoint: those who gave the brand feedback there; a
survey: those who answered it; an idea: its author and those who voted for it) see it on
their page, next to the aggregate they contributed to.

Which aggregate, and why that one: the aggregate is made **once, when the post is made**, as a
differentially private release paid from the brand's own privacy budget (the front door's
``release`` callable, over ``brand_gateway/insights/releases.py``), over the members who count
for the brand under the counting rule, and stored with the post. Members are shown exactly
that stored release, never a figure computed for them: so a member's page shows nothing the
brand itself was not given, showing it spends no budget however often it is looked at, and a
small cohort stays suppressed for members as for the brand. A post whose release could not be
paid (budget spent) or had nothing to release carries none, and says so. An idea's aggregate
is its vote count, which the brand reads exactly already: it is shown as it was when posted,
and spends nothing.

Invariants: posts are withdrawn, never deleted or edited (a member who saw one can still tell
it was taken back); a brand lists and withdraws only its own (another brand's is as unknown as
a missing one); each post is a ``loop:wedid:posted`` ledger entry with the SHA-256 of its
text and the epsilon its release spent, never the text. Plain Python, no Flask.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from consent.context import Consent
from consent.event_details import WeDidPosted
from vault.catalog import TOUCHPOINT_KEYS, clean_text
from vault.errors import ConflictError, NotFoundError, ValidationError

from .repositories import WeDidRepository, WeDidRow

SUBJECT_KINDS = ("touchpoint", "survey", "idea")
SUBJECT_PATTERNS = {"survey": re.compile(r"srv_[0-9a-f]{24}"),
                    "idea": re.compile(r"idea_[0-9a-f]{24}")}
#: Purposes whose aggregate grants a "we did" release may count: analytics, as DPV has it.
RELEASE_PURPOSES = ("dpv:ServiceOptimisation", "dpv:ResearchAndDevelopment")
DEFAULT_PURPOSE = "dpv:ServiceOptimisation"
MAX_SAID = 500
MAX_DID = 2000
EARLIEST = dt.date(2000, 1, 1)
NO_SUCH_POST = "This brand has posted nothing with this id."

#: The front door's release callable, ``(brand id, subject kind, rows)``: for a touchpoint the
#: :data:`RatingRow` list, for a survey ``(questions, values)`` (its rating and NPS questions
#: and the :data:`SurveyValueRow` list). It returns the stored release (JSON-able: it says its
#: epsilon and whether it was suppressed), or ``None`` if nothing could be released.
Releaser = Callable[[str, str, Any], "dict[str, Any] | None"]
#: The keys every stored release has (``None`` where they do not apply).
RELEASE_KEYS = ("epsilon", "confidence", "minimum_cohort", "suppressed", "respondents",
                "mean_rating", "nps", "questions", "votes", "made_at")


@dataclass(frozen=True)
class WeDidInput:
    subject_kind: str
    subject_ref: str
    said: str
    did: str
    changed_on: str
    purpose: str


@dataclass(frozen=True)
class WeDid:
    id: str
    brand_id: str
    subject_kind: str
    subject_ref: str
    said: str
    did: str
    changed_on: str
    release: dict[str, Any] | None
    posted_at: int
    withdrawn_at: int | None


def validate(raw: Mapping[str, Any], *, today: dt.date) -> WeDidInput:
    """A :class:`WeDidInput`, or one :class:`ValidationError` naming every field."""
    errors: dict[str, list[str]] = {}
    for key in sorted(set(raw) - {"subject_kind", "subject", "said", "did", "changed_on",
                                  "purpose"}):
        errors[key] = ["Unknown field."]
    kind = raw.get("subject_kind")
    if kind not in SUBJECT_KINDS:
        errors["subject_kind"] = [f"One of: {', '.join(SUBJECT_KINDS)}."]
    subject = raw.get("subject")
    if kind == "touchpoint" and subject not in TOUCHPOINT_KEYS:
        errors["subject"] = ["A touchpoint key: " + ", ".join(sorted(TOUCHPOINT_KEYS)) + "."]
    elif kind in SUBJECT_PATTERNS and not (
            isinstance(subject, str) and SUBJECT_PATTERNS[kind].fullmatch(subject)):
        errors["subject"] = [f"The id of one of your {kind}s."]
    texts: dict[str, str] = {}
    for name, limit in (("said", MAX_SAID), ("did", MAX_DID)):
        try:
            texts[name] = clean_text(raw.get(name) or "", max_length=limit, multiline=True)
            if not texts[name]:
                errors[name] = ["Write it: it is what members will read."]
        except ValueError as exc:
            errors[name] = [str(exc)]
    changed = raw.get("changed_on")
    try:
        day = changed if isinstance(changed, dt.date) else dt.date.fromisoformat(str(changed))
        if not EARLIEST <= day <= today + dt.timedelta(days=366):
            errors["changed_on"] = [f"A date from {EARLIEST} to a year from today."]
        changed = day.isoformat()
    except ValueError:
        errors["changed_on"] = ["A date as YYYY-MM-DD, for example 2026-03-31."]
    purpose = raw.get("purpose", DEFAULT_PURPOSE)
    if purpose not in RELEASE_PURPOSES or (kind == "idea" and "purpose" in raw):
        errors["purpose"] = [f"One of: {', '.join(RELEASE_PURPOSES)}; none for an idea."]
    if errors:
        raise ValidationError(errors)
    return WeDidInput(str(kind), str(subject), texts["said"], texts["did"], str(changed),
                      str(purpose))


class WeDidService:
    def __init__(self, *, posts: WeDidRepository, consent: Consent) -> None:
        self._posts = posts
        self._consent = consent
        self._clock = consent.vault.clock

    def today(self) -> dt.date:
        return dt.datetime.fromtimestamp(self._clock(), dt.UTC).date()

    def check(self, raw: Mapping[str, Any]) -> WeDidInput:
        return validate(raw, today=self.today())

    def post(self, brand_id: str, raw: Mapping[str, Any], *, release: Releaser) -> WeDid:
        """Validate, make the release once (``release``, paid by the brand), store the post
        and record ``loop:wedid:posted``."""
        wanted = self.check(raw)
        now = int(self._clock())
        kind, ref = wanted.subject_kind, wanted.subject_ref
        if kind != "touchpoint" and self._posts.subject_brand(kind, ref) != brand_id:
            # Another brand's survey or idea is as unknown as a missing one.
            raise ValidationError({"subject": [f"None of your {kind}s has this id."]})
        made: dict[str, Any] | None
        if kind == "touchpoint":
            made = release(brand_id, kind, self._posts.touchpoint_ratings(
                brand_id, ref, wanted.purpose, now))
        elif kind == "survey":
            questions = self._posts.survey_questions(ref)
            made = release(brand_id, kind, (questions, self._posts.survey_values(
                ref, wanted.purpose, now))) if questions else None
        else:
            # The brand reads an idea's exact votes already (community/cocreation.py): its
            # members may see that count, and nothing is spent.
            made = {**dict.fromkeys(RELEASE_KEYS), "epsilon": 0.0, "suppressed": False,
                    "votes": self._posts.idea_votes(ref), "made_at": now}
        post_id = "wedid_" + os.urandom(12).hex()
        text = json.dumps([wanted.said, wanted.did, wanted.changed_on], ensure_ascii=False)
        with self._posts.transaction():
            self._posts.insert(WeDidRow(
                post_id, brand_id, wanted.subject_kind, wanted.subject_ref, wanted.said,
                wanted.did, wanted.changed_on, None if made is None else json.dumps(made),
                now, None))
            self._consent.ledger.record_event(actor="brand:" + brand_id, details=WeDidPosted(
                post=post_id, brand=brand_id, subject_kind=wanted.subject_kind,
                subject=wanted.subject_ref,
                sha256=hashlib.sha256(text.encode()).hexdigest(),
                epsilon=float(made["epsilon"]) if made else 0.0,
                suppressed=bool(made["suppressed"]) if made else None))
        return self.get(brand_id, post_id)

    def get(self, brand_id: str, post_id: str) -> WeDid:
        row = self._posts.get(post_id)
        if row is None or row.brand_id != brand_id:
            raise NotFoundError(NO_SUCH_POST)
        return _post(row)

    def for_brand(self, brand_id: str, *, withdrawn: bool = False, limit: int = 50,
                  offset: int = 0) -> list[WeDid]:
        return [_post(r) for r in self._posts.for_brand(brand_id, withdrawn=withdrawn,
                                                         limit=limit, offset=offset)]

    def withdraw(self, brand_id: str, post_id: str) -> WeDid:
        self.get(brand_id, post_id)
        if not self._posts.withdraw(post_id, brand_id, int(self._clock())):
            raise ConflictError("This post was withdrawn already.")
        return self.get(brand_id, post_id)

    def for_member(self, member_id: str) -> list[WeDid]:
        """The live posts about what the member took part in, newest first."""
        return [_post(r) for r in self._posts.for_member(member_id)]


def _post(row: WeDidRow) -> WeDid:
    return WeDid(row.id, row.brand_id, row.subject_kind, row.subject_ref, row.said, row.did,
                 row.changed_on, None if row.release is None else json.loads(row.release),
                 row.posted_at, row.withdrawn_at)
