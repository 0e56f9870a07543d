"""A verifier of the public log written from the specs alone, for the tests: nothing of the
product is imported here (a test checks it), only hashlib, base64, json and cryptography.

What it follows:

- c2sp.org/signed-note: a note is text, a blank line, signature lines ``— <name> <base64>``;
  the base64 is a 4-byte key ID then the signature; an Ed25519 key ID is
  ``SHA-256(name || "\\n" || 0x01 || public key)[:4]``; a verifier key is
  ``<name>+<hex key ID>+<base64(0x01 || public key)>``. Unknown keys' signatures are ignored.
- c2sp.org/tlog-checkpoint: the text is the origin, the tree size in decimal, the root hash in
  base64, each on its own line (extension lines may follow).
- c2sp.org/tlog-tiles: ``<prefix>/tile/<L>/<N>[.p/<W>]``, N in 3-digit elements with ``x`` on all
  but the last; tile ``n`` at level ``l`` holds ``MTH(D[(n*256+i) * 256**l : (n*256+i+1) *
  256**l])``; the rightmost tiles of a tree of size ``s`` are partial, of width
  ``floor(s / 256**l) mod 256``.
- RFC 9162 section 2.1: the hashes, PATH and PROOF (2.1.3.1, 2.1.4.1) computed here from subtree
  hashes read off the tiles, and the verification algorithms of 2.1.3.2 and 2.1.4.2.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class Rejected(Exception):
    """What the verifier was shown does not hold."""


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf(data: bytes) -> bytes:
    return sha256(b"\x00" + data)


def node(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


# -- signed notes and checkpoints ----------------------------------------------------------------
@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


def verify_checkpoint(note: bytes, verifier_key: str) -> Checkpoint:
    name, hex_id, encoded = verifier_key.strip().split("+", 2)
    raw = base64.b64decode(encoded, validate=True)
    if len(raw) != 33 or raw[0] != 0x01:
        raise Rejected("not an Ed25519 verifier key")
    public = raw[1:]
    key_id = sha256(name.encode() + b"\n" + b"\x01" + public)[:4]
    if key_id.hex() != hex_id:
        raise Rejected("the verifier key's ID does not match")
    text = note.decode("utf-8")
    split = text.rfind("\n\n")
    if split < 0 or not text.endswith("\n"):
        raise Rejected("no signature block")
    body, block = text[:split + 1], text[split + 2:-1]
    verified = False
    for line in block.split("\n"):
        if not line.startswith("\u2014 "):
            raise Rejected("a signature line without the em dash")
        signer, _, signature_b64 = line[2:].partition(" ")
        signature = base64.b64decode(signature_b64, validate=True)
        if signer != name or signature[:4] != key_id:
            continue                                   # someone else's: ignored
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(signature[4:], body.encode())
        except InvalidSignature as exc:
            raise Rejected("the log's signature does not verify") from exc
        verified = True
    if not verified:
        raise Rejected("the note is not signed by the log's key")
    lines = body.split("\n")
    origin, size, root_b64 = lines[0], lines[1], lines[2]
    if origin != name:
        raise Rejected("the checkpoint's origin is not the key's name")
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise Rejected("the tree size is not a decimal")
    root = base64.b64decode(root_b64, validate=True)
    if len(root) != 32:
        raise Rejected("the root is not a SHA-256 hash")
    return Checkpoint(origin, int(size), root)


# -- the tree, from tiles -------------------------------------------------------------------------
def tile_path(level: int, index: int, width: int) -> str:
    digits = f"{index:d}"
    digits = "0" * (-len(digits) % 3) + digits
    elements = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    path = "/".join(["x" + e for e in elements[:-1]] + elements[-1:])
    return f"tile/{level}/{path}" + (f".p/{width}" if width < 256 else "")


class TiledTree:
    """The tree of one checkpoint's size, read from tiles fetched through ``fetch(path)``."""

    def __init__(self, fetch: Callable[[str], bytes], size: int) -> None:
        self.fetch = fetch
        self.size = size
        self._tiles: dict[tuple[int, int], list[bytes]] = {}

    def tile(self, level: int, index: int) -> list[bytes]:
        key = (level, index)
        if key not in self._tiles:
            span = 256 ** (level + 1)
            width = 256 if (index + 1) * span <= self.size else (self.size // 256 ** level) % 256
            if width == 0 or index * span >= self.size:
                raise Rejected(f"no tile {level}/{index} in a tree of {self.size}")
            data = self.fetch(tile_path(level, index, width))
            if len(data) != 32 * width:
                raise Rejected(f"tile {level}/{index} is {len(data)} bytes, not {32 * width}")
            self._tiles[key] = [data[i:i + 32] for i in range(0, len(data), 32)]
        return self._tiles[key]

    def perfect(self, height: int, index: int) -> bytes:
        """MTH of leaves [index * 2**height, (index + 1) * 2**height): a tile level's hashes,
        hashed up the levels a tile leaves out."""
        level, rest = divmod(height, 8)
        first = index << rest                       # at the tile level's height 8 * level
        hashes = self.tile(level, first // 256)
        row = hashes[first % 256:first % 256 + (1 << rest)]
        if len(row) != 1 << rest:
            raise Rejected("a tile is shorter than the tree needs")
        while len(row) > 1:
            row = [node(row[i], row[i + 1]) for i in range(0, len(row), 2)]
        return row[0]

    def mth(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) by RFC 9162's recursion, each perfect part read off the tiles."""
        n = end - start
        if n == 0:
            return sha256(b"")
        if n & (n - 1) == 0 and start % n == 0:
            return self.perfect(n.bit_length() - 1, start // n)
        k = largest_power_of_two_below(n)
        return node(self.mth(start, start + k), self.mth(start + k, end))

    def root(self) -> bytes:
        return self.mth(0, self.size)

    def inclusion_path(self, m: int, start: int = 0, end: int | None = None) -> list[bytes]:
        """PATH(m, D[start:end]), RFC 9162 2.1.3.1."""
        end = self.size if end is None else end
        n = end - start
        if n <= 1:
            return []
        k = largest_power_of_two_below(n)
        if m < k:
            return self.inclusion_path(m, start, start + k) + [self.mth(start + k, end)]
        return self.inclusion_path(m - k, start + k, end) + [self.mth(start, start + k)]

    def consistency_proof(self, m: int) -> list[bytes]:
        """PROOF(m, D[size]), RFC 9162 2.1.4.1."""
        def subproof(m: int, start: int, end: int, whole: bool) -> list[bytes]:
            n = end - start
            if m == n:
                return [] if whole else [self.mth(start, end)]
            k = largest_power_of_two_below(n)
            if m <= k:
                return subproof(m, start, start + k, whole) + [self.mth(start + k, end)]
            return subproof(m - k, start + k, end, False) + [self.mth(start, start + k)]
        return subproof(m, 0, self.size, True)


# -- RFC 9162 2.1.3.2 and 2.1.4.2 -----------------------------------------------------------------
def verify_inclusion(leaf_hash: bytes, index: int, size: int, path: list[bytes],
                     root: bytes) -> bool:
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(first: int, second: int, path: list[bytes], first_hash: bytes,
                       second_hash: bytes) -> bool:
    if first == second:
        return not path and hmac.compare_digest(first_hash, second_hash)
    if first == 0 or first > second or not path:
        return first == 0 and not path
    if first & (first - 1) == 0:
        path = [first_hash, *path]
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(fr, first_hash) \
        and hmac.compare_digest(sr, second_hash)


# -- what an auditor runs -------------------------------------------------------------------------
class Auditor:
    """Fetches ``<prefix>checkpoint``, ``<prefix>tile/...`` through ``get(url) -> bytes`` and
    checks them against a verifier key it was given."""

    def __init__(self, get: Callable[[str], bytes], prefix: str, verifier_key: str) -> None:
        self.get = get
        self.prefix = prefix
        self.verifier_key = verifier_key

    def checkpoint(self) -> tuple[bytes, Checkpoint]:
        note = self.get(self.prefix + "checkpoint")
        return note, verify_checkpoint(note, self.verifier_key)

    def tree(self, checkpoint: Checkpoint) -> TiledTree:
        tree = TiledTree(lambda path: self.get(self.prefix + path), checkpoint.size)
        if not hmac.compare_digest(tree.root(), checkpoint.root):
            raise Rejected("the tiles do not hash to the checkpoint's root")
        return tree

    def check_inclusion(self, body: bytes, index: int, checkpoint: Checkpoint) -> None:
        tree = self.tree(checkpoint)
        if not verify_inclusion(leaf(body), index, checkpoint.size,
                                tree.inclusion_path(index), checkpoint.root):
            raise Rejected(f"entry {index} is not in the tree of {checkpoint.size}")

    def check_consistency(self, old: Checkpoint, new: Checkpoint) -> None:
        if old.origin != new.origin or old.size > new.size:
            raise Rejected("the checkpoints are not of one growing log")
        proof = self.tree(new).consistency_proof(old.size) if old.size else []
        if not verify_consistency(old.size, new.size, proof, old.root, new.root):
            raise Rejected(f"the tree of {new.size} does not extend the one of {old.size}")


def check_receipt_entry(receipt_jwt: str, body: bytes, jwks: dict) -> int:
    """The index a consent receipt names, once its signature (EdDSA, the JWKS's key), the
    entry body (tag, receipt id, digest) and the position all agree; else Rejected."""
    header_b64, payload_b64, signature_b64 = receipt_jwt.split(".")

    def unpad(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    header = json.loads(unpad(header_b64))
    [key] = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    if header["alg"] != "EdDSA" or key["crv"] != "Ed25519":
        raise Rejected("not an Ed25519 receipt")
    try:
        Ed25519PublicKey.from_public_bytes(unpad(key["x"])).verify(
            unpad(signature_b64), f"{header_b64}.{payload_b64}".encode())
    except InvalidSignature as exc:
        raise Rejected("the receipt's signature does not verify") from exc
    receipt = json.loads(unpad(payload_b64))
    entry = json.loads(body)
    position = receipt["ledgerPosition"]
    if entry["tag"] != "consent:receipt:issued" or entry["seq"] != position["index"] \
            or entry["details"]["receipt"] != receipt["consentReceiptID"] \
            or entry["details"]["sha256"] != hashlib.sha256(receipt_jwt.encode()).hexdigest():
        raise Rejected("the entry is not this receipt's")
    return int(position["index"])
