"""What the brand gateway's views need of the app that serves them, bound once per app.

The gateway's views work on the request's stores: its vault, consent services, this process's
access spool and the rate counters (``rates.db``), and on the consent screen the member signed
in. The web app owns those (its connection pool lends a set per request, its session knows the
member), so the app factory hands them over as a :class:`RequestStores` in
:func:`brand_gateway.blueprints.init_app`; the gateway never imports the web package (DESIGN.md
sec. 1: web -> brand_gateway -> consent -> vault).

Invariants: every callable answers for the current request only (nothing is kept here between
requests); calling one twice in a request gives the same object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

from consent.context import Consent
from consent.spool import SpoolWriter
from vault.clock import Clock
from vault.home import Vault
from vault.keys import MasterKey
from vault.repositories import Store

_EXTENSION = "brand_gateway.request_stores"


@dataclass(frozen=True)
class RequestStores:
    """The host app's per-request stores and settings, as the gateway's views use them."""

    vault: Callable[[], Vault]                  # the request's vault (its data store)
    consent: Callable[[], Consent]              # consent services over that vault
    spool: Callable[[], SpoolWriter]            # this process's access spool
    rate_counts: Callable[[], Store]            # the shared request counters (rates store)
    signed_in_member: Callable[[], str | None]  # the member of the request's session, if any
    master: Callable[[], MasterKey]             # the master key, without opening a store
    clock: Clock
    #: The pages' Content-Security-Policy; the consent screen widens its ``form-action``.
    page_policy: str


def bind(app: Flask, stores: RequestStores) -> None:
    app.extensions[_EXTENSION] = stores


def request_stores() -> RequestStores:
    """The stores bound to the current app (:func:`bind`)."""
    stores: RequestStores = current_app.extensions[_EXTENSION]
    return stores
