"""The compliance reports over a real SQLCipher data store and ledger: records of processing
from the grants in force, a brand's exposure with what it read, grant activity per period, and
the CSV and JSON shapes (pseudonyms only unless revealed, formulas neutralised)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from compliance.reports import (
    EXPOSURE_COLUMNS,
    NONE_RECORDED,
    ROPA_COLUMNS,
    ReportService,
    activity_document,
    exposure_case,
    exposure_document,
    exposure_rows,
    ropa_document,
    ropa_rows,
    write_csv,
)
from compliance.repositories import Period
from consent.context import Consent
from consent.model import GrantState, Mode
from tests.unit.consent.conftest import Sharing
from vault.clock import FrozenClock
from vault.errors import NotFoundError

from .conftest import brand_read

DAY = 86_400
SECRET_VALUES = ("Alicia", "Zanzibar", "alice@example.org")


@pytest.fixture
def world(sharing: Sharing, consent: Consent, clock: FrozenClock):
    """Velo has Alice (Personalisation: name and interests; Research, aggregate) and Bob
    (Marketing, withdrawn since); Grocer has Bob; Idle Shop nothing. Alice's profile holds values
    no report may show."""
    velo, grocer = sharing.brand("Velo Bikes"), sharing.brand("Green Grocer")
    idle = sharing.brand("Idle Shop")
    alice = sharing.member("alice@example.org")
    bob = sharing.member("bob@example.org")
    sharing.vault.profile.update(alice, {"given_name": "Alicia", "city": "Zanzibar"})
    for member, brand in ((alice, velo), (bob, velo), (bob, grocer)):
        sharing.ready(member, brand.id, agreement="SD-BASE-ATP-S3P")
    personal, _ = sharing.grant(alice, velo.id, "dpv:Personalisation",
                                ("given_name", "category:interests"), retention_days=90)
    clock.advance(DAY)
    research, _ = sharing.grant(alice, velo.id, "dpv:ResearchAndDevelopment",
                                ("health_conditions", "city"), mode=Mode.AGGREGATE,
                                onward_sharing=True, third_party="=cmd|' /C calc'!A0",
                                retention_days=10)
    marketing, _ = sharing.grant(bob, velo.id, "dpv:Marketing", ("contact_email",))
    bought, _ = sharing.grant(bob, grocer.id, "dpv:ServiceProvision", ("city",))
    brand_read(consent, personal, ["given_name", "interests"])
    brand_read(consent, marketing, ["contact_email"])
    clock.advance(DAY)
    brand_read(consent, personal, ["given_name"])
    brand_read(consent, bought, ["city"])          # another brand's read: not Velo's
    consent.grants.withdraw(bob, marketing.id)
    return {"velo": velo, "grocer": grocer, "idle": idle, "alice": alice, "bob": bob,
            "personal": personal, "research": research, "marketing": marketing,
            "bought": bought}


def test_records_of_processing_come_from_the_grants_in_force(reports: ReportService,
                                                            world) -> None:
    report = reports.records_of_processing()
    by_name = {record.brand.name: record for record in report.brands}
    assert list(by_name) == ["Green Grocer", "Idle Shop", "Velo Bikes"]   # by name
    velo = by_name["Velo Bikes"]
    assert velo.members == 1                           # Bob withdrew: only Alice is in force
    assert [p.code for p in velo.purposes] == ["dpv:Personalisation",
                                               "dpv:ResearchAndDevelopment"]
    personal, research = velo.purposes
    assert personal.label == "Personalisation"
    assert personal.legal_basis == "consent, GDPR Art. 6(1)(a)"
    assert personal.fields == ("given_name", "hobbies", "interests")   # the category expanded
    assert [c.code for c in personal.categories] == ["pd:Interest", "pd:Name"]
    assert (personal.members, personal.grants, personal.individual_grants) == (1, 1, 1)
    assert (personal.retention_days_min, personal.retention_days_max) == (90, 90)
    assert personal.onward_sharing_grants == 0 and personal.third_parties == ()
    assert research.special and "Art. 9(2)(a)" in research.legal_basis
    assert research.aggregate_grants == 1 and research.onward_sharing_grants == 1
    assert research.third_parties == ("=cmd|' /C calc'!A0",)
    assert research.jurisdictions == ("EU",)
    assert velo.transfers == NONE_RECORDED and velo.contact == NONE_RECORDED
    assert by_name["Idle Shop"].purposes == () and by_name["Idle Shop"].members == 0
    assert by_name["Green Grocer"].members == 1
    assert report.grants == 3


def test_an_ended_grant_leaves_the_record(reports: ReportService, world, clock: FrozenClock,
                                          sharing: Sharing) -> None:
    clock.advance(40 * DAY)                            # every 30-day grant has ended
    report = reports.records_of_processing()
    assert all(record.purposes == () for record in report.brands)


def test_progress_is_told_the_brands_done(reports: ReportService, world) -> None:
    told: list[int] = []
    reports.records_of_processing(progress=told.append)
    assert told == [1, 2, 3]
    assert reports.live_grant_count() == 3


def test_exposure_lists_every_member_the_brand_ever_had_by_pseudonym(
        reports: ReportService, world, consent: Consent, clock: FrozenClock) -> None:
    report = reports.exposure(world["velo"].id)
    assert report.case == exposure_case(world["velo"].id) == f"exposure:{world['velo'].id}"
    alice, bob = (consent.principal(world["alice"]), consent.principal(world["bob"]))
    assert [m.principal for m in report.members] == [alice, bob]       # by since
    first, second = report.members
    assert first.email is None and second.email is None
    assert first.fields == ("given_name", "hobbies", "interests")     # aggregate not readable
    assert {g.id: g.mode for g in first.grants} == {world["personal"].id: Mode.INDIVIDUAL,
                                                    world["research"].id: Mode.AGGREGATE}
    assert first.since == world["personal"].starts_at
    assert (first.reads, first.fields_read) == (2, ("given_name", "interests"))
    assert first.last_read is not None and first.first_read is not None
    assert first.last_read - first.first_read == DAY
    assert second.grants[0].state is GrantState.WITHDRAWN            # withdrawn, still listed
    assert second.grants[0].ended_at is not None
    assert (second.reads, second.fields_read) == (1, ("contact_email",))
    assert (len(report.members), report.individually_exposed, report.members_read,
            report.reads) == (2, 2, 2, 3)
    assert [c.code for c in report.categories] == ["pd:EmailAddress", "pd:Interest",
                                                   "pd:Name"]


def test_exposure_counts_only_the_brands_own_reads(reports: ReportService, world,
                                                   consent: Consent) -> None:
    grocer = reports.exposure(world["grocer"].id)
    assert [(m.principal, m.reads) for m in grocer.members] == [
        (consent.principal(world["bob"]), 1)]
    assert reports.exposure(world["idle"].id).members == ()


def test_reads_of_an_erased_member_are_counted_never_linked(
        reports: ReportService, world, sharing: Sharing, consent: Consent) -> None:
    bob = consent.principal(world["bob"])
    sharing.vault.erasure.erase(world["bob"])
    report = reports.exposure(world["velo"].id)
    assert [m.principal for m in report.members] == [consent.principal(world["alice"])]
    assert (report.erased_members, report.erased_reads) == (1, 1)
    document = exposure_document(report)
    assert document["totals"]["erased_members_read"] == 1
    assert bob not in json.dumps(document)
    assert report.reads == 2                       # Alice's only


def test_exposure_counts_every_read_among_many(reports: ReportService, world,
                                           consent: Consent) -> None:
    for _ in range(1_100):                    # another brand's, in the same index
        brand_read(consent, world["bought"], ["city"])
    brand_read(consent, world["personal"], ["interests"])
    report = reports.exposure(world["velo"].id)
    assert report.members[0].reads == 3
    assert reports.exposure(world["grocer"].id).members[0].reads == 1_101


def test_a_revealed_principal_carries_its_address_and_no_other_does(
        reports: ReportService, world, consent: Consent) -> None:
    alice = consent.principal(world["alice"])
    report = reports.exposure(world["velo"].id, revealed={alice: "alice@example.org",
                                                          "member:other": "x@example.org"})
    assert [m.email for m in report.members] == ["alice@example.org", None]
    assert report.revealed == 1
    document = exposure_document(report)
    assert document["members"][0]["email"] == "alice@example.org"
    assert "email" not in document["members"][1]
    assert "x@example.org" not in json.dumps(document)


def test_an_unknown_brand_is_not_found(reports: ReportService, world) -> None:
    with pytest.raises(NotFoundError):
        reports.exposure("brand_nosuch")


def test_no_report_holds_an_identity_or_a_profile_value(reports: ReportService,
                                                        world) -> None:
    ropa = reports.records_of_processing()
    texts = [json.dumps(ropa_document(ropa)), _csv(ROPA_COLUMNS, ropa_rows(ropa))]
    for brand in ("velo", "grocer", "idle"):
        exposure = reports.exposure(world[brand].id)
        texts += [json.dumps(exposure_document(exposure)),
                  _csv(EXPOSURE_COLUMNS, exposure_rows(exposure))]
    for text in texts:
        for secret in (*SECRET_VALUES, "bob@example.org", world["alice"], world["bob"]):
            assert secret not in text


def _csv(columns, rows) -> str:
    out = io.StringIO()
    write_csv(out, columns, rows)
    return out.getvalue()


def test_the_csv_neutralises_formulas_and_has_a_row_per_brand_and_purpose(
        reports: ReportService, world) -> None:
    text = _csv(ROPA_COLUMNS, ropa_rows(reports.records_of_processing()))
    lines = text.split("\r\n")
    assert lines[0] == ",".join(ROPA_COLUMNS)
    assert len([line for line in lines if line]) == 1 + 4   # Grocer 1, Idle 1, Velo 2
    assert "'=cmd|' /C calc'!A0" in text and ",=cmd" not in text
    assert "Idle Shop" in text


def test_the_json_document_names_its_basis_and_times_in_utc(reports: ReportService,
                                                            world) -> None:
    document = ropa_document(reports.records_of_processing())
    assert document["basis"].startswith("GDPR Art. 30(1)")
    assert document["generated_at"].endswith("Z")
    assert document["vault_operator"]["name"]
    velo = next(b for b in document["brands"] if b["name"] == "Velo Bikes")
    assert velo["transfers"] == NONE_RECORDED
    assert velo["purposes"][0]["fields"][0] == {"field": "given_name", "label": "Given name"}


def test_activity_per_month_and_per_week(reports: ReportService, world, sharing: Sharing,
                                         clock: FrozenClock) -> None:
    clock.advance(40 * DAY)                 # the 30-day grants have expired
    months = reports.activity(Period.MONTH)
    assert sum(r.given for r in months) == 4
    assert sum(r.withdrawn for r in months) == 1
    assert sum(r.expired for r in months) == 3   # Bob's withdrawn one is not "expired"
    assert all(r.period.endswith("-01") for r in months)
    weeks = reports.activity(Period.WEEK)
    assert sum(r.given for r in weeks) == 4
    for row in weeks:
        assert datetime.fromisoformat(row.period).replace(tzinfo=UTC).weekday() == 0
    document = activity_document(weeks, Period.WEEK, int(clock()))
    assert document["period"] == "week" and len(document["periods"]) == len(weeks)


def test_activity_buckets_by_utc_calendar_period(reports: ReportService, sharing: Sharing,
                                                 clock: FrozenClock) -> None:
    """A grant given on Sunday 31 January 2027 23:59 UTC is January's and the week of Monday
    25 January; one a minute later is February's and the week of 1 February."""
    brand = sharing.brand("Velo Bikes")
    member = sharing.member()
    sharing.ready(member, brand.id)
    clock.now = datetime(2027, 1, 31, 23, 59, tzinfo=UTC).timestamp()
    sharing.grant(member, brand.id, "dpv:Personalisation", ("given_name",))
    clock.now = datetime(2027, 2, 1, 0, 0, tzinfo=UTC).timestamp()
    sharing.grant(member, brand.id, "dpv:Marketing", ("given_name",))
    assert [(r.period, r.given) for r in reports.activity(Period.MONTH)] == [
        ("2027-01-01", 1), ("2027-02-01", 1)]
    assert [(r.period, r.given) for r in reports.activity(Period.WEEK)] == [
        ("2027-01-25", 1), ("2027-02-01", 1)]
