"""uWSGI, run from our CLI with our app factory (no module-level app object anywhere).

Why uWSGI: ``bench/servers.py`` serves the brand read under uWSGI, gunicorn and granian in the
same run. uWSGI's HTTP router parses requests and keeps browsers' connections alive in C, in a
process of its own, and hands each request to a free worker over a private Unix socket; its
workers answer about 1.4 times as many brand reads a second as gunicorn's sync workers (which
parse in Python and close the connection after every answer), with the same tail. granian
answers about as many but with about twice the p99, and a granian worker with one
Python thread holds on to an idle kept-alive connection, as uWSGI's own ``http11-socket`` does
(seconds for the next browser); behind the router no worker ever waits on a client.

Processes: ``vrmvault serve`` makes the app, then forks the uWSGI master (``pyuwsgi``, uWSGI
built as a Python extension, runs in that fork), which forks the router and the workers; and
forks two children beside it (below). It stays the parent of all three and does nothing but
wait: one SIGINT or SIGTERM to it stops uWSGI (SIGINT to its master, which stops the router
and the workers) and the children. A worker that dies is forked again by the master (after two
seconds if workers keep dying within seconds of their start, uWSGI's own backoff); a master that
dies ends ``serve`` with an error, its children with it.

The head limits: the router passes a request's head to a worker in one packet of at most
:data:`HEAD_BUFFER` bytes, and the workers take that much, above ``web/limits.py``'s limits, so
that the app answers a too-long target with 414 and a too-large head with 431 (problem+json
under ``/api/``); the router drops a head past that without an answer (it has none of its own
for that), and no worker sees it. A body is the app's to refuse (413, 411 for one in chunks);
whatever of it the app did not read is read after the answer (:class:`DrainedBodies`), or the
router would drop the answer.

The access log leaves out the client address (personal data) and the query string: no URL
carries personal data, and the query string is where a mailed sign-up or reset link carries its
single-use token (``web/auth.py``), which must not land in a log. Method and path are shown
percent-encoded where they hold anything but printable ASCII (:func:`logged_request`), so no
request writes a line, a control character or a terminal escape of its own. uWSGI's own error
lines that would name a client (the router's, on a connection a client dropped) are not logged.

While it serves, two child processes run beside it: ``vrmvault webhooks deliver`` (brand
webhooks, GDPR Art. 19), a process of its own so that a slow brand never holds up a page and a
failure there never reaches the server; and ``vrmvault ledger merge --every 0.25``, which appends
the brand reads the workers spooled to the ledger (``consent/spool.py``). Each inherits the
environment (master key included), logs to the same stream, is stopped with the server, stops
by itself if the server dies, and is started again if it ends while the server runs
(:class:`Supervised`): without the merging child, reads would wait in the spools for the next
reader of the ledger.

Memory: the app is made once, in the server's first process, before anything is forked; the
uWSGI master, its workers and the two children are forks of that process (the children run the
command in the fork, :class:`Forked`, rather than a new interpreter importing everything
again), so the pages of the code and the app are held once and shared, and ``gc.freeze()`` keeps
the collector from touching (and so copying) them in every process. What each process holds
alone is what it did since. Nothing that must not be shared is made before a fork: stores,
spools and connections are opened on first use in each process (``web/vaults.py``); uWSGI runs
Python's fork hooks in each worker it forks (``--py-call-osafterfork``), so they can tell.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import setproctitle

from consent.spool import MERGE_EVERY

# uWSGI's request log: time, method and path (never the query), status, body bytes,
# milliseconds. Method and path are the log variable DrainedBodies sets (logged_request): uWSGI's
# own %(method) and %(var.PATH_INFO) are as the client sent them, the path percent-decoded, and a
# "%0a" or an escape sequence in it wrote lines or colours of the client's into the log.
ACCESS_LOG_FORMAT = '%(ltime) "%(request)" %(status) %(size) %(msecs)ms'
_LOG_VARIABLE = "request"
# Bytes uWSGI keeps of a log variable's value (uwsgi.h, struct uwsgi_logvar: val[256] with a
# one-byte length, so a longer value would be cut at its length modulo 256).
LOGGED_REQUEST_LIMIT = 255
# What of printable ASCII a logged request shows as it is: all but the space, which separates
# method and path, the quote around them, and the percent sign, so that what is shown escaped
# reads back as one path.
_LOGGED_AS_IS = "/!#$&'()*+,-.:;<=>?@[\\]^_`{|}~"
# Bytes of a request head a worker takes in one packet from the router (uWSGI's most): above
# web/limits.py's 32 KiB.
HEAD_BUFFER = 65_535
# Request variables a worker takes (CGI's and one a field): as many as a packet of HEAD_BUFFER
# bytes can hold (4 bytes of lengths each at least), so that none is ever left out.
MAX_VARS = HEAD_BUFFER // 4
WEBHOOK_INTERVAL = 10.0                  # seconds between delivery passes while serving
# Bytes of a request body read after the answer if the app left them (DrainedBodies): well
# above the largest body any page or endpoint takes (64 KiB).
DRAIN_LIMIT = 1024 * 1024
_DRAIN_CHUNK = 64 * 1024
REQUEST_TIMEOUT = 60                     # seconds: a worker stuck longer is killed and replaced
PROCESS_TITLE = "vrmvault serve"
_STOP_TIMEOUT = 10.0
# Signals the server's parent handles: a child forked from it gets the default ones back.
_PARENT_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def made_app(home: Path, public_url: str) -> Any:
    from .app import create_app

    return create_app({"VRMVAULT_HOME": home, "VRMVAULT_PUBLIC_URL": public_url})


def run(*, host: str, port: int, workers: int, home: Path, public_url: str,
        webhook_interval: float = WEBHOOK_INTERVAL,
        merge_interval: float = MERGE_EVERY) -> None:
    # Made here, before any fork, with uWSGI's module: every process below shares their pages
    # (see the module docstring).
    app = made_app(home, public_url)
    importlib.import_module("pyuwsgi")
    gc.freeze()
    with webhook_delivery(home, interval=webhook_interval, public_url=public_url), \
            ledger_merging(home, interval=merge_interval, public_url=public_url):
        status = serve_app(app, host=host, port=port, workers=workers)
    if status:
        raise SystemExit(f"vrmvault serve: the server ended by itself (status {status})")


def webhook_delivery(home: Path, *, interval: float, public_url: str | None = None
                     ) -> contextlib.AbstractContextManager[Supervised]:
    """The webhook delivery loop in a child process for as long as the block runs."""
    return _child(home, "webhooks", "deliver", "--interval", str(interval),
                  public_url=public_url)


def ledger_merging(home: Path, *, interval: float, public_url: str | None = None
                   ) -> contextlib.AbstractContextManager[Supervised]:
    """The workers' spooled reads merged into the ledger every ``interval`` seconds (the
    maximum merge delay, consent/spool.py), in a child process while the block runs."""
    return _child(home, "ledger", "merge", "--every", str(interval), public_url=public_url)


@contextlib.contextmanager
def _child(home: Path, *command: str, public_url: str | None) -> Iterator[Supervised]:
    arguments = ["--home", str(home), *command, "--parent-pid", str(os.getpid())]

    def vrmvault() -> None:
        from .cli import main

        # The server's public URL, chosen from its bind when not set, is the children's too:
        # the keeper signs receipts that point members at it.
        if public_url is not None:
            os.environ["VRMVAULT_PUBLIC_URL"] = public_url
        main(args=arguments, prog_name="vrmvault")

    supervised = Supervised(vrmvault, name=" ".join(command[:2]),
                            title=f"vrmvault {' '.join(command)} (serve {os.getpid()})")
    supervised.start()
    try:
        yield supervised
    finally:
        supervised.stop()


class Child(Protocol):
    """What :class:`Supervised` asks of a child process (``subprocess.Popen`` has it)."""

    pid: int

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...


class Forked:
    """A child process forked from this one that runs ``main`` and ends (exit status 0, or
    what a ``SystemExit`` says, or 1 after an uncaught error), in a session of its own unless
    ``own_session`` is false; the part of ``subprocess.Popen`` that :class:`Supervised` uses.

    The child is a copy of this process with one thread, the one that forked: it gets fresh
    standard streams (one another thread was writing at the fork would stay locked forever),
    the default handlers of the signals the server's parent takes, and no wakeup fd of its."""

    def __init__(self, main: Callable[[], None], *, title: str | None = None,
                 own_session: bool = True) -> None:
        self.returncode: int | None = None
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()          # so the child does not write the parent's lines again
        pid = os.fork()
        if pid == 0:                    # pragma: no cover - the child; measured by its effects
            os._exit(_run_child(main, title, own_session))
        self.pid = pid

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                # Reaped elsewhere already: it has ended.
                self.returncode = 0
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if timeout is None and self.returncode is None:
            with contextlib.suppress(ChildProcessError):
                _, status = os.waitpid(self.pid, 0)     # signal handlers run meanwhile
                self.returncode = os.waitstatus_to_exitcode(status)
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"process {self.pid}", timeout or 0)
            time.sleep(0.01)
        return code

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def stop_with(self, number: int) -> None:
        self._signal(number)

    def _signal(self, number: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, number)


def _run_child(main: Callable[[], None], title: str | None, own_session: bool
               ) -> int:  # pragma: no cover - runs in the child
    status = 1
    try:
        if own_session:
            os.setsid()
        if title is not None:
            # What ps shows, else a copy of the server's command line.
            setproctitle.setproctitle(title)
        with contextlib.suppress(ValueError):
            signal.set_wakeup_fd(-1)
        for number in _PARENT_SIGNALS:
            signal.signal(number, signal.SIG_DFL)
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        main()
        status = 0
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
    return status


class Supervised:
    """A child process that is started again whenever it ends before :meth:`stop`, after a
    pause that doubles from ``first_pause`` up to ``longest_pause`` while it keeps ending
    within a minute of its start (so a child that cannot run does not spin).

    The child runs in a session of its own: a Ctrl-C at the terminal reaches the server, which
    then stops it, and not the child directly, so that every end the supervisor sees is one it
    did not ask for: whether ``stop`` was asked is what tells.
    """

    HEALTHY_AFTER = 60.0       # seconds: a child that ran this long starts its pauses afresh
    LOOK_EVERY = 0.5

    def __init__(self, command: list[str] | Callable[[], None], *, name: str,
                 first_pause: float = 1.0, longest_pause: float = 60.0,
                 environment: dict[str, str] | None = None, title: str | None = None) -> None:
        # ``command``: a command line to run, or a function to run in a fork (:class:`Forked`,
        # whose process shows ``title`` in ps and /proc/PID/cmdline).
        self.command = command
        self.title = title
        self.environment = environment
        self.name = name
        self.first_pause = first_pause
        self.longest_pause = longest_pause
        self.restarts = 0
        self.process: Child | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self._started_at = 0.0

    def start(self) -> None:
        self._spawn()
        self._watcher = threading.Thread(target=self._watch, name=f"supervise {self.name}",
                                         daemon=True)
        self._watcher.start()

    def _spawn(self) -> None:
        if callable(self.command):
            self.process = Forked(self.command, title=self.title)
        else:
            self.process = subprocess.Popen(self.command, start_new_session=True,
                                            env=self.environment)
        self._started_at = time.monotonic()

    def _watch(self) -> None:
        pause = self.first_pause
        while not self._stopping.wait(self.LOOK_EVERY):
            assert self.process is not None
            if self.process.poll() is None:
                continue
            if time.monotonic() - self._started_at >= self.HEALTHY_AFTER:
                pause = self.first_pause
            print(f"vrmvault serve: the {self.name} process ended; starting it again in"
                  f" {pause:g} s", file=sys.stderr, flush=True)
            if self._stopping.wait(pause):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self._spawn()
                self.restarts += 1
            pause = min(pause * 2, self.longest_pause)

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
        if self._watcher is not None:
            self._watcher.join()
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def serve_app(app: Any, *, host: str, port: int, workers: int) -> int:
    """Serve ``app`` with uWSGI on ``host:port`` until this process is asked to stop (SIGINT,
    SIGTERM or SIGHUP: 0) or the server ends by itself (its status, never 0)."""
    stopping = False
    with tempfile.TemporaryDirectory(prefix="vrmvault-serve-") as private:
        # The router reaches the workers through a socket in a folder only this user opens:
        # what comes in on it is taken as the router's word (client address included).
        arguments = uwsgi_arguments(host=host, port=port, workers=workers,
                                    socket_path=Path(private) / "workers.sock")
        # In this process's group: a Ctrl-C at the terminal, or a kill of the group (a host
        # going down), reaches uWSGI's processes at once, as it reaches this one.
        parent = os.getpid()
        server = Forked(lambda: _run_uwsgi(app, arguments, parent), own_session=False)

        def stop(number: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True
            server.stop_with(signal.SIGINT)

        previous = {number: signal.signal(number, stop) for number in _PARENT_SIGNALS}
        try:
            _until_ended(server, lambda: stopping)
            status = server.wait()
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            if server.poll() is None:
                server.stop_with(signal.SIGINT)
                server.wait()
    return 0 if stopping else (status or 1)


def _until_ended(server: Forked, stopping: Callable[[], bool]) -> None:
    """Wait until uWSGI's master has ended. Once it was asked to stop, it is sent the same signal
    again every few milliseconds: a no-op for a master already stopping (uWSGI 2.0's handler
    returns at once), but a wake-up, so that it sees its workers gone now rather than at its
    loop's next tick, up to a second later (measured: serve's stop went from 1.35 s to 0.43 s)."""
    ended = os.pidfd_open(server.pid)        # readable once the master has ended
    try:
        while not select.select([ended], [], [], _STOP_LOOK if stopping() else _LOOK)[0]:
            if stopping():
                server.stop_with(signal.SIGINT)
    finally:
        os.close(ended)


def uwsgi_arguments(*, host: str, port: int, workers: int, socket_path: Path) -> list[str]:
    """uWSGI's command line for ``vrmvault serve``."""
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return [
        "--strict", "--master", "--need-app",
        # (The router's read buffer stays a page: it grows as a head needs, and a bigger one
        # would take a body's first bytes with the head, past what one packet holds.)
        "--http", address, "--http-keepalive",
        # "Expect: 100-continue" answered by the router (a client would wait a second for it).
        "--http-manage-expect",
        "--socket", str(socket_path), "--chmod-socket=600",
        "--buffer-size", str(HEAD_BUFFER), "--max-vars", str(MAX_VARS),
        "--processes", str(workers), "--single-interpreter",
        "--module", _SERVED_MODULE,
        # Python's fork hooks run in each worker (web/vaults.py drops what a fork copied).
        "--py-call-osafterfork",
        "--harakiri", str(REQUEST_TIMEOUT),
        "--no-orphans", "--die-on-term",
        "--logformat", ACCESS_LOG_FORMAT,
        # The master writes the log (never a thread of it: at exit uWSGI drains the log pipe
        # from its main thread into a new, unfilled buffer while the thread may still write
        # from it, and a line of stray memory bytes reached the log).
        "--log-master", "--log-drain", _CLIENT_NAMED,
        # A client that goes away mid-answer is not an error of ours worth a line.
        "--ignore-sigpipe", "--ignore-write-errors", "--disable-write-exception",
    ]


_PR_SET_PDEATHSIG = 1               # prctl(2)
_LOOK, _STOP_LOOK = 0.25, 0.02      # seconds between looks at uWSGI's master, then once stopping
# The module uWSGI imports the app from: made in the uWSGI process only, just before it starts.
_SERVED_MODULE = "vrmvault_served"
# Lines uWSGI would log naming a client: the router's ("client_addr: ...") and a worker's
# request errors ("... during GET /path?query (address)").
_CLIENT_NAMED = r"client_addr:| during [A-Z]+ "


def _run_uwsgi(app: Any, arguments: list[str], parent: int
               ) -> None:  # pragma: no cover - in the fork
    import pyuwsgi

    # If the parent dies (kill -9), the kernel sends uWSGI's master what a stop would.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGINT)
    if os.getppid() != parent:
        return                      # it died before the line above

    # What ps shows (uWSGI's own process names do not reach a process it did not start): the
    # master, and the router forked from it, "vrmvault serve: uWSGI"; each worker its number.
    setproctitle.setproctitle(f"{PROCESS_TITLE}: uWSGI")
    os.register_at_fork(after_in_child=_name_uwsgi_child)
    served = types.ModuleType(_SERVED_MODULE)
    served.application = DrainedBodies(app)  # type: ignore[attr-defined]
    sys.modules[_SERVED_MODULE] = served
    pyuwsgi.run(arguments)


class DrainedBodies:
    """WSGI middleware: once the answer is sent, read what the app left unread of the request's
    body (up to :data:`DRAIN_LIMIT` bytes). A worker that ends a request with part of its body
    still unread leaves uWSGI's router writing into a closed socket, and the router then drops
    the answer as well: a 401 to a POST without a token, or the 413 to a body over the limit,
    would never reach the client. (A body past the limit is the client's to lose.)

    Before the app runs, it also gives uWSGI the request's method and path as the access log
    shows them (:func:`logged_request`), through ``set_logvar`` (uWSGI's ``uwsgi.set_logvar``,
    looked up in the worker on its first request: the module exists only there)."""

    def __init__(self, app: Callable[..., Iterable[bytes]],
                 set_logvar: Callable[[str, str], None] | None = None) -> None:
        self.app = app
        self.set_logvar = set_logvar

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        set_logvar = self.set_logvar
        if set_logvar is None:                  # pragma: no cover - in uWSGI's workers
            import uwsgi

            set_logvar = self.set_logvar = uwsgi.set_logvar
        set_logvar(_LOG_VARIABLE, logged_request(environ.get("REQUEST_METHOD", ""),
                                                 environ.get("PATH_INFO", "")))
        answer = self.app(environ, start_response)
        if environ.get("CONTENT_LENGTH") in (None, "", "0"):
            return answer                        # the brand read's path: nothing to drain
        return _ThenDrain(answer, environ["wsgi.input"])


def logged_request(method: str, path: str) -> str:
    """``method path`` as the access log shows it: as it is when it is printable ASCII without
    a space, quote or percent sign of its own (every ordinary request: two string checks), else
    each of its other bytes percent-encoded; at most :data:`LOGGED_REQUEST_LIMIT` characters,
    a longer one cut and ending in "...".

    WSGI gives the path percent-decoded (each byte a character, ISO 8859-1): a request for
    ``/a%0a...`` or ``/a%1b[31m`` would otherwise write a line break or a terminal's escape
    sequence of the client's choosing into the log, a forged line among ours."""
    shown = f"{method} {path}"
    if not (shown.isascii() and shown.isprintable()) or '"' in shown or "%" in shown \
            or shown.count(" ") != 1:
        shown = f"{_percent_encoded(method)} {_percent_encoded(path)}"
    if len(shown) > LOGGED_REQUEST_LIMIT:
        shown = shown[:LOGGED_REQUEST_LIMIT - 3] + "..."
    return shown


def _percent_encoded(text: str) -> str:
    return urllib.parse.quote(text.encode("latin-1", "backslashreplace"), safe=_LOGGED_AS_IS)


class _ThenDrain:
    def __init__(self, answer: Iterable[bytes], body: Any) -> None:
        self.answer = answer
        self.body = body

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.answer)

    def close(self) -> None:            # the server calls it once the answer is sent
        try:
            close = getattr(self.answer, "close", None)
            if close is not None:
                close()
        finally:
            drained = 0
            with contextlib.suppress(OSError, ValueError):
                while drained < DRAIN_LIMIT and (
                        chunk := self.body.read(min(_DRAIN_CHUNK, DRAIN_LIMIT - drained))):
                    drained += len(chunk)


def _name_uwsgi_child() -> None:  # pragma: no cover - in uWSGI's forks
    import uwsgi

    worker = uwsgi.worker_id()
    setproctitle.setproctitle(f"{PROCESS_TITLE}: uWSGI worker {worker}" if worker
                              else f"{PROCESS_TITLE}: uWSGI")
