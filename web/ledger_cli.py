"""``vrmvault ledger``: verify the tamper-evident ledger, sign a checkpoint, prove an entry,
export a filtered set of entries with their proofs.

Registered in ``web/cli.py`` with ``main.add_command(ledger)``; like every command there it takes
the vault home from ``ctx.obj["home"]``. Failures are one line on stderr and exit status 1 (the
group catches domain errors itself, so it behaves the same under any parent group). Nothing
printed is secret: entries hold pseudonyms and digests, and the verifier key is public.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import click

from consent.context import open_ledger
from consent.ledger import Ledger
from consent.ledger_export import FORMATS, open_export
from consent.ledger_search import DAY, day_start, query_of
from consent.spool import SpoolDirectory
from consent.tiles import TileDirectory
from vault.errors import StoreRestoredError
from vault.home import VaultHome

from .cli_errors import ReportingGroup
from .config import controller, from_environment
from .dsr_reminders import DeadlineReminders
from .keeper import Keeper
from .loops import Seconds, run_every


@contextmanager
def _open(ctx: click.Context) -> Iterator[Ledger]:
    home: VaultHome = ctx.obj["home"]
    home.require()
    master = home.master_key()
    ledger = open_ledger(home, master)
    try:
        # The reads the brand API's workers have spooled, so that the ledger is whole.
        SpoolDirectory(home, master).merge_all(ledger)
        yield ledger
    finally:
        ledger.close()


@click.group(cls=ReportingGroup)
def ledger() -> None:
    """The tamper-evident ledger of consent, brand reads, exports and erasures."""


@ledger.command()
@click.pass_context
def verify(ctx: click.Context) -> None:
    """Check every entry, tree node, checkpoint root and signature, end to end."""
    with _open(ctx) as opened:
        with click.progressbar(length=opened.size, label="Verifying the ledger", show_pos=True,
                               file=sys.stderr) as bar:
            done = 0

            def progress(count: int) -> None:
                nonlocal done
                bar.update(count - done)
                done = count

            # The store's own checkpoints go with its entries; the one published is out of
            # the store's reach.
            report = opened.verify(progress=progress, published=TileDirectory.of_home(
                ctx.obj["home"].root).checkpoint())
    if not report.ok:
        click.secho(f"error: {report.summary()}", fg="red", err=True)
        sys.exit(1)
    click.echo(report.summary())


@ledger.command()
@click.pass_context
def checkpoint(ctx: click.Context) -> None:
    """Sign a checkpoint of the ledger now, publish it under /log, and print it (a C2SP
    signed note)."""
    with _open(ctx) as opened:
        signed = opened.checkpoint()
        _publish(ctx, opened)
    click.echo(signed.note, nl=False)


@ledger.command()
@click.pass_context
def publish(ctx: click.Context) -> None:
    """Publish the latest signed checkpoint and its Merkle tiles (C2SP tlog-tiles) under /log."""
    with _open(ctx) as opened:
        written = _publish(ctx, opened)
        latest = opened.latest_checkpoint()
    size = latest.tree_size if latest else 0
    click.echo(f"Published the checkpoint of {size} entries ({written} new tiles)")


def _publish(ctx: click.Context, opened: Ledger) -> int:
    home: VaultHome = ctx.obj["home"]
    checkpoint = opened.latest_checkpoint()
    if checkpoint is None:
        return 0
    directory = TileDirectory.of_home(home.root)
    # Full tiles: one per 256 entries, plus the partial ones (a few per level).
    expected = max(1, (checkpoint.tree_size - directory.published_size()) // 255)
    with click.progressbar(length=expected, label="Publishing the log's tiles",
                           file=sys.stderr) as bar:
        done = 0

        def progress(count: int) -> None:
            nonlocal done
            step = min(count, expected) - done
            bar.update(step)
            done += step

        return directory.publish(opened.tree, checkpoint, progress)


@ledger.command()
@click.argument("seq", type=click.IntRange(min=0))
@click.pass_context
def proof(ctx: click.Context, seq: int) -> None:
    """Print entry SEQ with its inclusion proof against the latest checkpoint, as JSON."""
    with _open(ctx) as opened:
        bundle = opened.prove_entry(seq)
    click.echo(json.dumps(bundle.as_json(), indent=2))


@ledger.command()
@click.option("--every", type=Seconds(min=0.1), default=None,
              help="Keep merging, every this many seconds, until stopped; also finish"
                   " interrupted erasures, sign a checkpoint when one is due and record"
                   " expired intents and offers.")
@click.option("--parent-pid", type=int, hidden=True,
              help="Exit once this process (vrmvault serve) is no longer the parent.")
@click.pass_context
def merge(ctx: click.Context, every: float | None, parent_pid: int | None) -> None:
    """Append the brand reads the API's workers spooled (vrmvault serve keeps doing it)."""
    with _open(ctx) as opened:
        if every is None:
            click.echo(f"Ledger: {opened.size} entries, every spooled read merged")
            return
        home: VaultHome = ctx.obj["home"]
        settings = ctx.find_root().obj.get("settings") or from_environment()
        keeper = Keeper(home, home.master_key(), opened,
                        checkpoint_interval=settings["VRMVAULT_CHECKPOINT_INTERVAL"],
                        reminders=DeadlineReminders(settings, home.root),
                        controller=controller(settings))
        def one_pass() -> bool:
            try:
                return keeper.one_pass()
            except StoreRestoredError as exc:
                # The server this runs beside stops (serve stops on SIGTERM, its workers and
                # this loop with it): another read would answer from the restored store.
                click.echo(f"error: {exc.message}: stopping this host; with every host"
                           " stopped, run 'vrmvault reapply-erasures', then serve again",
                           err=True)
                if parent_pid is not None and os.getppid() == parent_pid:
                    os.kill(parent_pid, signal.SIGTERM)
                return False

        try:
            # The last pass after the stop: the server stops its workers first, and what they
            # spooled since the pass before goes in now, not at the next reader.
            run_every(every, one_pass, name="ledger merge", parent=parent_pid,
                      final_pass=True,
                      announce=f"Merging spooled reads into the ledger every {every:g} s")
        finally:
            keeper.close()
    click.echo("Ledger merging stopped", err=True)


@ledger.command()
@click.pass_context
def key(ctx: click.Context) -> None:
    """Print the checkpoint verifier key (public: give it to whoever checks checkpoints)."""
    with _open(ctx) as opened:
        click.echo(opened.verifier_key)


_MOMENT = click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])


def _seconds(moment: dt.datetime | None, *, end: bool) -> int | None:
    """Unix seconds of a UTC date or time; a date alone as an end means up to its last second."""
    if moment is None:
        return None
    if end and moment.time() == dt.time() and moment.second == 0:
        return day_start(moment.date()) + DAY
    return int(moment.replace(tzinfo=dt.UTC).timestamp())


@ledger.command()
@click.option("--brand", help="Only entries about this brand id.")
@click.option("--purpose", help="Only entries naming this purpose (e.g. dpv:Marketing).")
@click.option("--tag", help="Only this event tag, or every tag starting with a prefix that ends"
                            " in a colon (e.g. consent:).")
@click.option("--principal", help="Only entries about this member pseudonym (member:...).")
@click.option("--since", type=_MOMENT, help="From this UTC date or time on (inclusive).")
@click.option("--until", type=_MOMENT,
              help="Up to this UTC time (exclusive), or to the end of this UTC date.")
@click.option("--format", "form", type=click.Choice(FORMATS), default=None,
              help="csv or json; default: csv for an --output file ending in .csv, else json.")
@click.option("--output", type=click.File("w", encoding="utf-8", lazy=True), default="-",
              help="Write here instead of standard output.")
@click.pass_context
def export(ctx: click.Context, brand: str | None, purpose: str | None, tag: str | None,
           principal: str | None, since: dt.datetime | None, until: dt.datetime | None,
           form: str | None, output: IO[str]) -> None:
    """Export the entries matching the filters, newest first, each with its RFC 9162
    inclusion proof against the latest signed checkpoint (signed first if the ledger grew)."""
    if form is None:
        form = "csv" if str(getattr(output, "name", "")).lower().endswith(".csv") else "json"
    query = query_of(brand=brand, purpose=purpose, tag=tag, principal=principal,
                     since=_seconds(since, end=False), until=_seconds(until, end=True))
    with _open(ctx) as opened:
        exporting = open_export(opened, query)
        assert opened.search_index is not None
        total = opened.search_index.count(query)
        with click.progressbar(length=total, label="Exporting ledger entries", show_pos=True,
                               file=sys.stderr) as bar:
            done = 0

            def progress(count: int) -> None:
                nonlocal done
                bar.update(count - done)
                done = count

            for chunk in exporting.chunks(form, progress):
                output.write(chunk)
        output.flush()
    checkpoint = exporting.checkpoint
    click.echo(f"Exported {done - exporting.left_out} entries against the checkpoint of"
               f" {checkpoint.tree_size} entries signed at {checkpoint.signed_at}"
               + (f"; {exporting.left_out_note()}" if exporting.left_out else ""), err=True)
