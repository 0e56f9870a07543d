"""The feedback journal: add, list, edit, delete; bad values; one member's entries stay theirs."""

from __future__ import annotations

import re

import pytest

from .pages import (
    count,
    error_message,
    error_summary,
    field_errors,
    fields_with_errors,
    flashes,
    location_path,
    text_of,
)


def entries(page: str) -> list[str]:
    return [text_of(e) for e in re.findall(r'<li class="entry">(.*?)</li>', page, re.S)]


def form(brand, **changes: str) -> dict[str, str]:
    values = {"brand_id": brand.id, "touchpoint": "purchase", "rating": "4", "nps": "8",
              "comment": "Friendly shop, quick checkout.", "occurred_on": "2027-01-10"}
    values.update(changes)
    return values


def test_the_journal_starts_empty_and_offers_the_brands(alice, brand):
    page = alice.client.get("/member/feedback").get_data(as_text=True)
    assert "No entries yet." in page
    assert f'<option value="{brand.id}"' in page and "Velo Bikes" in page
    assert 'max="2027-01-15"' in page, "dates after today (the vault's clock) are not offered"


def test_add_then_list(alice, brand, vault):
    response = alice.auth.post("/member/feedback", form(brand))
    assert response.status_code == 302 and location_path(response) == "/member/feedback"

    stored = vault.feedback.for_member(alice.id)
    assert len(stored) == 1
    entry = stored[0]
    assert (entry.brand_id, entry.touchpoint, entry.rating, entry.nps, entry.comment,
            entry.occurred_on) == (brand.id, "purchase", 4, 8, "Friendly shop, quick checkout.",
                                   "2027-01-10")

    page = alice.client.get("/member/feedback").get_data(as_text=True)
    assert "Your feedback is saved in your vault." in flashes(page)
    [shown] = entries(page)
    assert "Velo Bikes" in shown and "Purchase (shop, checkout)" in shown
    assert "2027-01-10" in shown and "Rating 4/5" in shown and "would recommend 8/10" in shown
    assert "Friendly shop, quick checkout." in shown
    assert "Your entries (1)" in page
    assert "1 entry about brands." in alice.client.get("/member/").get_data(as_text=True)


def test_optional_fields_may_be_left_blank(alice, brand, vault):
    response = alice.auth.post("/member/feedback", form(brand, nps="", comment=""))
    assert response.status_code == 302
    [entry] = vault.feedback.for_member(alice.id)
    assert entry.nps is None and entry.comment == ""


def test_a_comment_filled_to_its_maxlength_with_line_breaks_is_saved(alice, brand, vault):
    # 2,000 characters as the textarea counts them; each line break is sent as CR LF.
    page = alice.client.get("/member/feedback").get_data(as_text=True)
    assert 'name="comment" rows="3" maxlength="2000"' in page
    comment = ("z" * 99 + "\r\n") * 19 + "z" * 100
    response = alice.auth.post("/member/feedback", form(brand, comment=comment))
    assert response.status_code == 302
    [entry] = vault.feedback.for_member(alice.id)
    assert entry.comment == comment


def test_comments_are_shown_escaped(alice, brand):
    alice.auth.post("/member/feedback", form(brand, comment="<script>alert(1)</script>"))
    page = alice.client.get("/member/feedback").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_edit_shows_the_entry_and_saves_changes(alice, brand, vault):
    entry_id = alice.add_feedback(brand)

    page = alice.client.get(f"/member/feedback/{entry_id}/edit").get_data(as_text=True)
    assert f'<option value="{brand.id}" selected>' in page
    assert '<option value="purchase" selected>' in page
    assert 'value="4"' in page and 'value="8"' in page and 'value="2027-01-10"' in page
    assert "Friendly shop, quick checkout.</textarea>" in page

    response = alice.auth.post(f"/member/feedback/{entry_id}/edit",
                               form(brand, rating="2", touchpoint="delivery", nps="3",
                                    comment="Parcel arrived late.", occurred_on="2027-01-11"),
                               form_page=f"/member/feedback/{entry_id}/edit")
    assert response.status_code == 302 and location_path(response) == "/member/feedback"

    entry = vault.feedback.get(alice.id, entry_id)
    assert (entry.rating, entry.touchpoint, entry.nps, entry.comment, entry.occurred_on) == \
        (2, "delivery", 3, "Parcel arrived late.", "2027-01-11")
    page = alice.client.get("/member/feedback").get_data(as_text=True)
    assert "The entry is updated." in flashes(page)
    [shown] = entries(page)
    assert "Rating 2/5" in shown and "Parcel arrived late." in shown and "Delivery" in shown


def test_delete(alice, brand, vault):
    keep = alice.add_feedback(brand, comment="keep me")
    gone = alice.add_feedback(brand, comment="delete me")

    response = alice.auth.post(f"/member/feedback/{gone}/delete", form_page="/member/feedback")
    assert response.status_code == 302 and location_path(response) == "/member/feedback"
    assert [e.id for e in vault.feedback.for_member(alice.id)] == [keep]
    page = alice.client.get("/member/feedback").get_data(as_text=True)
    assert "The entry is deleted." in flashes(page)
    assert "delete me" not in page and "keep me" in page

    # Deleting it again: it is not there.
    response = alice.auth.post(f"/member/feedback/{gone}/delete", form_page="/member/feedback")
    assert response.status_code == 404


def test_chart_shows_the_average_per_touchpoint(alice, brand):
    alice.add_feedback(brand, rating="5")
    alice.add_feedback(brand, rating="2")
    page = alice.client.get("/member/feedback").get_data(as_text=True)
    assert re.search(r"Purchase \(shop, checkout\)</th>\s*<td><meter[^>]*value=\"3.50\"", page)


WHOLE_RATING = "Rating (1-5): Enter a whole number from 1 to 5."
WHOLE_NPS = "Net Promoter Score (0-10): Enter a whole number from 0 to 10."
DATE_RANGE = "Date: Enter a date from 2000-01-01 to today."
DATE_FORMAT = "Date: Enter a date as YYYY-MM-DD, for example 2026-03-31."
BRAND = "Brand: Choose a brand from the list."
# Each message names the field as its label does and says what to do.
INVALID = [
    ("rating", "0", WHOLE_RATING),
    ("rating", "6", WHOLE_RATING),
    ("rating", "abc", WHOLE_RATING),
    ("rating", "", WHOLE_RATING),
    ("nps", "11", WHOLE_NPS),
    ("nps", "-1", WHOLE_NPS),
    ("nps", "ten", WHOLE_NPS),
    ("occurred_on", "2999-01-01", DATE_RANGE),
    ("occurred_on", "2027-01-16", DATE_RANGE),
    ("occurred_on", "1999-12-31", DATE_RANGE),
    ("occurred_on", "yesterday", DATE_FORMAT),
    ("brand_id", "brand_0000000000000000", BRAND),
    ("brand_id", "", BRAND),
    ("touchpoint", "telepathy",
     "Moment of the journey: Choose a moment from the list."),
    ("comment", "z" * 2001, "Comment: Use at most 2000 characters."),
    ("comment", "bell\x07", "Comment: Remove the control characters: they are not allowed."),
    ("comment", "Great service\u202e", "Comment: Remove the invisible characters that change"
                                       " the text's direction: they are not allowed."),
]


@pytest.mark.parametrize(("field", "value", "message"), INVALID)
def test_add_refuses_an_invalid_value_next_to_its_field(alice, brand, vault, field, value,
                                                       message):
    response = alice.auth.post("/member/feedback", form(brand, **{field: value}))

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert fields_with_errors(page) == {field}
    errors = field_errors(page, field)
    assert errors == [message]
    assert "Please correct the field marked below." in error_summary(page)
    assert count(vault, "feedback") == 0
    assert "No entries yet." in page


@pytest.mark.parametrize(("field", "value", "message"), INVALID)
def test_edit_refuses_an_invalid_value_and_keeps_the_entry(alice, brand, vault, field, value,
                                                          message):
    entry_id = alice.add_feedback(brand)
    before = vault.feedback.get(alice.id, entry_id)

    response = alice.auth.post(f"/member/feedback/{entry_id}/edit",
                               form(brand, **{"rating": "1", field: value}),
                               form_page=f"/member/feedback/{entry_id}/edit")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_errors(page, field) == [message]
    assert vault.feedback.get(alice.id, entry_id) == before


def test_an_unknown_field_is_refused(alice, brand, vault):
    response = alice.auth.post("/member/feedback", form(brand, member_id="someone-else"))
    assert response.status_code == 422
    assert "Reload the page and try again." in error_summary(response.get_data(as_text=True))
    assert count(vault, "feedback") == 0


# -- one member's entries are theirs alone --------------------------------------------------


@pytest.fixture
def alices_entry(alice, brand):
    return alice.add_feedback(brand, comment="Alice's private note")


def test_other_member_does_not_see_the_entry(alice, bob, alices_entry):
    page = bob.client.get("/member/feedback").get_data(as_text=True)
    assert "No entries yet." in page and "Alice's private note" not in page


def test_other_member_cannot_open_the_edit_page(bob, alices_entry):
    response = bob.client.get(f"/member/feedback/{alices_entry}/edit")
    assert response.status_code == 404
    assert "Alice" not in response.get_data(as_text=True)


def test_other_member_cannot_edit_the_entry(alice, bob, brand, vault, alices_entry):
    before = vault.feedback.get(alice.id, alices_entry)
    response = bob.auth.post(f"/member/feedback/{alices_entry}/edit",
                             form(brand, rating="1", comment="Bob was here"),
                             form_page="/member/feedback")
    assert response.status_code == 404
    assert vault.feedback.get(alice.id, alices_entry) == before
    assert count(vault, "feedback", bob.id) == 0


def test_other_member_cannot_delete_the_entry(alice, bob, vault, alices_entry):
    before = vault.feedback.get(alice.id, alices_entry)
    response = bob.auth.post(f"/member/feedback/{alices_entry}/delete",
                             form_page="/member/feedback")
    assert response.status_code == 404
    assert vault.feedback.get(alice.id, alices_entry) == before
    assert "Alice&#39;s private note" in alice.client.get("/member/feedback").get_data(
        as_text=True)


@pytest.mark.parametrize("entry_id", ["0", "424242", "-1", "abc", "1.5", "9" * 30, "%C2%B2"])
def test_a_missing_or_malformed_entry_id_is_not_found_in_words(alice, entry_id):
    # Whatever the id, the member reads the same sentence, never a server's stock 404 text.
    said = "There is no such entry in your feedback journal; it may have been deleted."
    response = alice.client.get(f"/member/feedback/{entry_id}/edit")
    assert response.status_code == 404
    assert error_message(response.get_data(as_text=True)) == said
    response = alice.auth.post(f"/member/feedback/{entry_id}/delete",
                               form_page="/member/feedback")
    assert response.status_code == 404
    assert error_message(response.get_data(as_text=True)) == said


def test_a_blank_date_stays_blank_next_to_its_error(alice, brand, vault):
    """Today's date is offered on a new form, and the help says so; a date the member cleared
    is shown cleared with its error, never quietly filled with today again."""
    page = alice.client.get("/member/feedback").get_data(as_text=True)
    assert re.search(r'<input id="occurred_on"[^>]*value="2027-01-15"', page)
    assert "A new entry starts with today's date." in text_of(page)
    response = alice.auth.post("/member/feedback", form(brand, occurred_on="", rating=""))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_errors(page, "occurred_on") == ["Date: Enter a date."]
    assert re.search(r'<input id="occurred_on"[^>]*value=""', page)
    assert vault.feedback.for_member(alice.id) == []
