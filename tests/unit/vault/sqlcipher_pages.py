"""Test helper: what is on disk, raw and beneath SQLCipher's page encryption.

Tests that must show a value is *not* on disk need two views: the raw bytes of a store and its
WAL (what a thief copying the files gets), and the decrypted pages (what anyone holding the store
key gets, including freed cells and stale WAL frames that SQL can no longer reach).

The layout the product writes: SQLCipher 4's 4096-byte pages, each ending in a reserved tail of
a 16-byte IV and the page's HMAC, HMAC-SHA256 (32 bytes; the product's choice,
``vault.sqlcipher.database.PAGE_HMAC``, where SQLCipher's default is HMAC-SHA512's 64); page 1
starts with the 16-byte salt where SQLite has its header; the page body is AES-256-CBC under the
raw key (a raw ``x'…'`` key is used as is). A WAL file is a 32-byte header followed by frames of
a 24-byte header and one page. :func:`decrypts_as_a_store` shows which layout a file has.
(SQLite's own header still states a reserve of 80 bytes: SQLCipher sizes it at ``PRAGMA key``,
before the HMAC is chosen, and writes its IV and HMAC at the very end of the page.)
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from vault.sqlcipher.database import PAGE_HMAC

PAGE_SIZE = 4096
IV_BYTES = 16
HMAC_BYTES = {"HMAC_SHA256": 32, "HMAC_SHA512": 64}[PAGE_HMAC]
SALT_BYTES = 16
WAL_HEADER_BYTES = 32
WAL_FRAME_HEADER_BYTES = 24
SQLITE_HEADER = b"SQLite format 3\x00"


def store_files(path: Path) -> list[Path]:
    """The store file and its WAL, those that exist."""
    return [p for p in (path, Path(f"{path}-wal")) if p.exists()]


def raw_bytes(path: Path) -> bytes:
    """The raw bytes of the store file and its WAL, concatenated."""
    return b"".join(p.read_bytes() for p in store_files(path))


def decrypt_page(key: bytes, page: bytes, number: int) -> bytes:
    """The plaintext body of one encrypted page (page 1 without its salt)."""
    body_end = PAGE_SIZE - IV_BYTES - HMAC_BYTES
    iv = page[body_end:body_end + IV_BYTES]
    start = SALT_BYTES if number == 1 else 0
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return decryptor.update(page[start:body_end]) + decryptor.finalize()


def decrypted_pages(path: Path, key: bytes) -> list[bytes]:
    """Every page of the store file and every frame of its WAL, decrypted with ``key``."""
    pages = []
    data = path.read_bytes() if path.exists() else b""
    for offset in range(0, len(data) - PAGE_SIZE + 1, PAGE_SIZE):
        pages.append(decrypt_page(key, data[offset:offset + PAGE_SIZE], offset // PAGE_SIZE + 1))
    wal = Path(f"{path}-wal")
    data = wal.read_bytes() if wal.exists() else b""
    offset = WAL_HEADER_BYTES
    while offset + WAL_FRAME_HEADER_BYTES + PAGE_SIZE <= len(data):
        number = int.from_bytes(data[offset:offset + 4], "big")
        start = offset + WAL_FRAME_HEADER_BYTES
        pages.append(decrypt_page(key, data[start:start + PAGE_SIZE], number))
        offset = start + PAGE_SIZE
    return pages


def decrypted_contains(path: Path, key: bytes, needle: bytes) -> bool:
    return any(needle in page for page in decrypted_pages(path, key))


def decrypts_as_a_store(path: Path, key: bytes, hmac_bytes: int = HMAC_BYTES) -> bool:
    """Whether page 1 of ``path``, read with a page HMAC of ``hmac_bytes``, decrypts to SQLite's
    header (the page size, then read and write versions 1 or 2). The IV sits just before the
    HMAC, so a wrong HMAC size garbles the header's first block, where these fields are."""
    page = path.read_bytes()[:PAGE_SIZE]
    body_end = PAGE_SIZE - IV_BYTES - hmac_bytes
    iv = page[body_end:body_end + IV_BYTES]
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    header = decryptor.update(page[SALT_BYTES:SALT_BYTES + 16]) + decryptor.finalize()
    return header[:2] == PAGE_SIZE.to_bytes(2, "big") and header[2] in (1, 2) \
        and header[3] in (1, 2)
