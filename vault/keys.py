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
:class:`MasterKey` and kept beside it (they are functions of a key already in memory).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .clock import Clock, system_clock
from .errors import IntegrityError, KeyMaterialError, MemberKeyDestroyedError
from .sealing import MemberCipher, unsafe_PlaintextCipher
from .storage import KEY_BYTES, Database

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
    return MasterKey.from_hex(key_file.read_text())


class Pseudonymiser:
    """Keyed hashes: the same input gives the same opaque value; without the key, nothing."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def digest(self, value: str) -> bytes:
        return hmac.new(self._key, value.encode(), hashlib.sha256).digest()

    def subject(self, value: str) -> str:
        return self.digest(value).hex()


#: The master-key derivation purpose of pairwise pseudonyms (brand_gateway/pseudonyms.py).
PAIRWISE_PURPOSE = "pairwise-pseudonym"


def pairwise_subject(key: bytes, member_id: str, brand_id: str) -> str:
    """The pseudonym of ``member_id`` for ``brand_id`` under ``key``: base64url of
    HMAC-SHA256(key, len(brand_id) || brand_id || member_id). Here, below consent and the
    brand gateway, so that both name a member to a brand by the same pairwise id (the brand
    API's ``subject``, an agreement record's first party) and no id two brands share."""
    brand = brand_id.encode()
    # A length prefix keeps (brand, member) pairs unambiguous whatever the ids hold.
    message = len(brand).to_bytes(2, "big") + brand + member_id.encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class KeyStore:
    """Per-member data keys, wrapped, in their own SQLCipher file."""

    def __init__(self, database: Database, kek: bytes, *, clock: Clock = system_clock) -> None:
        self.database = database
        self._kek = AESGCM(kek)
        self._clock = clock
        self._cache: dict[str, MemberCipher] = {}

    def create(self, member_id: str) -> MemberCipher:
        """Make, wrap and store a fresh random data key for ``member_id``."""
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        wrapped = nonce + self._kek.encrypt(nonce, key, _WRAP_AAD_PREFIX + member_id.encode())
        self.database.execute(
            "INSERT INTO member_keys (member_id, wrapped, created_at) VALUES (?, ?, ?)",
            (member_id, wrapped, int(self._clock())),
        )
        cipher = MemberCipher(key)
        self._cache[member_id] = cipher
        return cipher

    def cipher(self, member_id: str) -> MemberCipher:
        """The member's cipher; :class:`MemberKeyDestroyedError` once they were erased."""
        cached = self._cache.get(member_id)
        if cached is not None:
            return cached
        row = self.database.one("SELECT wrapped FROM member_keys WHERE member_id = ?", (member_id,))
        if row is None:
            raise MemberKeyDestroyedError("this member's data key does not exist")
        wrapped = row["wrapped"]
        try:
            key = self._kek.decrypt(
                wrapped[:12], wrapped[12:], _WRAP_AAD_PREFIX + member_id.encode()
            )
        except InvalidTag as exc:
            raise IntegrityError("a wrapped member key failed authentication") from exc
        cipher = MemberCipher(key)
        self._cache[member_id] = cipher
        return cipher

    def destroy(self, member_id: str, *, erased_at: int) -> bool:
        """Crypto-shred: delete the wrapped key, list the erasure, purge it from the WAL."""
        self._cache.pop(member_id, None)
        with self.database.transaction():
            deleted = self.database.execute(
                "DELETE FROM member_keys WHERE member_id = ?", (member_id,)
            ).rowcount
            self.database.execute(
                "INSERT OR IGNORE INTO erased_members (member_id, erased_at) VALUES (?, ?)",
                (member_id, erased_at),
            )
        # secure_delete zeroed the page in the new WAL frame; checkpointing overwrites the
        # database file's copy and truncates the WAL, so the wrapped key is gone from disk.
        self.database.checkpoint()
        return deleted > 0

    def erased_members(self) -> list[str]:
        return [r["member_id"] for r in self.database.all("SELECT member_id FROM erased_members")]

    def forget_cached(self) -> None:
        self._cache.clear()


class unsafe_PlaintextKeyStore(KeyStore):
    """A key store whose ciphers do not encrypt.

    .. warning:: For the encryption-overhead benchmark only (the same storage code with sealing
       off). Nothing in the product constructs it.
    """

    def __init__(self, database: Database) -> None:
        super().__init__(database, b"\0" * KEY_BYTES)
        self._plain = unsafe_PlaintextCipher()

    def create(self, member_id: str) -> MemberCipher:
        return self._plain

    def cipher(self, member_id: str) -> MemberCipher:
        return self._plain
