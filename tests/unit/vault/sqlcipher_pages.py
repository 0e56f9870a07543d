"""Test helper: what is on disk, raw and beneath SQLCipher's page encryption.

Tests that must show a value is *not* on disk need two views: the raw bytes of a store and its
WAL (what a thief copying the files gets), and the decrypted pages (what anyone holding the store
key gets, including freed cells and stale WAL frames that SQL can no longer reach).

SQLCipher 4 defaults, which the product keeps: 4096-byte pages, each ending in a reserved tail of
a 16-byte IV and a 64-byte HMAC-SHA512; page 1 starts with the 16-byte salt where SQLite has its
header; the page body is AES-256-CBC under the raw key (a raw ``x'…'`` key is used as is).
A WAL file is a 32-byte header followed by frames of a 24-byte header and one page.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PAGE_SIZE = 4096
IV_BYTES = 16
HMAC_BYTES = 64
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
