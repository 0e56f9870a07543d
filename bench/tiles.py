"""The public log of a million-entry ledger: tiles served as static reads.

A fresh encrypted ledger is filled with 1,000,000 access events (``--quick``: 50,000) as
``bench/ledger.py`` fills it (``bench.ledger.fill``, batches of 1,000, checkpoints every 1,000),
a checkpoint is signed, and the tiles it implies are published under the home's ``log/``
(``consent.tiles.TileDirectory.publish``, as the keeper of ``vrmvault serve`` does). Then:

- ``tiles_request_ms``: milliseconds for ``GET /log/tile/0/<N>`` through the whole app
  (``create_app``, in-process WSGI, the rate limiter and security headers included) for random
  full level-0 tiles, each answer checked to be the 8,192 bytes on disk; baseline: reading the
  same tile file with ``Path.read_bytes`` (a static file read), interleaved in the same run.
  Median of 2,000 of each. The target: under 1 ms, with no store opened and nothing hashed.
- ``tiles_publish_1m_s``: seconds to publish the whole log the first time (every tile, as
  ``vrmvault ledger publish`` does once for an existing ledger); baseline: seconds to publish
  the next checkpoint after 1,000 more entries (the few tiles it adds, as the keeper does on a
  pass). Informational.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

from consent.context import open_ledger
from consent.tiles import TILE_WIDTH, Tile, TileDirectory
from vault.home import VaultHome
from vault.keys import MasterKey
from web.app import create_app

from .ledger import BATCH, CHECKPOINT_EVERY, event_pool, fill
from .report import BenchmarkError, Figure, Result, Target, fresh_directory, log, median

NAME = "tiles"
FIGURES = (
    Figure("tiles_request_ms", "ms", Target("<", 1, " ms")),
    Figure("tiles_publish_1m_s", "s", Target(">=", 0, " s", label="informational")),
)
SEED = 5


def run(*, quick: bool) -> list[Result]:
    entries = 50_000 if quick else 1_000_000
    requests = 500 if quick else 2000
    log(f"{NAME}: {entries:,} entries, {requests:,} tile requests against file reads")
    with fresh_directory() as root:
        material = os.urandom(32)
        home, master = VaultHome(root), MasterKey(material)
        directory = TileDirectory.of_home(root)
        with open_ledger(home, master, checkpoint_every=CHECKPOINT_EVERY) as ledger:
            fill(ledger, entries)
            checkpoint = ledger.checkpoint()
            started = time.perf_counter()
            written = directory.publish(ledger.tree, checkpoint)
            first = time.perf_counter() - started
            log(f"  published {written:,} tiles for {checkpoint.tree_size:,} entries in"
                f" {first:.2f} s")
            ledger.record_events(event_pool(BATCH))
            started = time.perf_counter()
            added = directory.publish(ledger.tree, ledger.checkpoint())
            again = time.perf_counter() - started
            log(f"  then {added} tiles for {BATCH:,} more entries in {again * 1000:.1f} ms")
        served, read = _requests(root, material, checkpoint.tree_size, requests)
    log(f"  tile request: median {median(served):.3f} ms; file read median"
        f" {median(read):.3f} ms")
    return [FIGURES[0].result(median(served), median(read)), FIGURES[1].result(first, again)]


def _requests(root: Path, material: bytes, size: int, count: int
              ) -> tuple[list[float], list[float]]:
    app = create_app({"VRMVAULT_HOME": root, "VRMVAULT_PUBLIC_URL": "http://localhost",
                      "VRMVAULT_MASTER_KEY": material.hex(),
                      "VRMVAULT_LOG_RATE_LIMIT": 10 * count})
    directory = TileDirectory.of_home(root)
    chooser = random.Random(SEED)
    full_tiles = size // TILE_WIDTH
    served: list[float] = []
    read: list[float] = []
    try:
        client = app.test_client()
        for _ in range(count):
            tile = Tile(0, chooser.randrange(full_tiles))
            path = directory.root / tile.path
            started = time.perf_counter()
            response = client.get("/log/" + tile.path)
            served.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            data = path.read_bytes()
            read.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200 or response.data != data or len(data) != 8192:
                raise BenchmarkError(f"{NAME}: /log/{tile.path} answered"
                                     f" {response.status_code}, not the tile on disk")
    finally:
        app.extensions["vrmvault"].close()
    return served, read
