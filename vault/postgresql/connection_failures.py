"""Why a connection to PostgreSQL failed, told in our own words: which setting names the
database, and what is wrong; never the setting's value, nor libpq's message.

Neither may be shown because either can hold the password. libpq's client-side messages quote
the values they could not use, and a password holding an unencoded ``/`` or ``@`` is read
into exactly those: ``postgresql://role:pa/ss@db.internal/vrmvault`` reads as host ``role``,
port ``pa`` and database ``ss@db.internal/vrmvault``. So the database is named by its setting
(``VRMVAULT_DATABASE_URL``), never by its name, and the reason is one of these sentences:

- The server answered and refused: chosen by the SQLSTATE of its answer (28P01, 28000, 3D000,
  42501, 53300, 57P03 each have their own; any other is named by its code and the class
  psycopg has for it).
- No server answered: libpq's message is classified, never quoted (nothing listens, timed
  out, a host name that does not resolve, TLS, an invalid value, no password), and what fits
  none of these gets a sentence of its own.
- A URL that looks mis-encoded (its database name or host holds an ``@``, its port is not a
  number) gets a hint to percent-encode the password.

Where the SQLSTATE comes from: psycopg gives none for a failed connection (the error's
``sqlstate`` is None, psycopg/psycopg#1188): libpq keeps the server's answer to itself and
gives only its text, in the server's language. libpq's protocol trace shows the answer's
fields, its code among them (libpq 18, which psycopg's binary package bundles, traces the
startup exchange). So a failure is followed by one more attempt, traced into an anonymous file
in memory (``memfd``, never on disk) that is read for the code alone and closed: the trace
holds the whole startup exchange (a password in clear under ``password`` authentication). One
more attempt costs little on a path that has failed already, and a pool's timeout, which
carries no cause at all, needs one anyway. Where nothing can be traced (an older libpq, or not
Linux) the reason is classified from libpq's message alone.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import time
from collections.abc import Mapping
from dataclasses import dataclass

import psycopg
from psycopg import errors as pg_errors
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq.abc import PGconn

# How long the attempt made to learn the reason may take at most (seconds); less when the URL
# sets connect_timeout.
ATTEMPT_TIMEOUT = 10.0

_BY_SQLSTATE = {
    "28P01": "password authentication failed for the URL's role: check its user name and"
             " password (SQLSTATE 28P01)",
    "28000": "the server's access rules (pg_hba.conf) refused the URL's role, database or"
             " address, or the role does not exist (SQLSTATE 28000)",
    "3D000": "the database the URL names does not exist (SQLSTATE 3D000)",
    "42501": "the URL's role may not connect to that database: it lacks the CONNECT privilege"
             " (SQLSTATE 42501)",
    "53300": "the server has too many connections, in all or for the URL's role or database"
             " (SQLSTATE 53300)",
    "57P03": "the server is starting up or shutting down: try again once it is up"
             " (SQLSTATE 57P03)",
}
_INVALID = "INVALID"
_NO_PASSWORD = "the server asks for a password and the URL gives none"
_TLS = ("TLS could not be set up as the URL's sslmode asks: check sslmode, sslrootcert and"
        " sslcert (and that the server has TLS on)")
_TIMED_OUT = "nothing answered at the URL's host and port in time (the connection timed out)"
_UNRESOLVED = "the URL's host name does not resolve"
_NOTHING_LISTENS = "nothing listens at the URL's host and port (connection refused)"
_UNKNOWN = ("the connection failed for a reason libpq states in words that may quote the URL,"
            " so not shown: check the URL's host, port and parameters")
_PASSED = ("a first attempt failed and the next succeeded: the cause has passed (a server"
           " restarting, or at its connection limit); try again")
_UNREADABLE = "the URL cannot be read as a PostgreSQL connection URL"
_PERCENT_ENCODE = " (a password holding / : @ # ? must be percent-encoded)"
_MISENCODED = ("; the URL looks mis-encoded (its database name or host holds an @, or its port"
               " is not a number): percent-encode its password (/ as %2F, : as %3A, @ as %40,"
               " # as %23, ? as %3F)")

# libpq's messages when no server answered, by what they mean; the first that matches wins.
_CAUSES = (
    (re.compile(r"invalid .*value|invalid port number|invalid connection option|invalid uri"
                r"|invalid percent-encoded|missing \"=\"|unterminated quoted|unexpected spaces",
                re.IGNORECASE), _INVALID),
    (re.compile(r"no password supplied", re.IGNORECASE), _NO_PASSWORD),
    (re.compile(r"\bssl\b|certificate|private key|sslmode|sslrootcert", re.IGNORECASE), _TLS),
    (re.compile(r"timeout expired|timed out", re.IGNORECASE), _TIMED_OUT),
    (re.compile(r"could not translate host name|failed to resolve host|name or service not"
                r" known|temporary failure in name resolution|nodename nor servname",
                re.IGNORECASE), _UNRESOLVED),
    (re.compile(r"connection refused|no such file or directory", re.IGNORECASE),
     _NOTHING_LISTENS),
)
# Where libpq names the option whose value it refuses; the name is shown only if it is one of
# libpq's own keywords (never a value).
_OPTION_NAMED = (re.compile(r'connection option "(\w+)"'), re.compile(r"invalid (\w+) value"),
                 re.compile(r"invalid (port) number"))
_SECRET_OPTIONS = frozenset({"password", "sslpassword", "oauth_client_secret",
                             "scram_client_key", "scram_server_key"})
# The code field of an ErrorResponse in libpq's trace: it follows the severity fields.
_TRACED_CODE = re.compile(rb'\tErrorResponse\t(?: [SV] "[^"\n]*")* C "([0-9A-Z]{5})"')


@dataclass(frozen=True)
class _Attempt:
    """What the attempt made to learn the reason found."""

    connected: bool
    timed_out: bool
    sqlstate: str | None     # the server's answer, when it answered and the trace shows it
    message: str             # libpq's, only ever classified


def connection_failure_reason(dsn: str, error: BaseException | None = None) -> str:
    """Why a connection to ``dsn`` failed, in one of this module's sentences; ``error`` is
    the failure psycopg raised, if there was one (a pool's timeout has none). Makes one more
    attempt unless ``error`` says the first timed out (a second would wait as long)."""
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return _UNREADABLE + _PERCENT_ENCODE
    hint = _MISENCODED if _looks_misencoded(parts) else ""
    if isinstance(error, pg_errors.ConnectionTimeout):
        return _TIMED_OUT + hint
    attempt = _attempt(dsn, _timeout(parts))
    if attempt.sqlstate:
        return _server_refused(attempt.sqlstate) + hint
    if attempt.timed_out:
        return _TIMED_OUT + hint
    if attempt.connected:
        first = _classify(str(error)) if isinstance(error, psycopg.Error) else None
        return _sentence(first, str(error), hint) if first else _PASSED
    return _sentence(_classify(attempt.message), attempt.message, hint)


def _server_refused(sqlstate: str) -> str:
    if sqlstate in _BY_SQLSTATE:
        return _BY_SQLSTATE[sqlstate]
    try:
        kind = pg_errors.lookup(sqlstate).__name__
    except KeyError:
        kind = "a class psycopg does not know"
    return f"the server refused the connection (SQLSTATE {sqlstate}, {kind})"


def _classify(message: str) -> str | None:
    return next((cause for pattern, cause in _CAUSES if pattern.search(message)), None)


def _sentence(cause: str | None, message: str, hint: str) -> str:
    """``cause`` as said to the operator, with ``hint``; an invalid value names its option
    when libpq's ``message`` does (a keyword of libpq's, never a value)."""
    if cause is None:
        return _UNKNOWN + hint
    if cause != _INVALID:
        return cause + hint
    keywords = {option.keyword.decode() for option in pq.Conninfo.get_defaults()}
    named = next((found.group(1) for pattern in _OPTION_NAMED
                  for found in pattern.finditer(message)
                  if found.group(1) in keywords - _SECRET_OPTIONS), None)
    what = f"an invalid {named}" if named else "an invalid value for a connection option"
    # Where a password's unencoded / : @ # ? can land; not, say, in sslmode.
    landing = named is None or named in ("host", "hostaddr", "port", "dbname", "user")
    return f"the URL has {what}" + (hint or (_PERCENT_ENCODE if landing else ""))


def _looks_misencoded(parts: Mapping[str, object]) -> bool:
    """What a password's unencoded ``/`` or ``@`` leaves in a URL libpq could read: an ``@``
    in the database name or host, a port that is not a number (or a list of them)."""
    port = str(parts.get("port") or "")
    return ("@" in str(parts.get("dbname") or "") or "@" in str(parts.get("host") or "")
            or bool(port) and re.fullmatch(r"[0-9]+(,[0-9]*)*", port) is None)


def _timeout(parts: Mapping[str, object]) -> float:
    """The URL's connect_timeout (libpq takes under 2 as 2), at most :data:`ATTEMPT_TIMEOUT`."""
    try:
        wanted = int(str(parts.get("connect_timeout") or 0))
    except ValueError:
        wanted = 0
    return min(ATTEMPT_TIMEOUT, max(wanted, 2)) if wanted > 0 else ATTEMPT_TIMEOUT


def _attempt(dsn: str, timeout: float) -> _Attempt:
    """One more attempt at ``dsn`` through libpq, traced, driven to its end or ``timeout``."""
    pgconn = pq.PGconn.connect_start(dsn.encode())
    trace = _start_trace(pgconn)
    try:
        connected, timed_out = _poll(pgconn, timeout)
        message = pgconn.get_error_message()
    finally:
        traced = _end_trace(pgconn, trace)
        pgconn.finish()
    codes = _TRACED_CODE.findall(traced)
    return _Attempt(connected, timed_out, codes[-1].decode() if codes else None, message)


def _poll(pgconn: PGconn, timeout: float) -> tuple[bool, bool]:
    """Drive a started connection as libpq asks: whether it connected, and whether it ran
    out of time (libpq leaves connect_timeout to whoever polls)."""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        while pgconn.status != pq.ConnStatus.BAD:
            status = pgconn.connect_poll()
            if status == pq.PollingStatus.OK:
                return True, False
            if status == pq.PollingStatus.FAILED:
                break
            socket = pgconn.socket      # it changes as libpq tries one address after another
            selector.register(socket, selectors.EVENT_READ
                              if status == pq.PollingStatus.READING else selectors.EVENT_WRITE)
            ready = selector.select(max(0.0, deadline - time.monotonic()))
            selector.unregister(socket)
            if not ready:
                return False, True
    return False, False


def _start_trace(pgconn: PGconn) -> tuple[int, int] | None:
    """Trace ``pgconn`` into a new file in memory: its descriptor and the copy libpq writes
    through; None where libpq cannot trace (not Linux)."""
    try:
        memory = os.memfd_create("vrmvault-connection-trace")
    except (AttributeError, OSError):
        return None
    copy = os.dup(memory)
    try:
        pgconn.trace(copy)
    except (psycopg.Error, OSError):
        os.close(copy)
        os.close(memory)
        return None
    return memory, copy


def _end_trace(pgconn: PGconn, trace: tuple[int, int] | None) -> bytes:
    """What was traced. libpq flushes its trace when told to stop; the C stream psycopg
    opened on the copy is never used again, and its descriptor is closed here (the stream
    itself cannot be from Python: a few KiB each time a connection fails)."""
    if trace is None:
        return b""
    memory, copy = trace
    try:
        pgconn.untrace()
        return os.pread(memory, os.fstat(memory).st_size, 0)
    finally:
        with contextlib.suppress(OSError):
            os.close(copy)
        os.close(memory)
