"""consent.events: the tags, canonical entry bodies, and the personal-data guard."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consent.errors import ConsentInputError, PersonalDataError
from consent.events import (
    Event,
    EventTag,
    canonical_body,
    canonical_details,
    check_tag,
    utc_time,
)

REQUIRED_TAGS = {
    "consent:grant:given", "consent:grant:narrowed", "consent:grant:withdrawn",
    "consent:grant:expired", "consent:receipt:issued", "consent:terms:agreed",
    "consent:terms:changed", "access:profile:read", "access:feedback:read",
    "member:data:erased", "member:data:exported", "ledger:checkpoint:signed",
}
ACTOR = "5f2b" * 16


def test_every_required_tag_exists_and_is_source_subject_action() -> None:
    """``source:subject:action``, or ``source:action`` where the source is the subject
    (``survey:published``)."""
    assert REQUIRED_TAGS <= {tag.value for tag in EventTag}
    for tag in EventTag:
        parts = tag.value.split(":")
        assert len(parts) in (2, 3) and all(parts), tag.value
        assert tag.name == tag.value.replace(":", "_").upper(), tag.value


def test_the_body_is_canonical_json() -> None:
    body = canonical_body(7, "2027-01-15T08:00:00.000Z", Event(
        EventTag.CONSENT_GRANT_GIVEN, ACTOR, {"purpose": "dpv:Marketing", "brand": "b1",
                                              "fields": ["postcode"], "note": "café"}))
    assert body == (
        '{"actor":"' + ACTOR + '","details":{"brand":"b1","fields":["postcode"],"note":"café",'
        '"purpose":"dpv:Marketing"},"seq":7,"tag":"consent:grant:given",'
        '"time":"2027-01-15T08:00:00.000Z"}').encode("utf-8")
    assert json.loads(body)["seq"] == 7


def test_time_is_utc_iso_8601() -> None:
    assert utc_time(1_800_000_000.25) == "2027-01-15T08:00:00.250Z"
    assert utc_time(0) == "1970-01-01T00:00:00.000Z"


@pytest.mark.parametrize(("actor", "details"), [
    (ACTOR, {"subject": "alice@example.org"}),
    (ACTOR, {"nested": {"deeper": ["x", "Contact: Bob.Smith+tag@mail.example.co.uk"]}}),
    (ACTOR, {"alice@example.org": "as a key"}),
    ("alice@example.org", {}),
    (ACTOR, {"unicode": "jürgen@exämple.de"}),
])
def test_anything_like_an_email_address_is_refused(actor: str, details: dict) -> None:
    event = Event(EventTag.ACCESS_PROFILE_READ, actor, details)
    for check in (lambda: canonical_body(0, utc_time(0), event),
                  lambda: canonical_details(event)):      # what an access spool takes
        with pytest.raises(PersonalDataError) as raised:
            check()
        assert isinstance(raised.value, ValueError)
        assert "@" not in raised.value.message      # the refusal never repeats the address
        assert raised.value.status == 422


@pytest.mark.parametrize("details", [
    {"handle": "@velo"}, {"x": "a @ b"}, {"version": "pkg@1.2"}, {"digest": "ab" * 32},
])
def test_lookalikes_that_are_not_addresses_pass(details: dict) -> None:
    canonical_body(0, utc_time(0), Event(EventTag.ACCESS_PROFILE_READ, ACTOR, details))


@pytest.mark.parametrize(("actor", "details"), [
    ("", {}),
    ("x" * 257, {}),
    (ACTOR, {"bad": {1, 2}}),
    (ACTOR, {"bad": math.nan}),
    (ACTOR, {"bad": object()}),
    (ACTOR, {"bad": "\ud800"}),
    (ACTOR, ["not", "a", "mapping"]),
])
def test_details_must_be_plain_json(actor: str, details) -> None:
    event = Event(EventTag.ACCESS_PROFILE_READ, actor, details)
    with pytest.raises(ConsentInputError):
        canonical_body(0, utc_time(0), event)
    with pytest.raises(ConsentInputError):
        canonical_details(event)


def test_an_actor_that_is_not_text_is_refused_on_either_way_to_a_body() -> None:
    event = Event(EventTag.ACCESS_PROFILE_READ, "brand:\ud800", {"purpose": "dpv:Marketing"})
    with pytest.raises(ConsentInputError):
        canonical_details(event)
    with pytest.raises(ConsentInputError):
        canonical_body(0, utc_time(0), event)
    built_around = Event(event.tag, event.actor, event.details,
                         details_text='{"purpose":"dpv:Marketing"}')
    with pytest.raises(ConsentInputError):
        canonical_body(0, utc_time(0), built_around)


def test_canonical_details_are_the_details_of_the_body() -> None:
    event = Event(EventTag.ACCESS_PROFILE_READ, ACTOR,
                  {"purpose": "dpv:Marketing", "fields": ["city", "given_name"], "note": "café"})
    text = canonical_details(event)
    assert text == '{"fields":["city","given_name"],"note":"café","purpose":"dpv:Marketing"}'
    assert ',"details":' + text + ',' in canonical_body(3, utc_time(0), event).decode()
    with pytest.raises(ConsentInputError):
        canonical_details(Event("no:such:tag", ACTOR, {}))       # type: ignore[arg-type]


def test_unknown_tags_are_refused() -> None:
    assert check_tag("member:data:exported") is EventTag.MEMBER_DATA_EXPORTED
    with pytest.raises(ConsentInputError):
        check_tag("consent:grant:forgotten")
    assert check_tag("dsr:request:received") is EventTag.DSR_REQUEST_RECEIVED
    with pytest.raises(ConsentInputError):      # a request is received, never "opened"
        check_tag("dsr:request:opened")


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)


@given(details=st.dictionaries(st.text(), _json_values, max_size=6),
       actor=st.text(min_size=1, max_size=40), seq=st.integers(0, 2**53),
       moment=st.integers(0, 253_402_300_799), tag=st.sampled_from(list(EventTag)))
def test_a_body_built_around_the_details_text_is_the_canonical_body(details, actor, seq, moment,
                                                                    tag) -> None:
    # A spool's merger hands the ledger the details' canonical text as it was sealed; the body
    # built around it must be the very bytes (and so the very leaf) of the canonical body.
    event = Event(tag, actor, details)
    try:
        expected = canonical_body(seq, utc_time(moment), event)
    except (ConsentInputError, PersonalDataError):
        return                       # refused either way (the spool refuses it earlier)
    text = canonical_details(event)
    again = Event(tag, actor, json.loads(text), details_text=text)
    assert canonical_body(seq, utc_time(moment), again) == expected
