"""Which engine's repositories a store's connection gets: the one rule every area's storage
module builds its services by.

Each engine keeps its implementations side by side under every area that stores data,
``<area>/sqlcipher/<module>.py`` with ``Sqlcipher<Name>`` and ``<area>/postgresql/<module>.py``
with ``Postgresql<Name>``, each written against that area's contracts
(``<area>/repositories.py``) and held to them by the conformance suite (``tests/unit/storage``).
A connection says which engine it belongs to (``Database.engine``), and
:func:`repository` builds that engine's implementation over it. So a service never names an
engine, and the engine is chosen in one place, when the stores are opened (``vault/home.py``).

An engine's modules are imported the first time a connection of that engine asks for one: a
server on SQLCipher never imports psycopg (about 130 ms and 24 MB).
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

SQLCIPHER = "sqlcipher"
POSTGRESQL = "postgresql"
ENGINES = (SQLCIPHER, POSTGRESQL)
_PREFIX = {SQLCIPHER: "Sqlcipher", POSTGRESQL: "Postgresql"}
_classes: dict[tuple[str, str, str], Any] = {}


class Engined(Protocol):
    """A store's connection, as far as choosing its repositories goes."""

    @property
    def engine(self) -> str: ...


def repository(database: Engined, where: str, name: str) -> Any:
    """``<Engine><name>`` of the module ``where`` names with the engine put in (as
    ``"brand_gateway.{engine}.tokens"`` or ``"brand_gateway.webhooks.{engine}"``), over
    ``database``."""
    engine = database.engine
    key = (engine, where, name)
    made = _classes.get(key)
    if made is None:
        made = _classes[key] = getattr(importlib.import_module(where.format(engine=engine)),
                                       _PREFIX[engine] + name)
    return made(database)
