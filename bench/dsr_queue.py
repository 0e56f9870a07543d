"""The officers' queue of data subject requests with 100,000 requests in the store: the first
page (50 open requests by time left, with their brands' tasks) and its total, as the console's
``/console/requests`` asks them, in under 200 ms.

Why it holds at that size: the queue walks the partial index ``dsr_open_by_due`` (open requests
by due date, receipt and id; migration 8), so the first page reads 50 index entries and their
rows whatever the number of closed requests, and the tasks of those 50 in one query by their
request id; the total counts the partial index alone.

The store: 2,000 members (the product's own insert), one brand, 100,000 requests written
through the repository (``SqlcipherRequests``) in batches, each with a task for the brand; 70%
closed, the open ones due over four months around today (some overdue). Each repetition opens
the store afresh (empty page cache and key cache), then times ``RequestService.queue`` and
``count_open``; the page is checked: 50 open requests in due-date order, the earliest due of
all, each with its task.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import uuid
from functools import partial
from pathlib import Path

from brand_gateway.dsr import dsr_service
from compliance.deadlines import HolidayCalendar
from compliance.repositories import RequestRow, TaskRow
from compliance.requests import Request, RequestService
from compliance.sqlcipher.requests import SqlcipherRequests
from consent.context import open_consent
from vault.home import VaultHome

from .report import BenchmarkError, Figure, Result, Target, fresh_directory, log, median, timed
from .workload import ENCRYPTED, add_members, batches, create_vault, reopen_vault

NAME = "dsr_queue"
FIGURES = (Figure("dsr_queue_first_page_100k", "ms", Target("<", 200, " ms")),)
PAGE = 50
BATCH = 5_000
DAY = 86_400


def build(root: Path, requests: int, members: int) -> tuple[int, str]:
    """The store; how many requests are open, and the earliest due date among them."""
    vault = create_vault(ENCRYPTED, root)
    try:
        brand_id = vault.brands.add("Velo Bikes", ()).id
        member_ids = add_members(vault, members)
        rng = random.Random(15)
        now = int(vault.clock())
        today = dt.date.today()
        store = SqlcipherRequests(vault.data)
        rows, tasks = [], []
        for number in range(requests):
            member = member_ids[number % members]
            closed = rng.random() < 0.7
            received = now - rng.randrange(0, 120 * DAY)
            due = today + dt.timedelta(days=rng.randrange(-30, 90))
            request_id = "dsr_" + os.urandom(12).hex()
            rows.append(RequestRow(
                request_id, member, "member:" + member[:32], "gdpr", "access", "member", None,
                "closed" if closed else "in_progress", received,
                dt.date.fromtimestamp(received).isoformat(), None, None, due.isoformat(),
                None, None, received, "export", received + DAY if closed else None, "green"))
            tasks.append(TaskRow(str(uuid.uuid4()), request_id, brand_id, "subject",
                                 "AccessRequest", "completed" if closed else "pending", None,
                                 received, received, received + DAY if closed else None))
        for row_batch, task_batch in zip(batches(rows, BATCH), batches(tasks, BATCH),
                                         strict=True):
            with vault.data.transaction():
                for row in row_batch:
                    store.insert(row)
                for task in task_batch:
                    store.add_task(task)
        open_rows = [r for r in rows if r.state != "closed"]
        return len(open_rows), min(r.due_on for r in open_rows)
    finally:
        vault.close()


def _first_page(service: RequestService) -> tuple[list[Request], int]:
    """What the console's queue asks: the first page, and how many are open."""
    return service.queue(limit=PAGE), service.count_open()


def run(*, quick: bool) -> list[Result]:
    requests, members, repetitions = (10_000, 500, 3) if quick else (100_000, 2_000, 5)
    log(f"{NAME}: {requests:,} requests of {members:,} members")
    times = []
    with fresh_directory() as root:
        open_count, earliest = build(root, requests, members)
        log(f"  built: {open_count:,} open")
        for repetition in range(repetitions):
            vault = reopen_vault(ENCRYPTED, root)
            consent = open_consent(vault, VaultHome(root / "var"))
            try:
                service = dsr_service(consent, callback_base="http://localhost",
                                      calendar=HolidayCalendar())
                seconds, (page, total) = timed(partial(_first_page, service))
                dues = [r.row.due_on for r in page]
                if total != open_count or len(page) != PAGE or dues != sorted(dues) \
                        or dues[0] != earliest or any(r.row.state == "closed" for r in page) \
                        or any(len(r.tasks) != 1 for r in page):
                    raise BenchmarkError(f"{NAME}: the first page is not the queue's"
                                         f" ({total} open of {open_count})")
                times.append(seconds * 1000)
            finally:
                consent.close()
                vault.close()
            log(f"  repetition {repetition + 1}: first page and total {times[-1]:7.1f} ms"
                " (verified)")
    return [FIGURES[0].result(median(times))]
