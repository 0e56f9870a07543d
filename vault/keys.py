"""Key material: the master key, what is derived from it, and the member key store.

Hierarchy::

    master key (32 random bytes; 0600 file or VRMVAULT_MASTER_KEY, never in a database)
    ├── HKDF "data-store"   -> SQLCipher raw key of the data store
    ├── HKDF "key-store"    -> SQLCipher raw key of the key store
    ├── HKDF "kek"          -> wraps every member data key (AES-256-GCM, bound to the member id)
    ├── HKDF "blind-index"  -> HMAC key for looking up a login e-mail without storing it
    ├── HKDF "pseudonym"    -> HMAC key for pseudonymous subjects (erasure log, ledger)
    └── HKDF "throttle"     -> HMAC key for login-throttle subjects (addresses, client IPs)

Invariants: member data keys exist in clear only in memory; on disk they are wrapped, in the key
store (its own SQLCipher file), never in the data store. Destroying a member's wrapped key makes
every sealed value of that member unreadable, in the live store and in every backup. A
:class:`KeyStore` keeps the member keys it unwrapped for as long as it lives, which is one request
or one command: the web layer makes a new one per request, so an erasure by another process takes
effect on the very next request. Subkeys of the master key are derived once per
:class:`MasterKey` and kept beside it (they are functions of a key already in memory); so is the
cipher made of the key-encryption key, once per set of kept connections (``vault.home``).
"""

from __future__ import annotations

import hmac
import os
import stat
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .clock import Clock, system_clock
from .errors import (
    ConflictError,
    IntegrityError,
    KeyMaterialError,
    MemberKeyDestroyedError,
    MemberKeyLostError,
    MemberKeyMissingError,
)
from .repositories import MemberKeyRepository, Memo
from .sealing import MemberCipher, unsafe_PlaintextCipher

KEY_BYTES = 32          # every key here, and every store key: 256 bits
MASTER_KEY_ENV = "VRMVAULT_MASTER_KEY"
_WRAP_AAD_PREFIX = b"vrmvault/member-key/v1\x1f"


class MasterKey:
    """The root secret. Its ``repr`` never shows the bytes."""

    __slots__ = ("_material", "_derived")

    def __init__(self, material: bytes) -> None:
        if len(material) != KEY_BYTES:
            raise KeyMaterialError("the master key must be exactly 32 bytes (64 hex digits)")
        self._material = material
        self._derived: dict[str, bytes] = {}

    def __repr__(self) -> str:
        return "MasterKey(<hidden>)"

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(os.urandom(KEY_BYTES))

    @classmethod
    def from_hex(cls, text: str) -> MasterKey:
        text = text.strip()
        try:
            material = bytes.fromhex(text)
        except ValueError as exc:
            raise KeyMaterialError("the master key is not 64 hexadecimal digits") from exc
        return cls(material)

    def derive(self, purpose: str) -> bytes:
        """A 32-byte subkey for ``purpose`` (HKDF-SHA256, RFC 5869), derived on first use."""
        subkey = self._derived.get(purpose)
        if subkey is None:
            subkey = self._derived[purpose] = HKDF(
                algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None,
                info=b"vrmvault/v1/" + purpose.encode(),
            ).derive(self._material)
        return subkey

    def write_new_file(self, path: Path) -> None:
        """Create ``path`` with mode 0600 holding this key; refuse to overwrite."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as exc:
            raise KeyMaterialError(f"{path} exists already; refusing to overwrite a key") from exc
        with os.fdopen(fd, "w") as handle:
            handle.write(self._material.hex() + "\n")


def load_master_key(key_file: Path, environ: dict[str, str] | None = None) -> MasterKey:
    """The master key from ``VRMVAULT_MASTER_KEY`` if set, else from ``key_file`` (mode 0600)."""
    environ = dict(os.environ) if environ is None else environ
    if environ.get(MASTER_KEY_ENV):
        return MasterKey.from_hex(environ[MASTER_KEY_ENV])
    try:
        mode = key_file.stat().st_mode
    except FileNotFoundError as exc:
        raise KeyMaterialError(
            f"no master key: set {MASTER_KEY_ENV} or run 'vrmvault init' to create {key_file}"
        ) from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyMaterialError(
            f"{key_file} is readable by others (mode {stat.S_IMODE(mode):o}); chmod 600 it"
        )
    owner = key_file.stat().st_uid
    if owner != os.geteuid():
        # Another account's file: whoever wrote it knows the key (one planted in a home that
        # was made by someone else, say), and may write another one in its place.
        raise KeyMaterialError(
            f"{key_file} belongs to another user (uid {owner}); run vrmvault as the user that"
            " owns the home"
        )
    return MasterKey.from_hex(key_file.read_text())


class Pseudonymiser:
    """Keyed hashes: the same input gives the same opaque value; without the key, nothing."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def digest(self, value: str) -> bytes:
        # hmac.digest: the same HMAC-SHA256 in one call (OpenSSL's one-shot path), several
        # times quicker than building an hmac object; a reveal hashes every account's id.
        return hmac.digest(self._key, value.encode(), "sha256")

    def subject(self, value: str) -> str:
        return self.digest(value).hex()


class KeyStore:
    """Per-member data keys, wrapped, in their own store (the key store)."""

    def __init__(self, keys: MemberKeyRepository, kek: bytes | AESGCM, *,
                 clock: Clock = system_clock) -> None:
        # ``kek``: the key-encryption key, or a cipher already made of it (kept connections
        # make it once and pass it to the key store of each use).
        self._keys = keys
        self._kek = kek if isinstance(kek, AESGCM) else AESGCM(kek)
        self._clock = clock
        self._cache: dict[str, MemberCipher] = {}

    def transaction(self) -> AbstractContextManager[object]:
        """A write transaction over the key store (for a batch of :meth:`create`)."""
        return self._keys.transaction()

    def create(self, member_id: str) -> MemberCipher:
        """Make, wrap and store a fresh random data key for ``member_id``."""
        key = AESGCM.generate_key(bit_length=256)
        if not self._keys.insert(member_id, self._wrap(member_id, key), int(self._clock())):
            raise ConflictError("this member has a data key already")
        cipher = MemberCipher(key)
        self._cache[member_id] = cipher
        return cipher

    def create_many(self, member_ids: Sequence[str]) -> list[MemberCipher]:
        """:meth:`create` for many members in one statement, inside the caller's
        transaction (:meth:`MemberKeyRepository.insert_many`: a member with a key already
        fails it, and the caller rolls back)."""
        now = int(self._clock())
        keys = [AESGCM.generate_key(bit_length=256) for _ in member_ids]
        self._keys.insert_many([(member_id, self._wrap(member_id, key), now)
                                for member_id, key in zip(member_ids, keys, strict=True)])
        ciphers = [MemberCipher(key) for key in keys]
        self._cache.update(zip(member_ids, ciphers, strict=True))
        return ciphers

    def _wrap(self, member_id: str, key: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._kek.encrypt(nonce, key, _WRAP_AAD_PREFIX + member_id.encode())

    def cipher(self, member_id: str, *, memo: Memo | None = None) -> MemberCipher:
        """The member's cipher; :class:`MemberKeyDestroyedError` once they were erased,
        :class:`MemberKeyLostError` when the key is missing and no erasure is listed.

        ``memo``: the data store's :meth:`~vault.repositories.Store.memoized` (the brand API's
        reads): the wrapped key, never the key, is then read from the key store once while
        nothing is committed to the data store. Destroying a key commits nothing there, so
        only a caller that refuses a member whose erasure has begun may pass it (an erasure
        commits that before it destroys the key: vault/erasure.py)."""
        cached = self._cache.get(member_id)
        if cached is not None:
            return cached
        keys = self._keys
        wrapped = keys.wrapped(member_id) if memo is None else memo(
            ("wrapped-key", member_id), lambda: keys.wrapped(member_id))
        if wrapped is None:
            raise self._missing(member_id)
        try:
            key = self._kek.decrypt(
                wrapped[:12], wrapped[12:], _WRAP_AAD_PREFIX + member_id.encode()
            )
        except InvalidTag as exc:
            raise IntegrityError("a wrapped member key failed authentication") from exc
        cipher = MemberCipher(key)
        self._cache[member_id] = cipher
        return cipher

    def _missing(self, member_id: str) -> MemberKeyMissingError:
        """Why the member has no key. An erasure deletes the key and lists it in one
        transaction of this store, so a key missing and not listed was never destroyed here:
        the store was restored from a backup made before the key (or a newer one that held it
        was lost). Only read on this path, never on a read that finds the key."""
        if self._keys.erased_at(member_id) is not None:
            return MemberKeyDestroyedError("this member's data key does not exist")
        return MemberKeyLostError(
            "This member's data cannot be opened for now: the vault's operator restored its"
            " keys from a backup older than this member's key. Nothing was erased; the data"
            " can be opened again once a newer backup of the keys is restored.")

    def remove(self, member_id: str) -> None:
        """Delete a key just made whose account could not be (no erasure is listed)."""
        self._cache.pop(member_id, None)
        self._keys.remove(member_id)

    def destroy(self, member_id: str, *, erased_at: int) -> bool:
        """Crypto-shred: delete the wrapped key, list the erasure, purge it from disk; whether
        there was a key."""
        self._cache.pop(member_id, None)
        return self._keys.destroy(member_id, erased_at)

    def erased_at(self, member_id: str) -> int | None:
        """When the member's erasure was listed, if it was."""
        return self._keys.erased_at(member_id)

    def erased_members(self) -> list[str]:
        return [member_id for member_id, _ in self._keys.erased()]

    def erasure_list(self) -> list[tuple[str, int]]:
        """``(member_id, erased_at)`` of every erasure the key store lists."""
        return self._keys.erased()

    def holders(self) -> list[str]:
        """The members whose key the store holds."""
        return self._keys.holders()

    def forget_cached(self) -> None:
        self._cache.clear()


class unsafe_PlaintextKeyStore(KeyStore):
    """A key store whose ciphers do not encrypt.

    .. warning:: For the encryption-overhead benchmark only (the same storage code with sealing
       off). Nothing in the product constructs it.
    """

    def __init__(self, keys: MemberKeyRepository) -> None:
        super().__init__(keys, b"\0" * KEY_BYTES)
        self._plain = unsafe_PlaintextCipher()

    def create(self, member_id: str) -> MemberCipher:
        return self._plain

    def create_many(self, member_ids: Sequence[str]) -> list[MemberCipher]:
        return [self._plain for _ in member_ids]

    def cipher(self, member_id: str, *, memo: Memo | None = None) -> MemberCipher:
        return self._plain
