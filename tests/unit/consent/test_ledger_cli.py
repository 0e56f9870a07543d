"""``vrmvault ledger``: the click group, run through click's runner under the real
``vrmvault`` command."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from consent.checkpoints import Ed25519NoteVerifier
from consent.context import open_ledger
from consent.events import Event, EventTag
from consent.ledger_search import DAY
from consent.merkle import leaf_hash, node_count, verify_inclusion
from consent.spool import SpoolDirectory, SpoolWriter
from tests.processes import stopped_output
from vault.clock import FrozenClock
from vault.home import VaultHome
from web.cli import main
from web.ledger_cli import ledger

from .conftest import events, raw_store


def run(home: VaultHome, *args: str):
    return CliRunner().invoke(main, ["--home", str(home.root), "ledger", *args],
                              env={"VRMVAULT_MASTER_KEY": ""}, catch_exceptions=False)


@pytest.fixture
def filled(vault_home: VaultHome) -> VaultHome:
    with open_ledger(vault_home, vault_home.master_key({}), checkpoint_every=0) as opened:
        opened.record_events(events(30))
    return vault_home


def test_the_group_has_its_commands() -> None:
    assert ledger.name == "ledger"
    assert set(ledger.commands) == {"verify", "checkpoint", "proof", "key", "merge", "export",
                                     "publish"}


def test_verify_passes_on_a_sound_ledger(filled: VaultHome) -> None:
    result = run(filled, "verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: 30 entries, 0 checkpoints, root ")
    assert "Verifying the ledger" in result.stderr


def test_verify_names_the_first_bad_entry(filled: VaultHome) -> None:
    with raw_store(filled, filled.master_key({})) as database:
        body = database.one("SELECT body FROM entries WHERE seq = 7")[0]
        database.execute("UPDATE entries SET body = ? WHERE seq = 7",
                         (bytes(body).replace(b'"n":7', b'"n":8'),))
        database.execute("DELETE FROM entries WHERE seq = 20")
    result = run(filled, "verify")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "error: ledger damaged at seq 7: its body does not match its stored leaf hash" in (
        result.stderr)
    assert "Traceback" not in result.output


def test_verify_holds_the_ledger_to_the_checkpoint_this_home_published(
        filled: VaultHome) -> None:
    """Whoever may write the store may remove its last entries with the checkpoints that
    signed them, and what is left verifies; the checkpoint the home published does not go
    with them, and the removal is named."""
    assert run(filled, "checkpoint").exit_code == 0            # signed at 30 and published
    assert run(filled, "verify").exit_code == 0
    with raw_store(filled, filled.master_key({})) as database:
        database.execute("DELETE FROM entries WHERE seq >= 20")
        database.execute("DELETE FROM tree_nodes WHERE position >= ?", (node_count(20),))
        database.execute("DELETE FROM checkpoints")
        for table in ("search_index", "search_purposes", "search_recent"):
            database.execute(f"DELETE FROM {table} WHERE seq >= 20")
    result = run(filled, "verify")
    assert result.exit_code == 1, result.output
    assert ("error: ledger damaged: the ledger holds 20 entries, fewer than the 30 of the"
            " checkpoint this home published: entries were removed") in result.stderr
    assert result.stdout == ""


def test_checkpoint_prints_a_note_the_verifier_key_opens(filled: VaultHome) -> None:
    result = run(filled, "checkpoint")
    assert result.exit_code == 0, result.output
    note = result.stdout
    key = run(filled, "key").stdout.strip()
    body = Ed25519NoteVerifier.from_verifier_key(key).open_checkpoint(note)
    assert body.tree_size == 30
    assert run(filled, "verify").stdout.startswith("OK: 31 entries, 1 checkpoints")
    assert (filled.root / "log" / "checkpoint").read_text() == note     # published as well


def test_publish_writes_the_latest_checkpoint_and_its_tiles(filled: VaultHome) -> None:
    assert run(filled, "publish").stdout == "Published the checkpoint of 0 entries (0 new tiles)\n"
    run(filled, "checkpoint")
    with open_ledger(filled, filled.master_key({}), checkpoint_every=0) as opened:
        opened.record_events(events(300, start=30))
        opened.checkpoint()
    result = run(filled, "publish")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Published the checkpoint of 331 entries (3 new tiles)\n"
    assert "Publishing the log's tiles" in result.stderr
    assert (filled.root / "log" / "tile" / "0" / "001.p" / "75").stat().st_size == 75 * 32


def test_proof_prints_json_a_third_party_can_check(filled: VaultHome) -> None:
    run(filled, "checkpoint")
    result = run(filled, "proof", "12")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    verifier = Ed25519NoteVerifier.from_verifier_key(document["verifier_key"])
    signed = verifier.open_checkpoint(document["checkpoint"])
    proof = [base64.b64decode(h) for h in document["inclusion_proof"]]
    assert json.loads(document["entry"])["seq"] == document["seq"] == 12
    assert verify_inclusion(leaf_hash(document["entry"].encode()), 12, signed.tree_size, proof,
                            signed.root_hash)


@pytest.mark.parametrize(("args", "message"), [
    (["proof", "3"], "no checkpoint has been signed yet; sign one first"
                     " ('vrmvault ledger checkpoint')"),
    (["proof", "99"], "there is no entry 99: the ledger holds entries 0 to 29"),
])
def test_proof_without_a_checkpoint_fails_clearly(filled: VaultHome, args, message) -> None:
    result = run(filled, *args)
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.output


def test_proof_of_an_entry_after_the_checkpoint_fails_clearly(filled: VaultHome) -> None:
    run(filled, "checkpoint")
    with open_ledger(filled, filled.master_key({}), checkpoint_every=0) as opened:
        opened.record_events(events(1))
    result = run(filled, "proof", "30")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: entry 30 was added after the latest checkpoint, which covers entries 0 to 29;"
        " sign a new checkpoint first ('vrmvault ledger checkpoint')\n")


@pytest.mark.parametrize("seq", ["31", "999999"])
def test_proof_of_an_entry_that_does_not_exist_says_so(filled: VaultHome, seq: str) -> None:
    run(filled, "checkpoint")                # its own entry is the 31st: seq 30
    result = run(filled, "proof", seq)
    assert result.exit_code == 1
    assert result.stderr == f"error: there is no entry {seq}: the ledger holds entries 0 to 30\n"
    assert "checkpoint" not in result.stderr


def test_proof_on_an_empty_ledger_says_it_is_empty(vault_home: VaultHome) -> None:
    open_ledger(vault_home, vault_home.master_key({}), checkpoint_every=0).close()  # made, empty
    result = run(vault_home, "proof", "0")
    assert result.stderr == "error: there is no entry 0: the ledger holds no entries yet\n"


def test_a_negative_seq_is_a_usage_error(filled: VaultHome) -> None:
    assert run(filled, "proof", "-1").exit_code == 2


def test_a_missing_store_fails_clearly(tmp_path: Path) -> None:
    result = run(VaultHome(tmp_path / "nothing"), "verify")
    assert result.exit_code == 1
    assert "vrmvault init" in result.stderr
    assert not (tmp_path / "nothing" / "ledger.db").exists()


def test_a_wrong_master_key_fails_clearly(filled: VaultHome) -> None:
    result = CliRunner().invoke(main, ["--home", str(filled.root), "ledger", "verify"],
                                env={"VRMVAULT_MASTER_KEY": "ab" * 32})
    assert result.exit_code == 1
    assert "does not open the store" in result.stderr


# -- merging the brand API's spooled reads ----------------------------------------------------
def _spool_reads(home: VaultHome, count: int) -> SpoolWriter:
    writer = SpoolDirectory(home, home.master_key({})).writer()
    for number in range(count):
        writer.append(Event(EventTag.ACCESS_PROFILE_READ, "brand:brand_1",
                            {"member": "member:" + "b" * 32, "number": number}),
                      at=1_800_000_000 + number)
    return writer


def test_every_command_sees_the_spooled_reads(filled: VaultHome) -> None:
    writer = _spool_reads(filled, 3)
    result = run(filled, "verify")
    assert result.exit_code == 0 and "OK: 33 entries" in result.output
    result = run(filled, "merge")
    assert result.exit_code == 0 and "33 entries" in result.output
    writer.close()


def _merge_loop(home: VaultHome, every: str) -> subprocess.Popen[bytes]:
    """``vrmvault ledger merge --every EVERY`` in a process of its own, once it has begun."""
    loop = subprocess.Popen(
        [sys.executable, "-c", "from web.cli import main; main()", "--home", str(home.root),
         "ledger", "merge", "--every", every], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "VRMVAULT_MASTER_KEY": ""})
    assert loop.stderr is not None
    assert loop.stderr.readline().startswith(b"Merging spooled reads into the ledger")
    return loop


def _stop(loop: subprocess.Popen[bytes]) -> None:
    _, errors = stopped_output(loop)
    assert loop.returncode == 0
    assert b"Ledger merging stopped" in errors and b"Traceback" not in errors


@pytest.mark.parametrize("every", ["nan", "inf", "NAN"])
def test_the_merge_loop_refuses_an_interval_that_is_no_finite_number(vault_home: VaultHome,
                                                                     every: str) -> None:
    """``--every nan`` passed click's range (no comparison with nan is true) and merged with
    no pause at all, a core kept busy; ``inf`` never passed again."""
    # A parent that is not ours: a loop that began would end at once, not hang the test.
    result = run(vault_home, "merge", "--every", every, "--parent-pid", "99999999")
    assert result.exit_code == 2
    assert "is not a finite number of seconds" in result.output


def test_the_merge_loop_keeps_merging_and_stops_on_sigterm(filled: VaultHome) -> None:
    loop = _merge_loop(filled, "0.1")
    try:
        writer = _spool_reads(filled, 5)
        deadline = time.monotonic() + 60
        with open_ledger(filled, filled.master_key({})) as opened:
            # The 5 reads, and the checkpoint the keeper's first pass signs (there was none).
            while opened.size < 36 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert opened.size == 36
            tags = [opened.entry(seq).tag for seq in range(30, 36)]
            assert sorted(tags).count("ledger:checkpoint:signed") == 1
            numbers = [opened.entry(seq).details.get("number") for seq in range(30, 36)]
            assert [n for n in numbers if n is not None] == [0, 1, 2, 3, 4]
        writer.close()
    finally:
        _stop(loop)


def test_the_merge_loop_merges_once_more_when_stopped(filled: VaultHome) -> None:
    loop = _merge_loop(filled, "600")
    # Its first pass is done once it signed its checkpoint (the ledger had none): waited for,
    # not slept on, so a loaded machine cannot let the reads below into that pass.
    with open_ledger(filled, filled.master_key({})) as opened:
        deadline = time.monotonic() + 60
        while opened.latest_checkpoint() is None:
            assert time.monotonic() < deadline, "the first pass never came"
            time.sleep(0.05)
    writer = _spool_reads(filled, 2)          # the next pass is 10 minutes away
    writer.close()                            # as the server's workers, stopped first
    _stop(loop)
    with open_ledger(filled, filled.master_key({})) as opened:
        assert opened.size == 33                      # the first pass's checkpoint, 2 reads
        assert opened.latest_checkpoint().tree_size == 30
    assert SpoolDirectory(filled, filled.master_key({})).spool_ids() == []


def test_export_writes_every_match_with_a_proof_the_checkpoint_checks(
        filled: VaultHome, tmp_path: Path) -> None:
    target = tmp_path / "export.json"
    result = run(filled, "export", "--tag", "access:", "--purpose", "dpv:Marketing",
                 "--output", str(target))
    assert result.exit_code == 0, result.output
    assert "Exporting ledger entries" in result.stderr
    assert "Exported 30 entries against the checkpoint of 30 entries" in result.stderr
    document = json.loads(target.read_text(encoding="utf-8"))
    assert [e["seq"] for e in document["entries"]] == list(range(29, -1, -1))
    key = run(filled, "key").stdout.strip()
    checkpoint = Ed25519NoteVerifier.from_verifier_key(key).open_checkpoint(
        document["checkpoint"]["note"])
    for entry in document["entries"]:
        proof = [base64.b64decode(h) for h in entry["inclusion_proof"]]
        assert verify_inclusion(leaf_hash(entry["entry"].encode()), entry["seq"],
                                checkpoint.tree_size, proof, checkpoint.root_hash)
    # The checkpoint signed for it is not signed again for the next export.
    again = run(filled, "export", "--format", "csv", "--since", "2000-01-01",
                "--until", "2100-01-01")
    assert again.exit_code == 0, again.output
    lines = again.stdout.splitlines()
    assert lines[0].startswith("record,seq,time,tag,brand,principal,purposes,entry,")
    assert lines[1].startswith("checkpoint,,") and ",30," in lines[1]
    assert "1 matching entry appended after the checkpoint of 30 entries is not in" in (
        again.stderr)


def test_an_export_to_a_csv_file_is_csv_unless_asked_otherwise(filled: VaultHome,
                                                                tmp_path: Path) -> None:
    """A trial wrote JSON into ``x.csv``: the file's suffix now chooses, --format still rules."""
    assert run(filled, "export", "--output", str(tmp_path / "x.CSV")).exit_code == 0
    assert (tmp_path / "x.CSV").read_text(encoding="utf-8").startswith("record,seq,time,")
    assert run(filled, "export", "--format", "json", "--output",
               str(tmp_path / "y.csv")).exit_code == 0
    assert json.loads((tmp_path / "y.csv").read_text(encoding="utf-8"))["entries"]
    assert json.loads(run(filled, "export").stdout)["entries"]      # standard output: json


@pytest.mark.parametrize("args, message", [
    (["--tag", "consent"], "no ledger tag is 'consent' or starts with it"),
    (["--since", "2027-02-01", "--until", "2027-01-01"], "not after its start"),
])
def test_export_refuses_filters_it_cannot_apply(filled: VaultHome, args, message) -> None:
    result = run(filled, "export", *args)
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.output


def test_export_of_a_date_range_is_inclusive_of_the_last_day(vault_home: VaultHome) -> None:
    clock = FrozenClock(1_800_000_000.0 - 30)          # 2027-01-15T07:59:30Z
    with open_ledger(vault_home, vault_home.master_key({}), clock=clock,
                     checkpoint_every=0) as opened:
        for event in events(4):
            opened.record_events([event])
            clock.now += DAY / 2

    def seqs(*args: str) -> list[int]:
        result = run(vault_home, "export", *args)
        assert result.exit_code == 0, result.output
        return [e["seq"] for e in json.loads(result.stdout)["entries"]]

    assert seqs("--since", "2027-01-15", "--until", "2027-01-15") == [1, 0]
    assert seqs("--since", "2027-01-16") == [3, 2]
    assert seqs("--until", "2027-01-15T08:00") == [0]
    assert seqs("--since", "2027-01-15T07:59:31", "--until", "2027-01-16T08:00") == [2, 1]
