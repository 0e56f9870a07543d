"""Settings: defaults, then ``VRMVAULT_*`` environment variables, each parsed here with its type.

Every setting is documented in the README ("Settings"); a test keeps the two in step.
``create_app(test_config)`` applies ``test_config`` after these.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from brand_gateway.rate_limits import DEFAULT_LIMIT as DEFAULT_API_RATE_LIMIT
from consent.ledger import DEFAULT_CHECKPOINT_INTERVAL
from vault.home import SESSION_ABSOLUTE, SESSION_IDLE
from vault.mail import DEFAULT_SENDER, SmtpEndpoint
from vault.passwords import HashingCost


@dataclass(frozen=True)
class Setting:
    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a yes/no value: {text!r}")


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("must be a positive whole number")
    return value


# Without VRMVAULT_PUBLIC_URL: what ``vrmvault serve`` derives from --host/--port, else this.
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})


def public_url(text: str) -> str:
    """``http(s)://host[:port]``, nothing else (no path, query, fragment or user), as the
    issuer identifier: lower-case, no trailing slash (RFC 8414 sec. 2)."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be http:// or https:// and name a host")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError("must be scheme://host[:port] only, with no path, query or user")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def public_url_for_bind(host: str, port: int) -> str:
    """The public URL ``vrmvault serve --host H --port P`` implies: a wildcard bind is reached
    as 127.0.0.1 unless VRMVAULT_PUBLIC_URL says otherwise."""
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"
    return public_url(f"http://{host}:{port}" if ":" not in host.strip("[]")
                      else f"http://[{host.strip('[]')}]:{port}")


@lru_cache(maxsize=8)
def trusted_hosts(url: str) -> frozenset[str]:
    """The Host header values (port aside) a request may name: the public URL's host, and every
    loopback name when that host is a loopback one (``make run``, tests on a random port)."""
    host = (urlsplit(url).hostname or "").lower()
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    # A Host header names an IPv6 address in brackets: "[::1]" in "[::1]:8000".
    name = f"[{host}]" if ":" in host else host
    return frozenset({name} | (LOOPBACK_NAMES if loopback else set()))
def _smtp_url(text: str) -> SmtpEndpoint:
    """``smtp://host[:port]`` (no TLS), ``smtp+starttls://…`` (STARTTLS, required),
    ``smtps://…`` (TLS from the start); ``user:password@`` before the host, percent-encoded."""
    return SmtpEndpoint.parse(text)


def _sender(text: str) -> str:
    """A From address such as ``vrmvault <no-reply@example.org>``: one address, one line."""
    text = text.strip()
    _, address = parseaddr(text)
    if "\r" in text or "\n" in text or "@" not in address or " " in address:
        raise ValueError("not an address like 'vrmvault <no-reply@example.org>'")
    return text


SETTINGS: tuple[Setting, ...] = (
    Setting("VRMVAULT_HOME", Path, Path("var"),
            "Folder of the data store, the key store and (by default) the master key file."),
    Setting("VRMVAULT_MASTER_KEY", str, None,
            "The master key as 64 hex digits; when set, no master.key file is read or made."),
    Setting("VRMVAULT_TRUST_PROXY", int, 0,
            "Number of reverse proxies in front whose X-Forwarded-* headers are trusted."),
    Setting("VRMVAULT_PUBLIC_URL", public_url, None,
            "The vault's public base URL (scheme://host[:port]): the OAuth issuer and every"
            " absolute URL it hands out. Requests naming another host are refused with 400"
            " (loopback names are all accepted when the host is a loopback one). Unset:"
            " http://HOST:PORT of 'vrmvault serve' (127.0.0.1 for a wildcard bind)."),
    Setting("VRMVAULT_SESSION_IDLE", _positive, SESSION_IDLE,
            "Seconds of inactivity after which a member's session ends."),
    Setting("VRMVAULT_SESSION_ABSOLUTE", _positive, SESSION_ABSOLUTE,
            "Seconds after sign-in after which a session ends regardless of activity."),
    Setting("VRMVAULT_ARGON2_TIME_COST", _positive, HashingCost().time_cost,
            "argon2id iterations for password hashes (never below 2)."),
    Setting("VRMVAULT_ARGON2_MEMORY_KIB", _positive, HashingCost().memory_kib,
            "argon2id memory in KiB for password hashes (never below 19456)."),
    Setting("VRMVAULT_ARGON2_PARALLELISM", _positive, HashingCost().parallelism,
            "argon2id lanes for password hashes."),
    Setting("VRMVAULT_CACHE_KIB", _positive, 64 * 1024,
            "SQLCipher page cache per connection, in KiB."),
    Setting("VRMVAULT_API_RATE_LIMIT", _positive, DEFAULT_API_RATE_LIMIT,
            "Brand API requests per minute per OAuth client, counted across all workers; past"
            " it, 429 with Retry-After until the minute ends."),
    Setting("VRMVAULT_CHECKPOINT_INTERVAL", _positive, DEFAULT_CHECKPOINT_INTERVAL,
            "Seconds: once the last ledger checkpoint is this old and entries were added"
            " since, the keeper of 'vrmvault serve' signs a new one."),
    Setting("VRMVAULT_SMTP_URL", _smtp_url, None,
            "Where mail goes out: smtp://host:25 (no TLS), smtp+starttls://host:587 (STARTTLS"
            " required), smtps://host:465 (TLS); user:password@ before the host. Unset: each"
            " message is written to the maildir HOME/mail (read it with 'vrmvault mail')."),
    Setting("VRMVAULT_MAIL_FROM", _sender, DEFAULT_SENDER,
            "The From address of the mail the vault sends."),
    Setting("VRMVAULT_WEBHOOK_ALLOW_LOOPBACK", _bool, False,
            "Let brands register loopback webhook URLs through the API (local testing only;"
            " the operator's 'vrmvault webhooks add' always may)."),
)


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings as Flask config keys; raises ``ValueError`` naming a malformed variable."""
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.name)
        if raw is None or raw == "":
            config[setting.name] = setting.default
            continue
        try:
            config[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise ValueError(f"{setting.name}: {exc}") from None
    return config
