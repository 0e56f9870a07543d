"""Apps a test makes for itself, closed once it is done with them.

An app keeps a pool of store connections and an access spool per process (``web/vaults.py``);
a test that makes its own app (another configuration than the ``app`` fixture's, a second worker,
an old home) closes it the same way the fixture does, so nothing it opened outlives the test.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from flask import Flask

from web.app import create_app


@contextlib.contextmanager
def opened_app(config: Mapping[str, Any]) -> Iterator[Flask]:
    """``create_app(config)``, its connections and spool closed on the way out."""
    made = create_app(dict(config))
    try:
        yield made
    finally:
        made.extensions["vrmvault"].close()
