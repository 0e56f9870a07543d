"""Answering a survey: median server time per answer, over a realistic store.

The store: one brand's community of members who joined through the membership service (their
grants, receipts and ledger entries made as the product makes them), five surveys published to
it, and tens of thousands of earlier answers of other members bulk-loaded (ratings skewed to
4-5, NPS with promoters and detractors, choices uneven), so the answer tables and their indexes
have the size they would have. Timed: :meth:`community.surveys.SurveyService.answer` (who is
asked, checked inside the vault; five questions validated; the text sealed; the member's rows
replaced in one transaction), each member answering once and then changing the answer.
Baseline, interleaved member by member in the same run: adding one entry to the same member's
feedback journal (:meth:`vault.feedback.FeedbackService.add`), the closest write the vault
already had.

A second figure times the whole request in the app (``create_app``, in-process WSGI, no
network): the Asked page's form posted (session, CSRF check, form parsing, the service, the
redirect), against posting a journal entry on the Feedback page, interleaved the same way.
"""

from __future__ import annotations

import random
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from community.repositories import AnswerRow
from community.storage import community_service, membership_service, survey_service
from community.surveys import QuestionDraft, SurveyDraft
from consent.context import open_consent
from vault.home import VaultHome
from web.app import create_app

from . import report
from .workload import add_members

NAME = "survey_answer"
FIGURES = (report.Figure(NAME, "ms", report.Target("<", 20, " ms")),
           report.Figure(NAME + "_page", "ms", report.Target("<", 20, " ms")))
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SEED = 14
SURVEYS = 5
DAY = 86_400
QUESTIONS = (QuestionDraft("rating", "How do you rate our service?"),
             QuestionDraft("nps", "How likely are you to recommend us?"),
             QuestionDraft("single", "How often do you use it?", ("Daily", "Weekly", "Monthly",
                                                                  "Rarely")),
             QuestionDraft("multiple", "What matters most?", ("Price", "Quality", "Speed",
                                                             "Service", "Sustainability")),
             QuestionDraft("text", "Anything else?"))


@dataclass(frozen=True)
class Scale:
    answerers: int          # members who join and whose answers are timed
    background: int         # other members whose answers are bulk-loaded, per survey


FULL = Scale(answerers=200, background=20_000)
QUICK = Scale(answerers=30, background=2_000)


def _rating(rng: random.Random) -> int:
    return rng.choices((1, 2, 3, 4, 5), weights=(4, 6, 15, 40, 35))[0]


def _nps(rng: random.Random) -> int:
    return rng.choices(range(11), weights=(2, 1, 1, 2, 2, 4, 6, 12, 20, 25, 25))[0]


def _choices(rng: random.Random) -> int:
    mask = 0
    for index, share in enumerate((0.6, 0.5, 0.3, 0.35, 0.2)):
        if rng.random() < share:
            mask |= 1 << index
    return mask or 1


def _answers(rng: random.Random) -> dict[str, object]:
    return {"q0": str(_rating(rng)), "q1": str(_nps(rng)), "q2": str(rng.randrange(4)),
            "q3": [str(i) for i in range(5) if _choices(rng) >> i & 1] or ["0"],
            "q4": rng.choice(("Faster delivery please.", "Great staff in the shop.",
                              "The app logs me out too often.", ""))}


def run(*, quick: bool) -> list[report.Result]:
    scale = QUICK if quick else FULL
    rng = random.Random(SEED)
    report.log(f"{NAME}: {scale.answerers} members answer (then change) one of {SURVEYS}"
               f" surveys over {scale.background * SURVEYS:,} earlier answers")
    with report.fresh_directory() as root:
        home = VaultHome(root / "var")
        home.initialise({})
        vault = home.open(home.master_key({}))
        consent = open_consent(vault, home)
        try:
            now = int(vault.clock())
            brand_id = vault.brands.add("Spokesmith Cycles", ("bikes",)).id
            club = community_service(consent).open(
                brand_id, name="Riders", description="Tell us about riding.",
                purposes=["dpv:ResearchAndDevelopment", "dpv:ServiceOptimisation"])
            surveys = survey_service(consent=consent)
            ids = [surveys.publish(brand_id, SurveyDraft(
                community_id=club.id, title=f"Survey {n}", questions=QUESTIONS,
                closes_at=now + 30 * DAY, touchpoint="usage")).survey.id
                for n in range(SURVEYS)]
            others = add_members(vault, scale.background)
            numbers = [r[0] for r in vault.data.all("SELECT num FROM members ORDER BY num")]
            for survey_id in ids:
                surveys.answer_many([
                    (survey_id, number, row) for number in numbers
                    for row in (AnswerRow(0, _rating(rng), None, None, now),
                                AnswerRow(1, _nps(rng), None, None, now),
                                AnswerRow(2, rng.randrange(4), None, None, now),
                                AnswerRow(3, None, _choices(rng), None, now))])
            answerers = add_members(vault, scale.answerers, first=len(others))
            membership = membership_service(consent)
            for n, member_id in enumerate(answerers):
                consent.terms.update(member_id, agreement="SD-BASE", purposes=[], max_days=30,
                                     aggregate_allowed=True)
                membership.join(member_id, club.id, individual=n % 5 == 0)
            answering: list[float] = []
            journal: list[float] = []
            for n, member_id in enumerate(answerers):
                survey_id = ids[n % SURVEYS]
                for _ in range(2):                      # the answer, then a change of it
                    raw = _answers(rng)
                    seconds, _ = report.timed(
                        lambda m=member_id, s=survey_id, r=raw: surveys.answer(m, s, r),
                        collect=False)
                    answering.append(seconds * 1000)
                    seconds, _ = report.timed(lambda m=member_id: vault.feedback.add(m, {
                        "brand_id": brand_id, "touchpoint": "usage", "rating": _rating(rng),
                        "comment": "Smooth ride.", "occurred_on": "2026-12-01"}),
                        collect=False)
                    journal.append(seconds * 1000)
            stored = vault.data.one("SELECT count(DISTINCT member_num) FROM survey_answers"
                                    " WHERE member_num > ?", (len(others),))[0]
            cookies = {m: vault.sessions.create(member_id=m, data={}, device="bench")
                       for m in answerers}
        finally:
            consent.close()
            vault.close()
        page, page_journal = _through_the_app(home.root, cookies, ids, brand_id, rng)
    if stored != scale.answerers:
        raise report.BenchmarkError(f"{scale.answerers} members answered, {stored} stored")
    value, baseline = statistics.median(answering), statistics.median(journal)
    report.log(f"  answer  median {value:.2f} ms (p90"
               f" {statistics.quantiles(answering, n=10)[-1]:.2f} ms); journal entry median"
               f" {baseline:.2f} ms")
    report.log(f"  page    median {statistics.median(page):.2f} ms; journal page median"
               f" {statistics.median(page_journal):.2f} ms")
    return [FIGURES[0].result(value, baseline),
            FIGURES[1].result(statistics.median(page), statistics.median(page_journal))]


def _through_the_app(root: Path, cookies: dict[str, str], ids: list[str], brand_id: str,
                     rng: random.Random) -> tuple[list[float], list[float]]:
    """Each member posts a changed answer on the Asked page, then a journal entry on the
    Feedback page: milliseconds of each, the form fetched first (untimed) for its token."""
    app = create_app({"VRMVAULT_HOME": root, "VRMVAULT_PUBLIC_URL": "http://localhost"})
    answering: list[float] = []
    journal: list[float] = []
    try:
        for n, (member_id, cookie) in enumerate(cookies.items()):
            client = app.test_client()
            client.set_cookie("vrmvault_session", cookie)
            path = f"/member/asked/surveys/{ids[n % SURVEYS]}"
            token = _token(client.get(path).get_data(as_text=True))
            form = {**_answers(rng), "csrf_token": token}
            entry = {"brand_id": brand_id, "touchpoint": "usage", "rating": "4",
                     "occurred_on": "2026-12-01", "csrf_token": token}
            for timings, target, data in ((answering, path, form),
                                          (journal, "/member/feedback", entry)):
                seconds, response = report.timed(_post(client, target, data), collect=False)
                if response.status_code != 302:
                    raise report.BenchmarkError(f"{target}: {response.status_code} for"
                                                f" member {member_id[:8]}")
                timings.append(seconds * 1000)
    finally:
        app.extensions["vrmvault"].close()
    return answering, journal


def _token(page: str) -> str:
    match = _CSRF.search(page)
    if match is None:
        raise report.BenchmarkError("the survey page has no form")
    return match.group(1)


def _post(client: FlaskClient, path: str, data: dict[str, object]
          ) -> Callable[[], TestResponse]:
    return lambda: client.post(path, data=data)
