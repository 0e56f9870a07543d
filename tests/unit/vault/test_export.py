"""vault.export: the portability zip, its JSON Schema, the CSV files (the vault's part alone;
tests/unit/web/test_export_coverage.py has every layer's)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from vault.catalog import BY_KEY, CATALOG_VERSION
from vault.export import DOCUMENT, SCHEMA, MemberExport

FORMULA = "=HYPERLINK(\"http://evil.example\",\"click\")"
FILES = {DOCUMENT, SCHEMA, "profile.csv", "feedback.csv", "sessions.csv", "README.txt"}


@pytest.fixture
def filled(vault, clock, member_id, brand):
    vault.profile.update(member_id, {"given_name": "Alice", "household_size": 2,
                                     "interests": ["cycling", "music"], "religion": "Quaker"})
    first = vault.feedback.add(member_id, {"brand_id": brand.id, "touchpoint": "purchase",
                                           "rating": 5, "nps": 10, "comment": FORMULA,
                                           "occurred_on": "2026-11-02"})
    second = vault.feedback.add(member_id, {"brand_id": brand.id, "touchpoint": "support",
                                            "rating": 2, "comment": "+31 called twice",
                                            "occurred_on": "2026-12-01"})
    vault.sessions.create(member_id=member_id, data={}, device="Firefox on Linux")
    clock.advance(90)
    return member_id, first, second


@pytest.fixture
def archive(vault, filled) -> zipfile.ZipFile:
    return export(vault, filled[0])


def export(vault, member_id: str) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(vault_part(vault).zip_bytes(member_id)))


def vault_part(vault) -> MemberExport:
    return MemberExport([vault.export], clock=vault.clock)



def read_csv(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"), newline="")))


def iso_times(document: dict) -> list[str]:
    times = [document["generated_at"], document["member"]["created_at"]]
    times += [e["updated_at"] for e in document["feedback"]]
    times += [s[k] for s in document["sessions"] for k in ("created_at", "last_seen")]
    return times


def test_the_zip_holds_every_file(archive):
    assert set(archive.namelist()) == FILES
    assert archive.testzip() is None
    readme = archive.read("README.txt").decode()
    for name in FILES - {"README.txt"}:
        assert name in readme


def test_the_document_validates_against_its_schema(vault, archive):
    document = json.loads(archive.read(DOCUMENT))
    schema = json.loads(archive.read(SCHEMA))
    assert schema == vault_part(vault).schema()
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    assert list(validator.iter_errors(document)) == []
    # FormatChecker checks "date-time" only when rfc3339-validator is installed; check it here.
    for value in iso_times(document):
        assert value.endswith("Z")
        assert dt.datetime.fromisoformat(value).tzinfo is not None


@pytest.mark.parametrize("break_it", [
    lambda d: d.update(extra=1),
    lambda d: d["member"].update(id="not-hex"),
    lambda d: d["feedback"][0].update(rating=6),
    lambda d: d["feedback"][0].update(touchpoint="teleport"),
    lambda d: d["feedback"][0].update(occurred_on="02/11/2026"),
    lambda d: d["profile"][0].update(attribute="shoe_size"),
    lambda d: d.pop("sessions"),
])
def test_the_schema_is_not_vacuous(vault, archive, break_it):
    document = json.loads(archive.read(DOCUMENT))
    break_it(document)
    validator = Draft202012Validator(vault_part(vault).schema(), format_checker=FormatChecker())
    assert list(validator.iter_errors(document)) != []


def test_the_document_holds_everything(vault, clock, filled, brand, archive):
    member_id, first, second = filled
    document = json.loads(archive.read(DOCUMENT))
    assert document["format"] == "vrmvault-export"
    assert document["catalog_version"] == CATALOG_VERSION
    assert document["generated_at"] == "2027-01-15T08:01:30Z"
    assert document["member"] == {"id": member_id, "email": "alice@example.org",
                                  "created_at": "2027-01-15T08:00:00Z", "second_factor": False,
                                  "role": "member"}
    assert {p["attribute"]: p["value"] for p in document["profile"]} == {
        "given_name": "Alice", "household_size": 2, "interests": ["cycling", "music"],
        "religion": "Quaker"}
    assert {p["attribute"]: p["sensitive"] for p in document["profile"]}["religion"] is True
    assert [(e["id"], e["brand"], e["comment"]) for e in document["feedback"]] == [
        (second, brand.name, "+31 called twice"), (first, brand.name, FORMULA)]
    assert [s["device"] for s in document["sessions"]] == ["Firefox on Linux"]


def test_profile_csv_matches(archive):
    document = json.loads(archive.read(DOCUMENT))
    rows = read_csv(archive, "profile.csv")
    assert [r["attribute"] for r in rows] == [p["attribute"] for p in document["profile"]]
    by_key = {r["attribute"]: r for r in rows}
    assert by_key["interests"]["value"] == "cycling; music"
    assert by_key["household_size"]["value"] == "2"
    assert by_key["religion"] == {"attribute": "religion", "label": BY_KEY["religion"].label,
                                  "category": "demographics", "sensitive": "True",
                                  "value": "Quaker"}


def test_feedback_csv_matches(archive, brand, filled):
    _, first, second = filled
    rows = read_csv(archive, "feedback.csv")
    assert [(r["id"], r["occurred_on"], r["brand"], r["brand_id"], r["touchpoint"], r["rating"],
             r["nps"]) for r in rows] == [
        (str(second), "2026-12-01", brand.name, brand.id, "support", "2", ""),
        (str(first), "2026-11-02", brand.name, brand.id, "purchase", "5", "10"),
    ]


def test_formulas_are_neutralised_in_csv_but_verbatim_in_json(archive):
    comments = [r["comment"] for r in read_csv(archive, "feedback.csv")]
    assert comments == ["'+31 called twice", "'" + FORMULA]
    document = json.loads(archive.read(DOCUMENT))
    assert {e["comment"] for e in document["feedback"]} == {FORMULA, "+31 called twice"}


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_every_formula_trigger_is_neutralised(vault, member_id, brand, start):
    vault.feedback.add(member_id, {"brand_id": brand.id, "touchpoint": "usage", "rating": 3,
                                   "comment": f"{start}1+1"})
    vault.profile.update(member_id, {"hobbies": f"{start}cmd"})
    archive = export(vault, member_id)
    assert read_csv(archive, "feedback.csv")[0]["comment"] == f"'{start}1+1"
    assert read_csv(archive, "profile.csv")[0]["value"] == f"'{start}cmd"


@pytest.mark.parametrize("start", ["\t", "\r"])
def test_tab_and_carriage_return_triggers_are_neutralised(vault, member_id, start):
    # Member text is stripped on input; a session's device label is not.
    vault.sessions.create(member_id=member_id, data={}, device=f"{start}=1+1")
    [row] = read_csv(export(vault, member_id), "sessions.csv")
    assert row["device"] == f"'{start}=1+1"


def test_empty_cells_stay_empty(vault, member_id, brand):
    vault.feedback.add(member_id, {"brand_id": brand.id, "touchpoint": "usage", "rating": 3})
    vault.sessions.create(member_id=member_id, data={}, device="")
    archive = export(vault, member_id)
    assert read_csv(archive, "feedback.csv")[0]["comment"] == ""
    assert read_csv(archive, "sessions.csv")[0]["device"] == ""


def test_an_empty_member_exports_and_validates(vault, member_id):
    archive = export(vault, member_id)
    document = json.loads(archive.read(DOCUMENT))
    Draft202012Validator(vault_part(vault).schema(),
                         format_checker=FormatChecker()).validate(document)
    assert document["profile"] == [] and document["feedback"] == []
    assert read_csv(archive, "profile.csv") == [] and read_csv(archive, "feedback.csv") == []
