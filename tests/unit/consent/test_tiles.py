"""consent.tiles: the C2SP tlog-tiles layout (paths, which tiles a tree size implies) and the
published files, checked against the spec's own examples and the recursive RFC 9162 reference."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consent.errors import InconsistentCheckpointError
from consent.ledger import Ledger
from consent.tiles import (
    TILE_WIDTH,
    Tile,
    TileDirectory,
    encode_index,
    parse_tile_path,
    tiles_of,
)

from .conftest import events, new_ledger, reference_leaf, reference_mth, stored_bodies


# -- paths ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("index", "encoded"), [
    (0, "000"), (7, "007"), (999, "999"), (1000, "x001/000"), (1234067, "x001/x234/067"),
])
def test_indexes_are_encoded_as_the_spec_shows(index: int, encoded: str) -> None:
    assert encode_index(index) == encoded


def test_tile_paths_carry_the_width_only_when_partial() -> None:
    assert Tile(0, 1234067).path == "tile/0/x001/x234/067"
    assert Tile(3, 5, 8).path == "tile/3/005.p/8"


@given(level=st.integers(0, 63), index=st.integers(0, 10**15), width=st.integers(1, 256))
def test_a_tile_path_parses_back_to_its_tile(level: int, index: int, width: int) -> None:
    tile = Tile(level, index, width)
    assert parse_tile_path(tile.path.removeprefix("tile/")) == tile


@pytest.mark.parametrize("path", [
    "", "0", "0/", "00/000", "64/000", "01/000", "-1/000", "0/0", "0/0000", "0/x000/001",
    "0/001.p/0", "0/001.p/256", "0/001.p/08", "0/001.p/", "0/x001", "0/x01/000", "0/001/x002",
    "0/../000", "../checkpoint", "entries/000", "entries/000.p/3", "0/000.p/1/2", "0/000.q/1",
    "0/" + "/".join(["x001"] * 7) + "/000", "0/" + "9" * 80, "0/+01", "0/ 01", "0/０００",
])
def test_anything_but_a_canonical_tile_path_is_refused(path: str) -> None:
    assert parse_tile_path(path) is None


# -- which tiles a tree is published as --------------------------------------------------------
def test_a_tree_of_70000_is_the_spec_example() -> None:
    tiles = list(tiles_of(70_000))
    level0 = [t for t in tiles if t.level == 0]
    assert [t for t in level0 if not t.partial] == [Tile(0, i) for i in range(273)]
    assert [t for t in level0 if t.partial] == [Tile(0, 273, 112)]
    assert [t for t in tiles if t.level == 1] == [Tile(1, 0), Tile(1, 1, 17)]
    assert [t for t in tiles if t.level == 2] == [Tile(2, 0, 1)]
    assert len(tiles) == 277


def test_a_tree_of_256_is_one_full_tile_and_a_partial_one_above() -> None:
    assert list(tiles_of(256)) == [Tile(0, 0), Tile(1, 0, 1)]
    assert list(tiles_of(0)) == []


def test_growing_leaves_out_the_full_tiles_already_there() -> None:
    assert list(tiles_of(70_000, since=69_000)) == [
        Tile(0, 269), Tile(0, 270), Tile(0, 271), Tile(0, 272), Tile(0, 273, 112),
        Tile(1, 1, 17), Tile(2, 0, 1)]


def test_a_tile_is_needed_only_within_the_tree() -> None:
    assert Tile(0, 0).needed_by(256) and not Tile(0, 0).needed_by(255)
    assert Tile(0, 1, 3).needed_by(259) and not Tile(0, 1, 4).needed_by(259)
    assert Tile(1, 0, 1).needed_by(256) and not Tile(1, 0, 2).needed_by(511)


# -- the published files ----------------------------------------------------------------------
def test_published_tiles_hold_the_trees_hashes(tmp_path: Path, ledger: Ledger) -> None:
    ledger.record_events(events(600))
    checkpoint = ledger.checkpoint()                     # 600 entries, then its own record
    directory = TileDirectory(tmp_path / "log")
    assert directory.publish(ledger.tree, checkpoint) == 4
    leaves = stored_bodies(ledger.database)[:600]
    for index in range(2):
        tile = directory.read_tile(Tile(0, index))
        assert tile == b"".join(reference_leaf(b) for b in leaves[index * 256:(index + 1) * 256])
    partial = directory.read_tile(Tile(0, 2, 88))
    assert partial == b"".join(reference_leaf(b) for b in leaves[512:600])
    assert directory.read_tile(Tile(1, 0, 2)) == b"".join(
        reference_mth(leaves[i * 256:(i + 1) * 256]) for i in range(2))
    assert directory.checkpoint() == checkpoint.note.encode()
    assert directory.published_size() == 600


def test_nothing_past_the_published_checkpoint_is_served(tmp_path: Path, ledger: Ledger) -> None:
    directory = TileDirectory(tmp_path / "log")
    assert directory.checkpoint() is None and directory.published_size() == 0
    ledger.record_events(events(10))
    directory.publish(ledger.tree, ledger.checkpoint())
    assert directory.read_tile(Tile(0, 0, 10)) is not None
    assert directory.read_tile(Tile(0, 0, 11)) is None          # the ledger holds 11 entries
    assert directory.read_tile(Tile(0, 0)) is None
    # A tile file the published checkpoint does not cover is not served even when present.
    (tmp_path / "log" / "tile" / "0" / "000").write_bytes(b"\0" * 32 * TILE_WIDTH)
    assert directory.read_tile(Tile(0, 0)) is None


def test_publishing_grows_and_keeps_earlier_partial_tiles(tmp_path: Path) -> None:
    ledger, _, _ = new_ledger(tmp_path / "home", entries=300)
    with ledger:
        directory = TileDirectory(tmp_path / "log")
        first = ledger.checkpoint()
        directory.publish(ledger.tree, first)
        ledger.record_events(events(300, start=300))
        second = ledger.checkpoint()
        assert directory.publish(ledger.tree, second) == 3  # 0/001, 0/002.p/89, 1/000.p/2
        assert directory.publish(ledger.tree, second) == 0  # already published
        assert directory.published_size() == 601
        assert directory.read_tile(Tile(0, 1, 44)) is not None  # the first checkpoint's
        with pytest.raises(InconsistentCheckpointError):
            directory.publish(ledger.tree, first)
