"""demo.members: realistic demo data, written only through the services' sealing code paths."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest

from demo import members as demo_members
from demo.content import DEMO_BRANDS, SHOWCASE_JOURNAL, SHOWCASE_PROFILE, TEMPLATES
from demo.members import DEMO_PASSWORD, SHOWCASE_EMAIL, load_demo
from intents.catalog import CATEGORY_BY_ID
from tests.unit.vault.sqlcipher_pages import decrypted_pages
from vault.catalog import BY_KEY, coerce
from vault.errors import ConflictError, ValidationError
from vault.feedback import validate
from vault.passwords import problems

DEMO_NAMES = {b.name for b in DEMO_BRANDS}


@pytest.fixture
def loaded(vault):
    marks: list[int] = []
    report = load_demo(vault, members=50, progress=marks.append)
    return report, marks


def member_ids(vault) -> list[str]:
    return [r["id"] for r in vault.data.all("SELECT id FROM members")]


def all_feedback(vault):
    return [(m, e) for m in member_ids(vault) for e in vault.feedback.for_member(m)]


def test_the_demo_brands_trade_in_categories_of_the_intent_catalog() -> None:
    assert all(category in CATEGORY_BY_ID for b in DEMO_BRANDS for category in b.categories)


def test_creates_the_brands_and_the_members(vault, loaded):
    report, _ = loaded
    assert {b.name for b in vault.brands.all()} == DEMO_NAMES
    assert all(b.categories for b in vault.brands.all())
    assert (report.brands, report.brands_added, report.members) == (8, 8, 50)
    count = vault.data.one
    assert count("SELECT count(*) FROM members")[0] == 50
    assert count("SELECT count(*) FROM feedback")[0] == report.feedback_entries > 0
    assert count("SELECT count(*) FROM profile_values")[0] == report.profile_values > 0
    assert report.seconds > 0 and report.feedback_per_second > 0
    # Every member has a key; the key store's cache was emptied after the batch.
    assert vault.keys_database.one("SELECT count(*) FROM member_keys")[0] == 50
    assert vault.key_store._cache == {}


def test_the_showcase_member_signs_in_with_the_demo_password(vault, loaded):
    member = vault.members.authenticate(SHOWCASE_EMAIL, DEMO_PASSWORD, client="test")
    assert vault.members.get(member).email == SHOWCASE_EMAIL
    assert vault.profile.get(member) == SHOWCASE_PROFILE
    journal = vault.feedback.for_member(member)
    assert len(journal) == len(SHOWCASE_JOURNAL)
    assert {e.touchpoint for e in journal} >= {"purchase", "delivery", "billing", "returns"}
    # The other demo members share the password (and its one hash).
    other = vault.members.authenticate("member7@demo.vrmvault.example", DEMO_PASSWORD,
                                       client="test")
    assert other != member


def test_the_demo_password_meets_the_password_rules():
    assert problems(DEMO_PASSWORD) == []
    assert problems(DEMO_PASSWORD, context=(SHOWCASE_EMAIL.split("@")[0], SHOWCASE_EMAIL)) == []


def test_every_profile_value_is_canonical(vault, loaded):
    filled = Counter()
    for member in member_ids(vault):
        profile = vault.profile.get(member)
        assert profile, "every demo member fills in something"
        for key, value in profile.items():
            assert coerce(key, value) == value, (key, value)
            filled[key] += 1
    assert len(filled) >= 20          # a spread of the catalog, not the same few fields


def test_every_feedback_entry_is_valid_and_about_a_demo_brand(vault, loaded):
    today = vault.feedback.today()
    brands = {b.id: b.name for b in vault.brands.all()}
    touchpoints = {b.name: set(b.touchpoints) for b in DEMO_BRANDS}
    for _, entry in all_feedback(vault):
        raw = {"brand_id": entry.brand_id, "touchpoint": entry.touchpoint,
               "rating": entry.rating, "nps": entry.nps, "comment": entry.comment,
               "occurred_on": entry.occurred_on}
        valid = validate(raw, today=today)
        assert (valid.rating, valid.nps, valid.comment, valid.occurred_on) == (
            entry.rating, entry.nps, entry.comment, entry.occurred_on)
        assert entry.touchpoint in touchpoints[brands[entry.brand_id]]
        assert today - dt.timedelta(days=demo_members.FEEDBACK_DAYS) <= \
            dt.date.fromisoformat(entry.occurred_on) <= today


def test_nothing_personal_is_stored_in_clear(vault, vault_home, loaded):
    comments = {e.comment for _, e in all_feedback(vault) if e.comment}
    templates = {t.format(brand=b.name, item=b.item)
                 for b in DEMO_BRANDS for by_sentiment in TEMPLATES.values()
                 for group in by_sentiment.values() for t in group}
    assert comments & templates, "the check below must include template comments"
    needles = [c.encode() for c in comments] + [
        SHOWCASE_EMAIL.encode(), b"member7@demo.vrmvault.example",
        SHOWCASE_PROFILE["street_address"].encode(), SHOWCASE_PROFILE["values_statement"].encode(),
    ]
    raw = b"".join(p.read_bytes() for p in vault_home.root.iterdir())
    assert [n for n in needles if n in raw] == []
    # Beneath SQLCipher too: sealed by the vault itself, not only by the page encryption.
    pages = b"".join(decrypted_pages(vault_home.data_path, vault.master.derive("data-store")))
    assert b"Spokesmith Cycles" in pages      # control: brand names are not personal data
    assert [n for n in needles if n in pages] == []


def test_a_second_load_is_refused(vault, loaded):
    with pytest.raises(ConflictError, match="already"):
        load_demo(vault, members=10)
    assert vault.data.one("SELECT count(*) FROM members")[0] == 50
    assert len(vault.brands.all()) == len(DEMO_BRANDS)


def test_progress_is_reported_after_each_batch(vault, monkeypatch):
    monkeypatch.setattr(demo_members, "BATCH_MEMBERS", 20)
    marks: list[int] = []
    load_demo(vault, members=50, progress=marks.append)
    assert marks == [20, 40, 50]
    assert vault.data.one("SELECT count(*) FROM members")[0] == 50


def test_one_batch_reports_once(loaded):
    _, marks = loaded
    assert marks == [50]


def test_existing_brands_are_reused(vault):
    kept = vault.brands.add("Spokesmith Cycles", ("bikes",))
    report = load_demo(vault, members=5)
    assert (report.brands, report.brands_added) == (8, 7)
    assert kept in vault.brands.all()


def test_at_least_the_showcase_member(vault):
    with pytest.raises(ValidationError):
        load_demo(vault, members=0)
    assert vault.data.one("SELECT count(*) FROM members")[0] == 0


def test_the_shares_look_like_real_data(vault):
    report = load_demo(vault, members=400)
    rows = vault.data.all("SELECT member_num, nps, comment_sealed FROM feedback")
    per_member = Counter(r["member_num"] for r in rows)
    assert max(per_member.values()) <= 8
    assert 3.3 <= len(rows) / report.members <= 4.7
    assert 0.5 <= sum(r["comment_sealed"] is not None for r in rows) / len(rows) <= 0.7
    assert 0.3 <= sum(r["nps"] is not None for r in rows) / len(rows) <= 0.6
    sensitive = [a.key for a in BY_KEY.values() if a.sensitive]
    marks = "?, " * (len(sensitive) - 1) + "?"
    with_sensitive = vault.data.one(
        "SELECT count(DISTINCT member_id) FROM profile_values"
        f" WHERE attribute IN ({marks})", sensitive)[0]
    assert 0 < with_sensitive <= 0.1 * report.members
    ratings = Counter(r["rating"] for r in vault.data.all("SELECT rating FROM feedback"))
    assert set(ratings) == {1, 2, 3, 4, 5} and ratings[4] + ratings[5] > ratings[1] + ratings[2]


def test_the_same_seed_gives_the_same_values():
    first = demo_members._Generator(random.Random(7), ["b"] * 8, dt.date(2026, 1, 1))
    second = demo_members._Generator(random.Random(7), ["b"] * 8, dt.date(2026, 1, 1))
    assert [first.profile() for _ in range(20)] == [second.profile() for _ in range(20)]
    assert [first.journal() for _ in range(20)] == [second.journal() for _ in range(20)]
