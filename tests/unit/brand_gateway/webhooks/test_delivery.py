"""Delivery: the retry schedule, backoff to dead-lettering, ``Retry-After`` and ``410 Gone``,
and a claimed row never sent twice at once."""

from __future__ import annotations

from typing import Any

import pytest

from brand_gateway.webhooks.delivery import (
    MAX_ATTEMPTS,
    MAX_RETRY_DELAY,
    HttpResult,
    _seconds,
    retry_delay,
)
from brand_gateway.webhooks.endpoints import WebhookRegistry
from tests.unit.brand_gateway.webhooks.support import FakeSender, dispatcher, outbox
from vault.clock import FrozenClock
from vault.home import Vault, VaultHome


# -- backoff and dead-lettering -------------------------------------------------------------------
def test_the_retry_schedule() -> None:
    assert [retry_delay(n, 0.0) for n in range(1, 13)] == [
        30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600, 21600]
    assert retry_delay(500, 0.0) == MAX_RETRY_DELAY
    # Jitter only shortens, by at most 20 %.
    for failures in (1, 5, 20):
        base = retry_delay(failures, 0.0)
        assert 0.8 * base <= retry_delay(failures, 0.999) < base
    # About 2.5 days from the first attempt to the last, without jitter.
    total = sum(retry_delay(n, 0.0) for n in range(1, MAX_ATTEMPTS))
    assert 2 * 86_400 < total < 3 * 86_400


def test_failures_back_off_then_the_row_is_dead(vault: Vault, clock: FrozenClock,
                                                queued: int) -> None:
    sender = FakeSender(HttpResult(503), ConnectionError("refused: secret detail"))
    worker = dispatcher(vault, clock, sender=sender, fraction=lambda: 0.0)
    for failures in range(1, MAX_ATTEMPTS):
        report = worker.deliver_due()
        assert (report.attempted, report.retrying) == (1, 1)
        row = outbox(vault)[0]
        assert row["status"] == "pending" and row["attempts"] == failures
        assert row["next_attempt_at"] == int(clock()) + retry_delay(failures, 0.0)
        clock.advance(row["next_attempt_at"] - clock() - 1)
        assert worker.deliver_due().attempted == 0          # not due yet
        clock.advance(1)
    report = worker.deliver_due()
    assert (report.attempted, report.dead) == (1, 1)
    row = outbox(vault)[0]
    assert (row["status"], row["attempts"], row["delivered_at"]) == ("dead", MAX_ATTEMPTS, None)
    clock.advance(30 * 86_400)
    assert worker.deliver_due().attempted == 0
    attempts = vault.data.all("SELECT * FROM webhook_attempts WHERE outbox_id = ?", (queued,))
    assert len(attempts) == MAX_ATTEMPTS == len(sender.calls)
    assert [a["http_status"] for a in attempts[:1]] == [503]
    # Errors are recorded by class, never by message.
    assert {a["error"] for a in attempts[1:]} == {"ConnectionError"}
    assert all("secret" not in (a["error"] or "") for a in attempts)


def test_success_after_a_failure(vault: Vault, clock: FrozenClock, queued: int) -> None:
    sender = FakeSender(TimeoutError(), HttpResult(200))
    worker = dispatcher(vault, clock, sender=sender, fraction=lambda: 0.5)
    assert worker.deliver_due().retrying == 1
    assert outbox(vault)[0]["next_attempt_at"] == int(clock()) + 27       # 30 s less 10 %
    clock.advance(27)
    assert worker.deliver_due().delivered == 1
    row = outbox(vault)[0]
    assert (row["status"], row["attempts"], row["delivered_at"]) == ("delivered", 2, clock())
    url, body, headers, timeout = sender.calls[-1]
    assert url == "https://velo-bikes.example/hooks" and timeout == 5.0
    assert headers["Content-Type"] == "application/json"
    assert headers["webhook-timestamp"] == str(int(clock()))     # the attempt's time
    assert headers["webhook-id"] == row["event_id"] == sender.calls[0][2]["webhook-id"]
    assert body == row["payload"].encode()
    clock.advance(86_400)
    assert worker.deliver_due().attempted == 0


def test_retry_after_and_gone(vault: Vault, clock: FrozenClock, queued: int,
                              endpoints: WebhookRegistry) -> None:
    worker = dispatcher(vault, clock, sender=FakeSender(HttpResult(429, retry_after=3600),
                                                        HttpResult(410)),
                        fraction=lambda: 0.0)
    worker.deliver_due()
    assert outbox(vault)[0]["next_attempt_at"] == int(clock()) + 3600
    clock.advance(3600)
    assert worker.deliver_due().dead == 1
    # 410 Gone: the brand wants no more here; the endpoint is disabled.
    assert not endpoints.list()[0].live


@pytest.mark.parametrize("header, seconds", [
    ("3600", 3600), (" 120 ", 120), ("0", 0), (str(MAX_RETRY_DELAY + 1), MAX_RETRY_DELAY),
    ("9" * 4_301, MAX_RETRY_DELAY), ("Wed, 21 Oct 2026 07:28:00 GMT", None), ("-5", None),
    ("\u0663", None), ("", None), (None, None),
])
def test_a_retry_after_header_is_read_as_delay_seconds_up_to_the_longest_wait(
        header: str | None, seconds: int | None) -> None:
    """RFC 9110 sec. 10.2.3's delay-seconds, 1*DIGIT: a brand's endpoint answering a delay of
    4,301 digits made int() raise (the attempt recorded as failed with no answer read)."""
    assert _seconds(header) == seconds


def test_a_claimed_row_is_not_sent_twice_at_once(vault: Vault, vault_home: VaultHome,
                                                 clock: FrozenClock, queued: int) -> None:
    seen: list[int] = []

    def slow_sender(url: str, body: bytes, headers: Any, timeout: float) -> HttpResult:
        # While this worker is sending, a second worker on its own connection finds nothing.
        with vault_home.open(clock=clock) as other:
            seen.append(dispatcher(other, clock, sender=FakeSender(HttpResult(200)))
                        .deliver_due().attempted)
        return HttpResult(500)

    dispatcher(vault, clock, sender=slow_sender, fraction=lambda: 0.0).deliver_due()
    assert seen == [0]
    assert outbox(vault)[0]["attempts"] == 1
