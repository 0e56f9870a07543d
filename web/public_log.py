"""``/log/``: the ledger as a public C2SP tiled transparency log (c2sp.org/tlog-tiles).

    GET /log/checkpoint                 the latest published signed checkpoint
                                        text/plain; charset=utf-8, cached 5 s at most
    GET /log/tile/<L>/<N>[.p/<W>]       Merkle tree hashes, height 8
                                        application/octet-stream, immutable
    GET /log/key                        the checkpoint verifier key (c2sp.org/signed-note form)

Anyone may read them: no session, no token, the same answer for everyone. What is served is what
the keeper of ``vrmvault serve`` (or ``vrmvault ledger publish``) wrote under ``<home>/log``
(consent/tiles.py): every answer is a file read, with no store opened and nothing hashed, and
nothing a signed, published checkpoint does not cover. The entries themselves are never served
(``/log/tile/entries/...`` is 404): see consent/tiles.py for why.

Limits: a path that is not the canonical path of a tile (leading zeros, a level over 63, a width
outside 1 to 255, ``..``, an index past any tree) is 404 before the disk is touched; each client
address may make ``VRMVAULT_LOG_RATE_LIMIT`` requests a minute per worker, then gets 429 with
``Retry-After`` (a front proxy or CDN caching the immutable tiles takes the load off first).

The verifier key is also printed by ``vrmvault ledger key``; an auditor should get it from the
operator out of band (or compare the two), since a key fetched from the log it checks proves
only that the log is consistent with itself.
"""

from __future__ import annotations

import math
import threading

from flask import Blueprint, Flask, Response, current_app, request

from consent.tiles import DEFAULT_LOG_RATE_LIMIT, parse_tile_path
from vault.clock import Clock

from .vaults import get_ledger_verifier_key, log_directory

bp = Blueprint("log", __name__, url_prefix="/log")

CHECKPOINT_TYPE = "text/plain; charset=utf-8"
TILE_TYPE = "application/octet-stream"
CHECKPOINT_CACHE = "public, max-age=5"             # the spec: no caching beyond a few seconds
TILE_CACHE = "public, max-age=31536000, immutable"
# Public data read without credentials: a verifier running in any web page may fetch it.
CORS = ("Access-Control-Allow-Origin", "*")
_WINDOW = 60
_MAX_TRACKED = 10_000                              # addresses remembered per window


class AddressLimiter:
    """Fixed one-minute windows of requests per client address, in this process's memory.

    In memory on purpose: a tile read must stay a file read, and a counter in a store would be a
    write per request. Each worker counts its own, so the effective limit is per worker; the
    table is cleared when it would hold more than :data:`_MAX_TRACKED` addresses."""

    def __init__(self, limit: int, clock: Clock) -> None:
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._window = -1
        self._counts: dict[str, int] = {}

    def take(self, address: str) -> int:
        """0 when the request may go on, else the seconds until the window ends."""
        now = self._clock()
        window = int(now // _WINDOW)
        with self._lock:
            if window != self._window or len(self._counts) >= _MAX_TRACKED:
                self._window, self._counts = window, {}
            count = self._counts.get(address, 0)
            if count >= self.limit:
                return max(1, math.ceil((window + 1) * _WINDOW - now))
            self._counts[address] = count + 1
        return 0


@bp.before_request
def limit_rate() -> Response | None:
    limiter: AddressLimiter = current_app.extensions["vrmvault_log_limiter"]
    wait = limiter.take(request.remote_addr or "")
    if not wait:
        return None
    return Response("Too many requests for the public log; try again later.\n", 429,
                    {"Retry-After": str(wait), "Content-Type": CHECKPOINT_TYPE})


@bp.get("/checkpoint")
def checkpoint() -> Response:
    note = log_directory().checkpoint()
    if note is None:
        return _not_found("No checkpoint has been published yet.")
    return Response(note, content_type=CHECKPOINT_TYPE,
                    headers={"Cache-Control": CHECKPOINT_CACHE, CORS[0]: CORS[1]})


@bp.get("/key")
def key() -> Response:
    return Response(get_ledger_verifier_key() + "\n", content_type=CHECKPOINT_TYPE,
                    headers={"Cache-Control": "public, max-age=3600", CORS[0]: CORS[1]})


@bp.get("/tile/<path:path>")
def tile(path: str) -> Response:
    coordinates = parse_tile_path(path)
    if coordinates is None:
        return _not_found("No such tile: this log serves tile/<L>/<N>[.p/<W>] (C2SP tlog-tiles),"
                   " never entry bundles.")
    data = log_directory().read_tile(coordinates)
    if data is None:
        return _not_found("No such tile under the published checkpoint.")
    return Response(data, content_type=TILE_TYPE,
                    headers={"Cache-Control": TILE_CACHE, CORS[0]: CORS[1]})


def _not_found(message: str) -> Response:
    return Response(message + "\n", 404, {"Content-Type": CHECKPOINT_TYPE,
                                          "Cache-Control": CHECKPOINT_CACHE})


def init_app(app: Flask) -> None:
    clock = app.extensions["vrmvault"].clock
    app.extensions["vrmvault_log_limiter"] = AddressLimiter(
        app.config.get("VRMVAULT_LOG_RATE_LIMIT", DEFAULT_LOG_RATE_LIMIT), clock)
    app.register_blueprint(bp)
