"""A member's profile: catalog attributes, each value sealed under the member's key.

Invariants: only catalog attributes are stored; each value is canonicalised by
:func:`vault.catalog.coerce` and sealed with associated data (member, ``profile_values``,
attribute, ``value``); an update is all-or-nothing: one invalid field and nothing is saved.
Nothing decrypted is kept: every read unwraps the member's key through the request's key store
and opens only what it returns. What a caller may have remembered is the sealed rows, through its
store's memo (:meth:`ProfileService.read`), and only while nothing was committed to the store.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .catalog import BY_KEY, coerce
from .clock import Clock
from .errors import IntegrityError, ValidationError
from .keys import KeyStore
from .repositories import Memo, ProfileRepository
from .sealing import associated_data


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
    def __init__(self, *, values: ProfileRepository, keys: KeyStore, clock: Clock) -> None:
        self._values = values
        self._keys = keys
        self._clock = clock

    def get(self, member_id: str) -> dict[str, Any]:
        """The member's filled-in attributes (partial profiles are normal)."""
        rows = self._values.values(member_id)
        if not rows:
            return {}
        cipher = self._keys.cipher(member_id)
        return {
            attribute: json.loads(cipher.open(_aad(member_id, attribute), sealed))
            for attribute, sealed in rows
            if attribute in BY_KEY
        }

    def read(self, member_id: str, attributes: Iterable[str], *,
             memo: Memo | None = None) -> dict[str, Any]:
        """Only the given attributes the member filled in: only their rows are read and only
        they are decrypted (the brand API reads just what it may release). Unknown names are
        ignored, as :meth:`get` ignores rows outside the catalog.

        ``memo``: the store's :meth:`~vault.repositories.Store.memoized`, for a caller that reads
        the same fields of the same member again and again (the brand API): the sealed rows and
        the member's wrapped key (:meth:`KeyStore.cipher`) are then read once while nothing is
        committed to the store, by anyone. They are still opened on every call, under the key
        unwrapped for it. Such a caller refuses a member whose erasure has begun: the erasure
        commits that to this store before it destroys the key (vault/erasure.py), so no
        remembered key outlives it."""
        wanted = [a for a in dict.fromkeys(attributes) if a in BY_KEY]
        if not wanted:
            return {}
        rows: Sequence[tuple[str, bytes]]
        if memo is None:
            rows = self._values.values(member_id, wanted)
        else:
            rows = memo(("profile-rows", member_id, *wanted),
                        lambda: tuple(self._values.values(member_id, wanted)))
        if not rows:
            return {}
        cipher = self._keys.cipher(member_id, memo=memo)
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
        with self._values.transaction():
            for key, value in clean.items():
                if value is None:
                    self._values.remove(member_id, key)
                    continue
                sealed = cipher.seal(_aad(member_id, key), json.dumps(value).encode())
                self._values.put(member_id, key, sealed, now)
        return {k: v for k, v in clean.items() if v is not None}

    def seal_rows(
        self, member_id: str, values: Mapping[str, Any], now: int
    ) -> list[tuple[str, str, bytes, int]]:
        """Rows for a bulk insert of already-canonical values (the demo loader), as
        :meth:`vault.repositories.ProfileRepository.put_many` takes them."""
        cipher = self._keys.cipher(member_id)
        return [
            (member_id, key, cipher.seal(_aad(member_id, key), json.dumps(value).encode()), now)
            for key, value in values.items()
        ]

    def add_sealed(self, rows: Iterable[tuple[str, str, bytes, int]]) -> None:
        """Store rows made by :meth:`seal_rows` for attributes not stored yet (the demo
        loader's bulk insert, inside its own transaction)."""
        self._values.put_many(rows)
