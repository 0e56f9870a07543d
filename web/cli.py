"""The ``vrmvault`` command line: init, serve, demo, backup, restore.

Every command says what it did and exits non-zero with a one-line reason on failure (no stack
traces: domain errors are caught here, at the outermost boundary): status 1 when a command
fails, 2 for a wrong command line (click's usage errors), 78 when a ``VRMVAULT_*`` setting
cannot be used (checked before any command runs), and 3 when ``reapply-erasures`` did its work
but found members whose data key was lost (:data:`KEYS_LOST_EXIT`). Secrets are never printed:
the master key stays in its file or the environment.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from brand_gateway.clients import ClientSecretHasher
from brand_gateway.dsr import calendar_of, dsr_forwarder
from brand_gateway.observers import erasure_hook
from brand_gateway.storage import client_registry
from community.storage import community_restorer
from compliance.storage import request_restorer
from consent.context import member_principal, open_consent
from consent.receipts import Controller
from consent.tiles import TileDirectory
from intents.storage import intent_restorer
from vault.home import (
    DATABASE_URL_SETTING,
    KEYS_DATABASE_URL_SETTING,
    InitReport,
    VaultHome,
)
from vault.mail import MaildirMailer

from .brand_cli import brand
from .cli_errors import ReportingGroup
from .config import (
    CONFIGURATION_ERROR_EXIT,
    DEFAULT_PUBLIC_URL,
    SettingError,
    controller,
    from_environment,
    public_url_for_bind,
)
from .dsr_cli import dsr
from .endings import record_endings, settle_duplicates
from .erasures import finish_pending_erasures
from .ledger_cli import ledger
from .mail_cli import mail
from .mailing import maildir_path, mailer_for
from .officer_cli import officer
from .report_cli import report
from .webhook_cli import webhooks

if TYPE_CHECKING:       # the demo is imported only when it is asked for
    from demo.officers import DemoOfficer

DEFAULT_DEMO_MEMBERS = 200
# reapply-erasures did all it does, and members have data but no key: a script that restores
# must stop and have someone decide (restore a newer key backup), so not 0; and not 1, since
# nothing failed and running it again changes nothing.
KEYS_LOST_EXIT = 3


def _home(ctx: click.Context) -> VaultHome:
    return ctx.obj["home"]


@click.group(cls=ReportingGroup)
@click.option("--home", type=click.Path(path_type=Path), default=None,
              help="The vault home (default: $VRMVAULT_HOME or ./var).")
@click.pass_context
def main(ctx: click.Context, home: Path | None) -> None:
    """vrmvault: a privacy-first personal data vault."""
    try:
        settings = from_environment()
    except SettingError as exc:
        # A setting, not the command line, is wrong: one line, no usage banner, and an exit
        # status of its own so a service manager can tell it from a failed command.
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(CONFIGURATION_ERROR_EXIT)
    ctx.obj = {"settings": settings, "controller": controller(settings),
               "home": VaultHome.configured((home or settings["VRMVAULT_HOME"]).absolute(),
                                            settings)}


@main.command()
@click.option("--demo", "demo_members", type=click.IntRange(min=0), default=None,
              help="On a new store, also load this many demo members.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Where 'vrmvault serve' will answer: the demo's receipts name that address"
                   " (VRMVAULT_PUBLIC_URL, when set, instead).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True,
              help="The port 'vrmvault serve' will answer on, as --host.")
@click.option("--new-ledger", is_flag=True,
              help="Only when the ledger (ledger.db) beside a data store is lost for good and"
                   " no copy is left: begin a new, empty one. The consent history, what a"
                   " restore re-applies and the auditors' proofs begin again with it.")
@click.pass_context
def init(ctx: click.Context, demo_members: int | None, host: str, port: int,
         new_ledger: bool) -> None:
    """Create the stores (data, keys, ledger, rates; a 0600 master key) or bring them up to
    date, saying which migrations were applied to which."""
    _served_at(ctx, host, port)
    home = _home(ctx)
    report = _initialise(home, ctx.obj["controller"], new_ledger=new_ledger)
    if new_ledger:
        click.echo(f"Began a new, empty ledger: {home.ledger_path} (the one before it is lost;"
                   " auditors will find the public log begun again)")
        published = TileDirectory.of_home(home.root).root
        if published.exists():
            # The lost ledger's checkpoints and tiles: the new one can extend none of them.
            kept = published.with_name(f"{published.name}.before-new-ledger-{int(time.time())}")
            published.rename(kept)
            click.echo(f"  its published log moved aside to {kept}")
    if report.created_store and home.database_url:
        click.echo(f"Created the stores in {home.where} (ledger and rates in schemas of their"
                   f" own) and in the key database of {KEYS_DATABASE_URL_SETTING}")
    elif report.created_store:
        click.echo(f"Created an encrypted store in {home.root}")
        click.echo(f"  data store: {home.data_path}")
        click.echo(f"  key store:  {home.keys_path}")
    else:
        click.echo(f"Store in {home.where} is ready")
    if report.tightened:
        click.echo(f"  made {home.root} private (mode 0700): others could list it")
    if report.erasures_finished:
        click.echo(f"  finished {_counted(report.erasures_finished, 'erasure')} a stop had "
                   "interrupted")
    if report.created_key:
        click.echo(f"  master key: {home.key_file} (mode 0600; keep a copy apart from backups)")
    elif os.environ.get("VRMVAULT_MASTER_KEY"):
        click.echo("  master key: from VRMVAULT_MASTER_KEY")
    for step in report.migrations_applied:
        click.echo(f"  {step}")
    click.echo(f"  mail: {_mail_destination(ctx)}")
    _warn(report)
    if report.created_store:
        if demo_members:
            ctx.invoke(demo, members=demo_members)
        return
    from demo.members import DEMO_PASSWORD, SHOWCASE_EMAIL
    from demo.officers import OFFICER_EMAIL

    with home.open() as vault:
        demo_loaded = vault.members.find(SHOWCASE_EMAIL) is not None
    if demo_members:
        # `make run` passes --demo every time: say why a second run adds nobody. On
        # PostgreSQL every home uses the databases the URLs name: another home is no new store.
        fresh = (f"point {DATABASE_URL_SETTING} and {KEYS_DATABASE_URL_SETTING} at new"
                 " databases for a fresh store" if home.database_url else
                 "use another --home for a fresh store")
        instead = (fresh if demo_loaded else
                   f"'vrmvault demo --members {demo_members}' adds them to this one")
        click.echo(f"  kept the existing store as it is: --demo {demo_members} loads demo "
                   f"members into a new store only ({instead})")
    if demo_loaded:
        click.echo(f"Sign in as {SHOWCASE_EMAIL} with the password: {DEMO_PASSWORD} "
                   "(unless it was changed since)")
        click.echo(f"The compliance officer {OFFICER_EMAIL} signs in with the password and"
                   " authenticator printed when the store was made.")


def _warn(report: InitReport) -> None:
    for warning in report.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)


def _counted(count: int, singular: str, plural: str | None = None) -> str:
    """``1 member``, ``2 members``: a count with its noun in the right number."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def _mail_destination(ctx: click.Context) -> str:
    """Where the vault's mail goes, for init and serve to say (never credentials)."""
    home = _home(ctx)
    mailer = mailer_for(ctx.obj["settings"], home.root)
    if not isinstance(mailer, MaildirMailer):
        return f"sent by {mailer.describe()}"
    where = f"written to the maildir {mailer.path} (read it with 'vrmvault mail list')"
    if home.engine == "postgresql":
        # The maildir is a folder of this host's: an erasure run on another host of the same
        # database cannot reach it, and would leave mail to the member here.
        where += ("; this host's own: with several hosts set VRMVAULT_SMTP_URL on each, since"
                  " an erasure deletes the member's mail only from the maildir of the host"
                  " that runs it")
    return where


def _initialise(home: VaultHome, receipts_by: Controller, *,
                new_ledger: bool = False) -> InitReport:
    """Every store made or brought up to date (before any worker is forked: workers must not
    race to create one), then any erasure a crash cut short finished before anything is
    served."""
    report = home.initialise(new_ledger=new_ledger)
    with home.open() as vault:
        consent = open_consent(vault, home, controller=receipts_by)
        try:
            report.erasures_finished = finish_pending_erasures(
                vault, consent, maildir=maildir_path(home.root))
        finally:
            consent.close()
    return report


@main.command()
@click.option("--members", type=click.IntRange(min=1, max=1_000_000),
              default=DEFAULT_DEMO_MEMBERS, show_default=True,
              help="How many demo members to load.")
@click.option("--seed", type=int, default=2026, show_default=True,
              help="Seeds the random choices: the same seed makes the same demo data.")
@click.pass_context
def demo(ctx: click.Context, members: int, seed: int) -> None:
    """Load realistic demo members, profiles and feedback about demo brands."""
    from demo.brand_clients import register_demo_clients
    from demo.communities import load_community_demo
    from demo.consents import load_consent_demo
    from demo.dsr import load_dsr_demo
    from demo.intents import load_intent_demo
    from demo.loop import load_loop_demo
    from demo.members import DEMO_PASSWORD, SHOWCASE_EMAIL, load_demo
    from demo.officers import load_demo_officer
    from demo.surveys import load_survey_demo

    home = _home(ctx)
    with _cut_short_told(home):
        with home.open() as vault, click.progressbar(
            length=members, label="Loading demo members", show_pos=True, show_eta=True,
            file=sys.stderr,
        ) as bar:
            done = 0

            def progress(count: int) -> None:
                nonlocal done
                bar.update(count - done)
                done = count

            report = load_demo(vault, members=members, seed=seed, progress=progress)
        with home.open() as vault:
            consent = open_consent(vault, home, controller=ctx.obj["controller"])
            try:
                shared = load_consent_demo(consent, seed=seed)
                communities = load_community_demo(consent, seed=seed)
                surveyed = load_survey_demo(consent, seed=seed)
                looped = load_loop_demo(consent, seed=seed)
                intended = load_intent_demo(consent, seed=seed)
                officer = load_demo_officer(consent)
                requested = load_dsr_demo(consent, ctx.obj["settings"], seed=seed,
                                          callback_base=ctx.obj["settings"]
                                          ["VRMVAULT_PUBLIC_URL"] or DEFAULT_PUBLIC_URL)
            finally:
                consent.close()
    click.echo(
        f"Loaded {_counted(report.members, 'member')} with "
        f"{_counted(report.profile_values, 'profile value')} and "
        f"{_counted(report.feedback_entries, 'feedback entry', 'feedback entries')} about "
        f"{_counted(report.brands, 'brand')} in {report.seconds:.1f} s"
    )
    click.echo(f"{_counted(shared.grants, 'demo grant')} (with signed receipts) from "
               f"{_counted(shared.members, 'member')} to the demo brands")
    click.echo(f"{_counted(communities.communities, 'insight community', 'insight communities')}"
               f" with {_counted(communities.memberships, 'membership')},"
               f" {_counted(communities.ideas, 'idea')} and {_counted(communities.votes, 'vote')}")
    click.echo(f"{_counted(surveyed.surveys, 'survey or request', 'surveys and requests')} to"
               f" a community of {_counted(surveyed.members, 'member')}, with"
               f" {_counted(surveyed.answers, 'answer')}")
    posts = _counted(looped.posts, '"we did" post')
    click.echo(f"{posts} over a panel of "
               f"{_counted(looped.panel, 'member')}, {_counted(looped.cases, 'care case')}")
    click.echo(f"{_counted(intended.intents, 'open intent')} in"
               f" {_counted(intended.categories, 'category', 'categories')} with"
               f" {_counted(intended.offers, 'offer')} from"
               f" {_counted(intended.brands, 'demo brand')}; the showcase member cast"
               f" {intended.showcase_intents} of them and has {intended.showcase_offers} offers")
    click.echo(f"{_counted(requested.requests, 'data subject request')} sent to"
               f" {_counted(requested.forwarded, 'brand')} (the queue: /console/requests)")
    with home.open() as vault:
        credentials = register_demo_clients(vault, home.root)
    click.echo(f"Demo brands' OAuth client credentials (mode 0600): {credentials}")
    click.echo(f"Sign in as {SHOWCASE_EMAIL} with the password: {DEMO_PASSWORD}")
    _echo_officer(officer)


@contextlib.contextmanager
def _cut_short_told(home: VaultHome) -> Iterator[None]:
    """A demo load stopped by Ctrl-C: what it leaves, and what to do (the load commits in
    batches, and a second one refuses a store holding the showcase member)."""
    from demo.members import SHOWCASE_EMAIL

    try:
        yield
    except KeyboardInterrupt:
        with home.open() as vault:
            loaded = vault.members.find(SHOWCASE_EMAIL) is not None
        if not loaded:
            raise click.ClickException("interrupted before any demo member was loaded: the"
                                       " store is as it was") from None
        raise click.ClickException(
            f"interrupted: the store in {home.where} holds part of the demo now (members"
            " without the rest: grants, brands' clients, the officer), and 'vrmvault demo'"
            " will not load it again; load the demo into a new home instead") from None


def _echo_officer(officer: DemoOfficer | None) -> None:
    """How the demo officer signs in: printed once, when the account is made."""
    from demo.officers import OFFICER_EMAIL

    if officer is None:
        click.echo(f"The compliance officer {OFFICER_EMAIL} exists already: it signs in with"
                   " the password and authenticator printed when it was made.")
        return
    click.echo(f"Compliance officer (console at /console/): sign in as {officer.email} with"
               f" the password: {officer.password}")
    click.echo(f"  then the 6-digit code of an authenticator app set up with the secret"
               f" {officer.totp_secret} (or this QR code); shown this once only:")
    click.echo(officer.qr_code(), nl=False)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on (0.0.0.0 or :: for every interface); also the"
                   " public URL's host (127.0.0.1 for those two) unless VRMVAULT_PUBLIC_URL"
                   " is set.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True,
              help="The port to listen on.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="uWSGI worker processes (default: one per core).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int | None) -> None:
    """Serve the member pages, the OAuth gateway and the brand API with uWSGI."""
    from .server import run

    public = _served_at(ctx, host, port)
    home = _home(ctx)
    _require_free(host, port)
    home.require()         # a missing store, or one of the two alone, told as such
    _refuse_unfinished_restore(home)
    report = _initialise(home, ctx.obj["controller"])
    if report.tightened:
        click.echo(f"made {home.root} private (mode 0700): others could list it")
    if report.erasures_finished:
        click.echo(f"finished {_counted(report.erasures_finished, 'erasure')} a stop had "
                   "interrupted")
    for step in report.migrations_applied:
        click.echo(step)
    _warn(report)
    count = workers or os.cpu_count() or 2
    click.echo(f"Serving {home.where} on http://{host}:{port} with {count} workers "
               "(Ctrl-C stops); brand webhooks are delivered in the background")
    click.echo(f"Public URL (the OAuth issuer; requests for other hosts are refused): {public}")
    click.echo(f"Mail (sign-up and reset links) is {_mail_destination(ctx)}")
    if home.database_url:
        # Every connection of the workers and children is tagged: 'reapply-erasures', run on
        # another host, sees this one serving (vault/postgresql/stores.py).
        from vault.postgresql.stores import SERVING_APPLICATION
        os.environ["PGAPPNAME"] = SERVING_APPLICATION
    with home.serving():
        run(host=host, port=port, workers=count, home=home.root, public_url=public)


def _refuse_unfinished_restore(home: VaultHome) -> None:
    """Refuse to serve a store restored from a backup until what the ledger recorded since
    (withdrawals and the like) holds again: served before, a grant withdrawn since would be in
    force again."""
    if home.database_url:
        restored = home.restored_databases()
        if restored:
            which = " and the ".join(f"{name} database" for name in restored)
            raise click.ClickException(
                f"the {which} of this vault {'were' if len(restored) > 1 else 'was'} put back"
                " from a dump since the ledger last recorded it, and what the ledger recorded"
                " since (withdrawals and the like) does not hold yet: with every host stopped,"
                " run 'vrmvault reapply-erasures', then serve again")
    elif home.restore_unfinished():
        raise click.ClickException(
            f"a restore into {home.root} stopped before what the ledger recorded since"
            " (withdrawals and the like) held again: run 'vrmvault reapply-erasures' first")


def _served_at(ctx: click.Context, host: str, port: int) -> str:
    """The vault's public URL when served on ``host`` and ``port``: VRMVAULT_PUBLIC_URL if
    set, else the address itself. What the command writes (receipts, the demo's requests)
    names it from now on, as the served vault will: not the default's port 8000."""
    settings = ctx.obj["settings"]
    if not settings["VRMVAULT_PUBLIC_URL"]:
        try:
            settings["VRMVAULT_PUBLIC_URL"] = public_url_for_bind(host, port)
        except ValueError as exc:
            # --host 'a/b': a wrong command line, told as click tells one (status 2).
            raise click.BadParameter(f"the public URL it makes, http://{host}:{port}, {exc};"
                                     " give a host name or an IP address, or set"
                                     " VRMVAULT_PUBLIC_URL", param_hint="'--host'") from None
        ctx.obj["controller"] = controller(settings)
    return str(settings["VRMVAULT_PUBLIC_URL"])


def _require_free(host: str, port: int) -> None:
    """Refuse, in one line and before anything starts, an address another server listens on
    (uWSGI would otherwise end with a log of its own, long after the banner)."""
    try:
        families = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise click.ClickException(f"cannot serve on {host}: {exc.strerror}") from None
    family, kind, _, _, address = families[0]
    with socket.socket(family, kind) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            why = ("something else is listening there" if exc.errno == errno.EADDRINUSE
                   else exc.strerror)
            raise click.ClickException(
                f"cannot serve on {host}:{port}: {why}; choose another port with --port"
                " (make run PORT=...)") from None


@main.command()
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.pass_context
def backup(ctx: click.Context, path: Path) -> None:
    """Write an encrypted copy of the data store to PATH (the key store is never included)."""
    from vault.backup import backup as take_backup

    if not path.name:                  # "" (taken as ".") or "/": a folder, not a new file
        raise click.BadParameter("name the new file to write the backup to",
                                 param_hint="'PATH'")
    _files_only(_home(ctx), "backup")
    started = time.perf_counter()
    with _home(ctx).open() as vault:
        report = take_backup(vault, path)
    click.echo(f"Backup written to {report.path} ({report.bytes:,} bytes, encrypted) in "
               f"{time.perf_counter() - started:.2f} s")


@main.command()
@click.argument("path", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def restore(ctx: click.Context, path: Path, yes: bool) -> None:
    """Replace the data store with the backup at PATH, then re-apply every erasure since and
    what the ledger recorded since (as reapply-erasures does).

    What was taken away since holds again: grants, staff roles, exceptions and offers of
    terms, communities left or closed, intents ended or paused, brands blocked, offers closed.
    What was given since is lost, and is asked for or made again."""
    from vault.backup import restore as restore_backup

    home = _home(ctx)
    _files_only(home, "restore")
    if not yes:
        click.confirm(f"Replace the data store in {home.root} with {path}? Stop the server "
                      "first.", abort=True)
    master = home.master_key()
    with home.offline("restore"):
        # Marked before the swap, cleared once the ledger's changes since hold again: a stop
        # in between (Ctrl-C, a failure) leaves a store where what was taken away since is
        # given back, which serve then refuses to serve until reapply-erasures has run.
        if home.root.is_dir():                 # else restore_backup says what is missing
            home.restore_mark.touch(mode=0o600)
        try:
            # The backup lacks the member.erased webhooks an erasure since queued (pending
            # ones too): queued again for the brands that knew each member (GDPR Art. 19).
            report = restore_backup(home, path, master,
                                    erasure_hooks=lambda data: [erasure_hook(data, master)])
        except BaseException:
            home.restore_mark.unlink(missing_ok=True)      # nothing was swapped in
            raise
        try:
            changes = _recorded_changes(ctx, home)
        except BaseException:
            click.secho("error: the backup was restored, but what the ledger recorded since"
                        " (withdrawals and the like) was not made to hold again: run"
                        " 'vrmvault reapply-erasures' before serving", fg="red", err=True)
            raise
        home.restore_mark.unlink()
    told = " (each brand that knew the member told again)" if report.erasures_reapplied else ""
    click.echo(f"Restored {path} into {home.data_path}; re-applied "
               f"{_counted(report.erasures_reapplied, 'erasure')}{told}; {changes}")


@main.command("reapply-erasures")
@click.pass_context
def reapply_erasures(ctx: click.Context) -> None:
    """After a store was restored from a backup: make every erasure since hold again, and what
    the ledger recorded since; end every session. Run it with the server stopped.

    Members with an account but no data key and no erasure listed (a key store restored from a
    backup older than their key: their data cannot be opened) are counted on stderr, by ledger
    pseudonym, and the command exits with status 3: restore a newer backup of the key store
    and run it again, or leave them to delete their accounts.

    What the ledger recorded: grants withdrawn, narrowed or ended, staff roles taken away,
    members' standing terms, exceptions for one brand narrowed or taken back, offers of terms
    withdrawn or rejected, agreements that narrowed the one in force, data subject requests
    received or advanced and the restrictions they made or lifted, communities left or
    closed, intents withdrawn, paused, expired or fulfilled, brands blocked from intents,
    offers closed, spam reports decided, brand clients disabled and secrets rotated. Nothing
    taken away since is given back, nor is anything given since (a grant, a join, an intent,
    an unblock: asked or made again)."""
    home = _home(ctx).require()
    with home.offline("reapply-erasures"):
        with home.open() as vault:
            # A restored data store lacks the member.erased webhooks its erasures queued.
            vault.erasure.before_delete.append(erasure_hook(vault.data, vault.master))
            report = vault.erasure.reapply()
            ended = vault.sessions.end_all()
            lost = [member_principal(vault, member_id) for member_id in report.keys_lost_for]
        changes = _recorded_changes(ctx, home)
        home.restore_finished()         # a restore cut short, or a dump put back, is finished
    click.echo(f"Deleted again the rows of {_counted(report.rows_deleted_for, 'erased member')}"
               f" and destroyed again the keys of {report.keys_destroyed_for} (each brand that"
               f" knew a member whose rows came back is told of the erasure again); {changes};"
               f" ended {_counted(ended, 'session')}")
    if lost:
        click.secho(
            f"warning: {_counted(len(lost), 'member has', 'members have')} an account but no"
            " data key, and no erasure listed: the key store was restored from a backup older"
            " than their key, so their data cannot be opened (their pages say so; brands'"
            " reads of it are answered 503). Restore a newer backup of the key store and run"
            " 'vrmvault reapply-erasures' again; else each can still delete their account,"
            " which erases what is left. By ledger pseudonym:", fg="yellow", err=True)
        for principal in lost:
            click.echo(f"  {principal}", err=True)
        ctx.exit(KEYS_LOST_EXIT)


def _recorded_changes(ctx: click.Context, home: VaultHome) -> str:
    """What the ledger recorded since a restored store's backup made to hold again
    (consent/, compliance/, community/ and intents/after_restore.py), told."""
    with home.open() as vault:
        consent = open_consent(vault, home, controller=ctx.obj["controller"])
        try:
            changes = consent.reapply_recorded_changes()
            settings = ctx.obj["settings"]
            requests = request_restorer(
                consent, calendar=calendar_of(settings),
                zone=settings["VRMVAULT_DEADLINE_TIMEZONE"],
                forward=dsr_forwarder(consent, callback_base=settings["VRMVAULT_PUBLIC_URL"]
                                      or DEFAULT_PUBLIC_URL)).reapply()
            communities = community_restorer(consent).reapply()
            intents = intent_restorer(consent).reapply()
            assert consent.ledger.search_index is not None
            clients = client_registry(
                database=vault.data, clock=vault.clock,
                hasher=ClientSecretHasher.from_master(vault.master),
            ).reapply_recorded(consent.ledger.search_index)
        finally:
            consent.close()
    told = (f"brought {_counted(changes.grants, 'grant')} to what the ledger recorded since,"
            f" took back {_counted(changes.roles, 'staff role')} revoked since, saved again"
            f" the standing terms of {_counted(changes.terms, 'member')} changed since,"
            f" narrowed or took back again {_counted(changes.exceptions, 'exception')} to a"
            f" member's terms for one brand and withdrew or rejected again"
            f" {_counted(changes.agreements, 'offer')} of terms ended since and made again"
            f" {_counted(changes.narrower_agreements, 'agreement')} made since that narrowed"
            f" the one in force (each record rebuilt to the ledger's digest),"
            f" brought back {_counted(requests.received, 'data subject request')} received"
            f" since and brought {_counted(requests.advanced, 'older one', 'older ones')} to"
            f" what the ledger recorded since (each one's history names what the ledger does"
            f" not hold; {_counted(requests.forwarded, 'task')} made again and never answered"
            f" sent to {'its brand' if requests.forwarded == 1 else 'their brands'} again),"
            f" made again {_counted(requests.restrictions, 'processing restriction')}"
            f" they made and lifted again {requests.lifted} lifted since, took"
            f" {_counted(communities.left, 'member')} out again of a community left since and"
            f" closed again {_counted(communities.closed, 'community', 'communities')} closed"
            f" since, ended or paused again {_counted(intents.intents, 'intent')} and paused"
            f" {_counted(intents.edited, 'intent')} whose edit since is lost (its member"
            f" checks it and resumes it), blocked"
            f" again {_counted(intents.blocks, 'brand')} from a member's intents, closed again"
            f" {_counted(intents.offers, 'offer')} on intents and decided again"
            f" {_counted(intents.reports, 'spam report')} since, disabled again"
            f" {_counted(len(clients.disabled), 'brand client')} disabled since")
    if clients.secrets_voided:
        told += ("; the secrets these clients came back with were rotated since and no longer"
                 " work: rotate each again ('vrmvault brand rotate-secret CLIENT_ID') and hand"
                 " the brand the new one: " + ", ".join(clients.secrets_voided))
    return told


def _files_only(home: VaultHome, command: str) -> None:
    """Refuse a command that copies SQLCipher files when the stores are on PostgreSQL."""
    if home.database_url:
        raise click.ClickException(
            f"'vrmvault {command}' copies the SQLCipher store; the stores are in"
            f" {home.where}: back it up with pg_dump and restore it as the README's"
            " 'Running on PostgreSQL' says")


@main.group()
def consent() -> None:
    """Consent housekeeping."""


@consent.command("expire")
@click.pass_context
def consent_expire(ctx: click.Context) -> None:
    """Record grants that reached their end and authorizations past their absolute end: their
    receipts, ledger entries and webhooks (run it daily; vrmvault serve does it all along).

    Decisions deny an ended grant or authorization from its end on, whether or not this has run.
    """
    home = _home(ctx.find_root())
    with home.open() as vault:
        # Each ending also queues the brand's webhook (GDPR Art. 19).
        receipts_by = ctx.find_root().obj["controller"]
        endings = record_endings(vault, home, receipts_by)
        duplicates = settle_duplicates(vault, home, receipts_by)
    click.echo(f"Recorded the expiry of {endings.grants_expired} grants and the end of "
               f"{endings.authorizations_expired} authorizations")
    if duplicates:
        click.echo(f"Replaced {duplicates} grants that a newer grant for the same brand and "
                   "purpose duplicated")


main.add_command(ledger)
main.add_command(brand)
main.add_command(webhooks)
main.add_command(officer)
main.add_command(mail)
main.add_command(report)
main.add_command(dsr)
