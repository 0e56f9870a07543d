"""The ledger published as a C2SP tiled transparency log (c2sp.org/tlog-tiles): the signed
checkpoint and the Merkle tree's hashes as static files, never the entries.

Layout, under the log directory (``<vault home>/log``), exactly the spec's resource paths::

    checkpoint              the latest published signed checkpoint (c2sp.org/tlog-checkpoint)
    tile/<L>/<N>            a full tile: 256 hashes, 8,192 bytes
    tile/<L>/<N>.p/<W>      a partial tile of width W (1 to 255 hashes)

``<N>`` is written in 3-digit path elements, all but the last prefixed with ``x``
(1234067 -> ``x001/x234/067``), so a file never shares its name with a directory. The tile
height is 8: the ``n``-th tile at level ``l`` holds, for ``i`` from 0 to its width - 1, the hash
``MTH(D[(n*256 + i) * 256**l : (n*256 + i + 1) * 256**l])``, which is the stored perfect subtree
``(8l, n*256 + i)`` (:mod:`consent.merkle`): publishing copies hashes, it computes none.

What is *not* published: the spec's entry bundles (``tile/entries/<N>``). Every entry is a
consent, access or request event; even with only pseudonyms and digests in it, the list of them
says who (by pseudonym) did what and when, and a pairwise pseudonym is known to its brand. So
nobody can enumerate the log's contents; the leaves are there as hashes only. Whoever holds an
entry (a member or brand holding a consent receipt gets its entry with it) proves it is in the
log from the tiles; a monitor can check that the log only grows (consistency between any two
checkpoints) but cannot read what it grew by. This is a deliberate departure from a fully public
tlog-tiles log, which serves its entries too. The other: the spec would have the checkpoint
origin be the log's URL prefix; the origin stays the ledger's own name
(``vrmvault.example/ledger/<key fingerprint>``, consent/checkpoints.py), which every checkpoint
signed so far carries and which does not change with the host the vault is served from.

Invariants:
- Only what a signed checkpoint covers is ever written: :meth:`TileDirectory.publish` writes the
  tiles a checkpoint of the ledger's store implies, then the checkpoint itself, last, so a
  published checkpoint never names a tile that is not there. A reader also refuses any tile the
  published checkpoint does not require (:meth:`TileDirectory.read_tile`).
- Published sizes only grow, and each published tree extends the one before (the ledger
  refuses to sign an inconsistent checkpoint, and publishing a smaller one is refused here).
- Files are written whole (a temporary file renamed into place), so a reader sees a tile or
  nothing, never half of one; a tile's bytes never change once written.
- Reading a tile is a file read: no store, no hashing (the "static read" of the spec).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import InconsistentCheckpointError
from .ledger_proofs import Checkpoint, StoredTree

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT                   # 256 hashes in a full tile
MAX_LEVEL = 63
LOG_DIRECTORY = "log"                           # under the vault home
CHECKPOINT_FILE = "checkpoint"
MAX_INDEX_ELEMENTS = 7      # 3 * 7 = 21 digits: past any tile index of a 2**63-entry tree
MAX_TILE_PATH = 64          # characters after "tile/": longer is no tile of this log
DEFAULT_LOG_RATE_LIMIT = 1200   # requests a minute per client address to the served log

_LEVEL = re.compile(r"0|[1-9][0-9]?")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")
_ELEMENT = re.compile(r"x[0-9]{3}")
_LAST_ELEMENT = re.compile(r"[0-9]{3}")


@dataclass(frozen=True)
class Tile:
    """A tile coordinate: level, index within the level, width (256 for a full tile)."""

    level: int
    index: int
    width: int = TILE_WIDTH

    @property
    def partial(self) -> bool:
        return self.width < TILE_WIDTH

    @property
    def path(self) -> str:
        """The spec's resource path, ``tile/<L>/<N>[.p/<W>]``."""
        suffix = f".p/{self.width}" if self.partial else ""
        return f"tile/{self.level}/{encode_index(self.index)}{suffix}"

    def needed_by(self, tree_size: int) -> bool:
        """Whether a tree of ``tree_size`` leaves covers this tile: all of a full tile's span,
        or exactly the first ``width`` hashes of a partial one (partial tiles of earlier
        checkpoints stay available, as the spec allows, until the full tile replaces them)."""
        return (self.index * TILE_WIDTH + self.width) << (TILE_HEIGHT * self.level) \
            <= tree_size

    def hash_keys(self) -> list[tuple[int, int]]:
        """The stored perfect subtrees ``(tree level, index)`` whose hashes make up the tile."""
        first = self.index * TILE_WIDTH
        return [(TILE_HEIGHT * self.level, first + i) for i in range(self.width)]


def encode_index(index: int) -> str:
    """``<N>`` of a tile path: zero-padded 3-digit elements, all but the last with an ``x``."""
    if index < 0:
        raise ValueError("a tile index is not negative")
    elements = []
    while True:
        elements.append(f"{index % 1000:03d}")
        index //= 1000
        if not index:
            break
    elements.reverse()
    return "/".join(["x" + e for e in elements[:-1]] + elements[-1:])


def parse_tile_path(path: str) -> Tile | None:
    """The tile at ``<L>/<N>[.p/<W>]`` (what follows ``tile/``), or None for anything that is
    not the canonical path of a hash tile: leading zeros, a level over 63, a width outside 1 to
    255, an index written in more elements than it needs, ``entries`` (not published), ``..``."""
    if len(path) > MAX_TILE_PATH:
        return None
    parts = path.split("/")
    if len(parts) < 2 or not _LEVEL.fullmatch(parts[0]) or int(parts[0]) > MAX_LEVEL:
        return None
    level, rest = int(parts[0]), parts[1:]
    width = TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        if not _WIDTH.fullmatch(rest[-1]) or int(rest[-1]) >= TILE_WIDTH:
            return None
        width = int(rest[-1])
        rest = rest[:-2] + [rest[-2][:-2]]
    if not rest or len(rest) > MAX_INDEX_ELEMENTS or not _LAST_ELEMENT.fullmatch(rest[-1]) \
            or not all(_ELEMENT.fullmatch(e) for e in rest[:-1]):
        return None
    index = int("".join(e.lstrip("x") for e in rest))
    tile = Tile(level, index, width)
    return tile if tile.path == f"tile/{path}" else None


def tiles_of(tree_size: int, since: int = 0) -> Iterator[Tile]:
    """The tiles a tree of ``tree_size`` leaves is published as, leaving out the full tiles a
    tree of ``since`` leaves already had: per level, its full tiles, then its partial tile (of
    width ``floor(tree_size / 256**l) mod 256``) unless that is empty."""
    level = 0
    while tree_size >> (TILE_HEIGHT * level):
        hashes = tree_size >> (TILE_HEIGHT * level)          # subtrees at this level
        had = since >> (TILE_HEIGHT * level)
        for index in range(had // TILE_WIDTH, hashes // TILE_WIDTH):
            yield Tile(level, index)
        if hashes % TILE_WIDTH:
            yield Tile(level, hashes // TILE_WIDTH, hashes % TILE_WIDTH)
        level += 1


class TileDirectory:
    """The published log: a directory of the spec's static resources (see the module)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # (inode, mtime_ns) of the checkpoint file, and its size: every publish renames a new
        # file into place, so a new inode says the size may have changed.
        self._size_seen: tuple[tuple[int, int], int] | None = None

    @classmethod
    def of_home(cls, home_root: Path) -> TileDirectory:
        return cls(home_root / LOG_DIRECTORY)

    # -- reading (the public routes; no store, no hashing) ---------------------------------------
    def checkpoint(self) -> bytes | None:
        """The published signed checkpoint, or None before the first is published."""
        try:
            return (self.root / CHECKPOINT_FILE).read_bytes()
        except FileNotFoundError:
            return None

    def published_size(self) -> int:
        """The tree size of the published checkpoint (0 when none), remembered until the file
        changes, so a tile read costs a ``stat`` besides the tile itself."""
        try:
            status = (self.root / CHECKPOINT_FILE).stat()
        except FileNotFoundError:
            return 0
        stamp = (status.st_ino, status.st_mtime_ns)
        if self._size_seen is None or self._size_seen[0] != stamp:
            note = self.checkpoint()
            size = _size_of(note) if note else 0
            self._size_seen = (stamp, size)
        return self._size_seen[1]

    def read_tile(self, tile: Tile) -> bytes | None:
        """The tile's bytes, if the published checkpoint covers it and it was written."""
        if not tile.needed_by(self.published_size()):
            return None
        try:
            return (self.root / tile.path).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    # -- publishing ----------------------------------------------------------------------------
    def publish(self, tree: StoredTree, checkpoint: Checkpoint,
                progress: Callable[[int], None] | None = None) -> int:
        """Write the tiles ``checkpoint`` implies that are not there yet, then the checkpoint;
        the number of tiles written. ``progress(tiles)`` is told as it goes. Nothing to do when
        that checkpoint is already the published one; InconsistentCheckpointError for a
        checkpoint smaller than the published one."""
        since = self.published_size()
        if checkpoint.tree_size < since:
            raise InconsistentCheckpointError(
                f"refusing to publish the checkpoint of {checkpoint.tree_size} entries: the"
                f" published log already has {since}")
        if checkpoint.tree_size == since and self.checkpoint() == checkpoint.note.encode():
            return 0
        written = 0
        for tile in tiles_of(checkpoint.tree_size, since):
            hashes = tree.node_hashes(tile.hash_keys())
            self._write(tile.path, b"".join(hashes[key] for key in tile.hash_keys()))
            written += 1
            if progress is not None:
                progress(written)
        self._write(CHECKPOINT_FILE, checkpoint.note.encode())
        return written

    def _write(self, relative: str, data: bytes) -> None:
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise


def publish_latest(tree: StoredTree, checkpoint: Checkpoint | None, directory: TileDirectory,
                   progress: Callable[[int], None] | None = None) -> int:
    """Publish ``checkpoint`` (the ledger's latest) if there is one; tiles written."""
    return 0 if checkpoint is None else directory.publish(tree, checkpoint, progress)


def _size_of(note: bytes) -> int:
    lines = note.split(b"\n", 2)
    return int(lines[1]) if len(lines) > 2 and lines[1].isdigit() else 0
