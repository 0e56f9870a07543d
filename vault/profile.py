"""A member's profile: catalog attributes, each value sealed under the member's key.

Invariants: only catalog attributes are stored; each value is canonicalised by
:func:`vault.catalog.coerce` and sealed with associated data (member, ``profile_values``,
attribute, ``value``); an update is all-or-nothing: one invalid field and nothing is saved.
Nothing is cached: every read unwraps the member's key through the request's key store and opens
only what it returns.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from .catalog import BY_KEY, coerce
from .clock import Clock
from .errors import IntegrityError, ValidationError
from .keys import KeyStore
from .sealing import associated_data
from .storage import Database


def _aad(member_id: str, attribute: str) -> bytes:
    return associated_data(member_id, "profile_values", attribute, "value")


def _json_values(texts: list[bytes]) -> list[Any]:
    """Each of ``texts`` (one JSON value each, as :meth:`ProfileService.update` sealed it)
    decoded, in one parse of them as an array: the brand API's hot path decodes ten values per
    read, and one call costs a fifth of ten."""
    values = json.loads(b"[" + b",".join(texts) + b"]")
    if len(values) != len(texts):
        # Only a value that is not one JSON value could do this, and sealing authenticated
        # what update() wrote: this is not the store's data.
        raise IntegrityError("a profile value is not one JSON value")
    return list(values)


class ProfileService:
    def __init__(self, *, database: Database, keys: KeyStore, clock: Clock) -> None:
        self._db = database
        self._keys = keys
        self._clock = clock

    def get(self, member_id: str) -> dict[str, Any]:
        """The member's filled-in attributes (partial profiles are normal)."""
        rows = self._db.all(
            "SELECT attribute, value_sealed FROM profile_values WHERE member_id = ?",
            (member_id,),
        )
        if not rows:
            return {}
        cipher = self._keys.cipher(member_id)
        return {
            row["attribute"]: json.loads(cipher.open(_aad(member_id, row["attribute"]),
                                                     row["value_sealed"]))
            for row in rows
            if row["attribute"] in BY_KEY
        }

    def read(self, member_id: str, attributes: Iterable[str]) -> dict[str, Any]:
        """Only the given attributes the member filled in: only their rows are read and only
        they are decrypted (the brand API reads just what it may release). Unknown names are
        ignored, as :meth:`get` ignores rows outside the catalog."""
        wanted = [a for a in dict.fromkeys(attributes) if a in BY_KEY]
        if not wanted:
            return {}
        rows = self._db.all(
            "SELECT attribute, value_sealed FROM profile_values WHERE member_id = ?"
            f" AND attribute IN ({','.join('?' * len(wanted))})",
            (member_id, *wanted),
        )
        if not rows:
            return {}
        cipher = self._keys.cipher(member_id)
        opened = cipher.open_many([(_aad(member_id, row[0]), row[1]) for row in rows])
        return dict(zip((row[0] for row in rows), _json_values(opened), strict=True))

    def check(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """The canonical values of ``changes``, or one :class:`ValidationError` naming every
        attribute that breaks its rule. Writes nothing."""
        clean: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        today = dt.datetime.fromtimestamp(self._clock(), dt.UTC).date()
        for key, raw in changes.items():
            try:
                clean[key] = coerce(key, raw, today=today)
            except ValidationError as exc:
                errors.update(exc.errors)
        if errors:
            raise ValidationError(errors)
        return clean

    def update(self, member_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Set (or, with an empty value, clear) the given attributes, all or nothing."""
        clean = self.check(changes)
        cipher = self._keys.cipher(member_id)
        now = int(self._clock())
        with self._db.transaction():
            for key, value in clean.items():
                if value is None:
                    self._db.execute(
                        "DELETE FROM profile_values WHERE member_id = ? AND attribute = ?",
                        (member_id, key),
                    )
                    continue
                sealed = cipher.seal(_aad(member_id, key), json.dumps(value).encode())
                self._db.execute(
                    "INSERT INTO profile_values (member_id, attribute, value_sealed, updated_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (member_id, attribute) DO UPDATE SET"
                    " value_sealed = excluded.value_sealed, updated_at = excluded.updated_at",
                    (member_id, key, sealed, now),
                )
        return {k: v for k, v in clean.items() if v is not None}

    def seal_rows(
        self, member_id: str, values: Mapping[str, Any], now: int
    ) -> list[tuple[str, str, bytes, int]]:
        """Rows for a bulk insert of already-canonical values (the demo loader)."""
        cipher = self._keys.cipher(member_id)
        return [
            (member_id, key, cipher.seal(_aad(member_id, key), json.dumps(value).encode()), now)
            for key, value in values.items()
        ]

    INSERT_SQL = (
        "INSERT INTO profile_values (member_id, attribute, value_sealed, updated_at)"
        " VALUES (?, ?, ?, ?)"
    )
