"""Apps a test makes for itself, closed once it is done with them.

An app keeps a pool of store connections and an access spool per process (``web/vaults.py``);
a test that makes its own app (another configuration than the ``app`` fixture's, a second worker,
an old home) closes it the same way the fixture does, so nothing it opened outlives the test.

Every app a test makes shares one in-memory Jinja bytecode cache: a template is compiled once
per test process rather than once per app (each app has its own Jinja environment, and
compiling the templates a test renders was a quarter of a page test's time). Jinja checks each
entry against the template's source, so a test always renders the templates as they are.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from flask import Flask
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket

from web.app import create_app


class _SharedBytecode(BytecodeCache):
    """Compiled templates kept in this process, for every app's Jinja environment."""

    def __init__(self) -> None:
        self._compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        compiled = self._compiled.get(bucket.key)
        if compiled is not None:
            bucket.bytecode_from_string(compiled)   # a stale entry (other source) is ignored

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()


_BYTECODE = _SharedBytecode()


@contextlib.contextmanager
def opened_app(config: Mapping[str, Any]) -> Iterator[Flask]:
    """``create_app(config)``, its connections and spool closed on the way out."""
    made = create_app(dict(config))
    made.jinja_env.bytecode_cache = _BYTECODE
    try:
        yield made
    finally:
        made.extensions["vrmvault"].close()
