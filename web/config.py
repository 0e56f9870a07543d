"""Settings: defaults, then ``VRMVAULT_*`` environment variables, each parsed here with its type.

Every setting is checked here, in full, when the configuration is read: before a command writes
anything or a server answers, a value that could not be used later (not a number, below the
argon2id minimum of vault/passwords.py, a master key that is not 64 hex digits) is refused with a
:class:`SettingError` naming the variable, what is wrong and what is expected. The value itself is
quoted only for settings that hold no secret. The command line turns that error into one line on
stderr and exit status :data:`CONFIGURATION_ERROR_EXIT`.

Every setting is documented in the README ("Settings"); a test keeps the two in step.
``create_app(test_config)`` applies ``test_config`` after these.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from brand_gateway.rate_limits import DEFAULT_LIMIT as DEFAULT_API_RATE_LIMIT
from compliance.deadlines import (
    DEFAULT_HOLIDAYS,
    DEFAULT_TIMEZONE,
    parse_extra_holidays,
    parse_holiday_code,
    parse_timezone,
)
from consent.ledger import DEFAULT_CHECKPOINT_INTERVAL
from consent.receipts import DEFAULT_CONTROLLER, Controller, PostalAddress
from consent.tiles import DEFAULT_LOG_RATE_LIMIT
from vault.catalog import DIRECTION_CONTROLS, is_country_code
from vault.home import (
    DATABASE_URL_SETTING,
    KEYS_DATABASE_URL_SETTING,
    SESSION_ABSOLUTE,
    SESSION_IDLE,
)
from vault.mail import DEFAULT_SENDER, SmtpEndpoint
from vault.passwords import ASVS_MIN_MEMORY_KIB, ASVS_MIN_TIME_COST, HashingCost

from .errors import SettingError

# The exit status of every command refused for a malformed setting (EX_CONFIG of sysexits.h).
CONFIGURATION_ERROR_EXIT = 78




@dataclass(frozen=True)
class Setting:
    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    expected: str
    secret: bool = False
    path: bool = False      # a file system path: any bytes the system allows, UTF-8 or not


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("is not a yes/no value")


def _utf8(text: str) -> None:
    """Refuses a value that is not UTF-8 text: Python keeps each byte the locale could not
    decode as a lone surrogate (PEP 383), which passed the parsers and then failed to encode
    where the value was used (a controller name in the first receipt signed: a traceback in
    the middle of ``init --demo``), after the command had begun writing."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("holds bytes that are not UTF-8 text") from None


def _whole(minimum: int, maximum: int) -> Callable[[str], int]:
    """A parser of whole numbers from ``minimum`` to ``maximum``, saying which bound was missed."""
    def parse(text: str) -> int:
        digits = text.strip()
        if not re.fullmatch(r"[+-]?[0-9]+", digits):
            raise ValueError("is not a whole number")
        # Python refuses to read thousands of digits; every bound here has far fewer.
        sign = -1 if digits[0] == "-" else 1
        significant = digits.lstrip("+-").lstrip("0") or "0"
        value = sign * (int(significant) if len(significant) <= 40 else 10**40)
        if value < minimum:
            raise ValueError(f"is below {minimum}")
        if value > maximum:
            raise ValueError(f"is above {maximum}")
        return value
    return parse


def _number(minimum: float, maximum: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise ValueError("is not a number") from None
        if not (math.isfinite(value) and minimum <= value <= maximum):
            raise ValueError(f"is not from {minimum:g} to {maximum:g}")
        return value
    return parse


def _folder(text: str) -> Path:
    """A folder to keep the stores in: it may not exist yet (``init`` makes it), but it may not
    be a file, nor start or end with a space (``VRMVAULT_HOME="/srv/vault "`` from an
    environment file: ``init`` or ``serve`` would make a new, empty vault beside the one
    meant, with a master key of its own)."""
    if text != text.strip():
        raise ValueError("starts or ends with a space, and would name another folder than the"
                         " one without it")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise ValueError("names a file, not a folder")
    return path


def _master_key(text: str) -> str:
    """64 hex digits; the problem is told without the value, which is the vault's secret."""
    text = text.strip()
    if len(text) != 64:
        raise ValueError(f"has {len(text)} characters, not 64")
    if not all(character in "0123456789abcdefABCDEF" for character in text):
        raise ValueError("has characters that are not hexadecimal digits")
    return text


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
        raise ValueError(f"is not a URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("is not an http:// or https:// URL naming a host")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError("has a path, query, fragment or user")
    if port == 0:
        raise ValueError("has port 0, which no server answers on")
    host = _host_name(parts.hostname.lower())
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


# A DNS label as a URL's host holds it (RFC 1123 sec. 2.1): letters, digits, inner hyphens.
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def _host_name(host: str) -> str:
    """``host`` as a Host header names it: an IP address, or a DNS name whose international
    labels are given as their A-labels (``exämple.org``: ``xn--exmple-cua.org``, what a
    browser sends). Anything else (a space, an underscore, an empty label, a percent escape)
    is refused: it would be the OAuth issuer and every receipt's address, and no request
    could name it, so every one would be refused."""
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
            if "%" in host:
                raise ValueError("a zone")    # a link's zone no browser puts in a Host header
        except ValueError:
            raise ValueError(f"names {host!r}, not an IPv6 address") from None
        return host
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"names {host!r}, not a host name") from None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"names {host!r}, not a host name (letters, digits, hyphens and"
                         " dots) nor an IP address")
    if labels[-1].isdigit():
        # All-numeric at the end is an IPv4 address or nothing ("1.2.3" is no name).
        try:
            ipaddress.IPv4Address(ascii_host)
        except ValueError:
            raise ValueError(f"names {host!r}, not an IPv4 address") from None
    return ascii_host


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
        raise ValueError("is not one address on one line")
    return text


_DIRECTION = re.compile(f"[{DIRECTION_CONTROLS}]")


def _one_line(most: int) -> Callable[[str], str]:
    def parse(text: str) -> str:
        text = text.strip()
        if not text or len(text) > most or any(ord(c) < 32 for c in text):
            raise ValueError(f"is not one line of 1 to {most} characters")
        if _DIRECTION.search(text):
            # Signed into every receipt: text after one reads reversed wherever it is shown.
            raise ValueError("holds an invisible character that changes the text's direction")
        return text
    return parse


def _address(text: str) -> PostalAddress:
    """``street; postal code; locality; country`` (ISO 3166-1 alpha-2)."""
    parts = [part.strip() for part in text.split(";")]
    if len(parts) != 4 or not all(parts) or any(ord(c) < 32 for c in text):
        raise ValueError("is not four parts separated by semicolons")
    if not is_country_code(parts[3]):
        raise ValueError(f"ends in {parts[3]!r}, not an ISO 3166-1 alpha-2 country code")
    return PostalAddress(parts[0], parts[1], parts[2], parts[3].upper())


def _role_address(text: str) -> str:
    """One bare address, as receipts print it (``privacy@example.org``)."""
    text = text.strip()
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", text):
        raise ValueError("is not one e-mail address")
    return text


def _phone(text: str) -> str:
    text = text.strip()
    if not re.fullmatch(r"\+[0-9][0-9 ]{5,30}", text):
        raise ValueError("is not an international number (+, digits and spaces)")
    return text


def _postgresql_url(text: str) -> str:
    """A ``postgresql://`` (or ``postgres://``) URL naming a database, or a libpq connection
    string (``host=... dbname=...``); ``sslmode``, ``sslrootcert`` and the other libpq
    parameters pass through. Read by psycopg's own parser (imported only when it is set)."""
    text = text.strip()
    if "://" in text and urlsplit(text).scheme not in ("postgresql", "postgres"):
        raise ValueError("is not a postgresql:// URL")
    from vault.postgresql.database import connection_parts

    if not connection_parts(text).get("dbname"):
        raise ValueError("names no database (postgresql://user@host/DATABASE)")
    return text


def _policy_url(text: str) -> str:
    """An http(s) URL with a host a browser can reach (as :func:`public_url` checks one), and
    no space or control character anywhere: every receipt links to it."""
    text = text.strip()
    if any(character.isspace() or not character.isprintable() for character in text):
        raise ValueError("holds a space or a control character")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"is not a URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("is not an http:// or https:// URL")
    if "@" in parts.netloc:
        raise ValueError("names a user, whose name and password every receipt would show")
    host = _host_name(parts.hostname.lower())
    if host == parts.hostname:
        return text
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port is not None else "")
    return parts._replace(netloc=netloc).geturl()


def controller(config: Mapping[str, Any]) -> Controller:
    """Who receipts name as the PII controller: the operator's VRMVAULT_CONTROLLER_* settings
    (the demo operator's details until they are set), at the vault's public URL, where a member
    withdraws (``Controller.withdrawal_url``)."""
    public = public_url(config["VRMVAULT_PUBLIC_URL"] or DEFAULT_PUBLIC_URL)
    return replace(
        DEFAULT_CONTROLLER, name=config["VRMVAULT_CONTROLLER_NAME"],
        contact=config["VRMVAULT_CONTROLLER_CONTACT"],
        address=config["VRMVAULT_CONTROLLER_ADDRESS"], email=config["VRMVAULT_CONTROLLER_EMAIL"],
        phone=config["VRMVAULT_CONTROLLER_PHONE"], url=public,
        policy_url=config["VRMVAULT_PRIVACY_POLICY_URL"] or public + "/")


YEAR_SECONDS = 366 * 24 * 3600
SECONDS_EXPECTED = f"a whole number of seconds from 1 to {YEAR_SECONDS} (366 days)"
# argon2's own bounds: lanes below 2**24, memory below 2**32 KiB (and at least 8 KiB per lane).
ARGON2_MAX_LANES = 2**24 - 1
ARGON2_MAX_MEMORY_KIB = 2**32 - 1


SETTINGS: tuple[Setting, ...] = (
    Setting("VRMVAULT_HOME", _folder, Path("var"),
            "Folder of the data store, the key store and (by default) the master key file.",
            "the path of a folder (made by 'vrmvault init' if it does not exist)", path=True),
    Setting("VRMVAULT_MASTER_KEY", _master_key, None,
            "The master key as 64 hex digits; when set, no master.key file is read or made.",
            "64 hexadecimal digits (32 bytes), or unset to use the home's master.key",
            secret=True),
    Setting(DATABASE_URL_SETTING, _postgresql_url, None,
            "Puts every store on PostgreSQL (psycopg 3): member data, the ledger (schema"
            " ledger) and the request counters (schema rates) in this database; the member keys"
            " in VRMVAULT_KEYS_DATABASE_URL's. Unset: SQLCipher files in VRMVAULT_HOME.",
            "a postgresql://user:password@host:port/database URL (sslmode=verify-full and"
            " certificates as its parameters) or a libpq connection string, or unset",
            secret=True),
    Setting(KEYS_DATABASE_URL_SETTING, _postgresql_url, None,
            "With VRMVAULT_DATABASE_URL: the database of the wrapped member keys and the"
            " erasure list, another database than the data's, best reached as another role.",
            "a postgresql:// URL naming another database than VRMVAULT_DATABASE_URL's",
            secret=True),
    Setting("VRMVAULT_TRUST_PROXY", _whole(0, 16), 0,
            "Number of reverse proxies in front whose X-Forwarded-* headers are trusted.",
            "the number of reverse proxies in front, 0 to 16"),
    Setting("VRMVAULT_PUBLIC_URL", public_url, None,
            "The vault's public base URL (scheme://host[:port]): the OAuth issuer and every"
            " absolute URL it hands out. Requests naming another host are refused with 400"
            " (loopback names are all accepted when the host is a loopback one). Unset:"
            " http://HOST:PORT of 'vrmvault serve' (127.0.0.1 for a wildcard bind).",
            "scheme://host[:port] such as https://vault.example.org"),
    Setting("VRMVAULT_SESSION_IDLE", _whole(1, YEAR_SECONDS), SESSION_IDLE,
            "Seconds of inactivity after which a member's session ends.",
            SECONDS_EXPECTED),
    Setting("VRMVAULT_SESSION_ABSOLUTE", _whole(1, YEAR_SECONDS), SESSION_ABSOLUTE,
            "Seconds after sign-in after which a session ends regardless of activity.",
            SECONDS_EXPECTED),
    Setting("VRMVAULT_ARGON2_TIME_COST", _whole(ASVS_MIN_TIME_COST, 2**32 - 1),
            HashingCost().time_cost,
            f"argon2id iterations for password hashes (never below {ASVS_MIN_TIME_COST}).",
            f"a whole number of iterations, at least {ASVS_MIN_TIME_COST} (the OWASP/ASVS"
            " minimum)"),
    Setting("VRMVAULT_ARGON2_MEMORY_KIB", _whole(ASVS_MIN_MEMORY_KIB, ARGON2_MAX_MEMORY_KIB),
            HashingCost().memory_kib,
            f"argon2id memory in KiB for password hashes (never below {ASVS_MIN_MEMORY_KIB}).",
            f"a whole number of KiB, at least {ASVS_MIN_MEMORY_KIB} (the OWASP/ASVS minimum)"),
    Setting("VRMVAULT_ARGON2_PARALLELISM", _whole(1, ARGON2_MAX_LANES),
            HashingCost().parallelism,
            "argon2id lanes for password hashes.",
            "a whole number of lanes, at least 1 and at most VRMVAULT_ARGON2_MEMORY_KIB / 8"),
    Setting("VRMVAULT_CACHE_KIB", _whole(1, 2**31 - 1), 64 * 1024,
            "SQLCipher page cache per connection, in KiB.",
            "a whole number of KiB, at least 1"),
    Setting("VRMVAULT_API_RATE_LIMIT", _whole(1, 10**9), DEFAULT_API_RATE_LIMIT,
            "Brand API requests per minute per OAuth client, its authenticated requests to the"
            " OAuth endpoints included, counted across all workers; past it, 429 with"
            " Retry-After until the minute ends.",
            "a whole number of requests per minute, at least 1"),
    Setting("VRMVAULT_CHECKPOINT_INTERVAL", _whole(1, YEAR_SECONDS), DEFAULT_CHECKPOINT_INTERVAL,
            "Seconds: once the last ledger checkpoint is this old and entries were added"
            " since, the keeper of 'vrmvault serve' signs a new one.",
            SECONDS_EXPECTED),
    Setting("VRMVAULT_LOG_RATE_LIMIT", _whole(1, 10**9), DEFAULT_LOG_RATE_LIMIT,
            "Requests per minute per client address (and per worker) to the public log under"
            " /log/; past it, 429 with Retry-After until the minute ends.",
            "a whole number of requests per minute, at least 1"),
    Setting("VRMVAULT_SMTP_URL", _smtp_url, None,
            "Where mail goes out: smtp://host:25 (no TLS), smtp+starttls://host:587 (STARTTLS"
            " required), smtps://host:465 (TLS); user:password@ before the host. Unset: each"
            " message is written to the maildir HOME/mail (read it with 'vrmvault mail').",
            "smtp://host:port, smtp+starttls://host:port or smtps://host:port, with"
            " user:password@ before the host if the server wants them",
            secret=True),
    Setting("VRMVAULT_MAIL_FROM", _sender, DEFAULT_SENDER,
            "The From address of the mail the vault sends.",
            "one address such as 'vrmvault <no-reply@example.org>'"),
    Setting("VRMVAULT_MINIMUM_COHORT", _whole(2, 10**6), 50,
            "The smallest group of members a brand is told the size of: a survey put to fewer"
            " is reported as 'fewer than' this, never as a count.",
            "a whole number of members, at least 2"),
    Setting("VRMVAULT_INSIGHTS_BUDGET", _number(0.01, 1000.0), 10.0,
            "Each brand's privacy budget (epsilon) per insights period; a query that would"
            " spend past it is refused with 429 until the period renews.",
            "a number from 0.01 to 1000"),
    Setting("VRMVAULT_INSIGHTS_PERIOD_DAYS", _whole(1, 366), 30,
            "Days in an insights budget period (periods start at the Unix epoch, UTC).",
            "a whole number of days from 1 to 366"),
    Setting("VRMVAULT_INSIGHTS_MAX_EPSILON", _number(0.01, 10.0), 1.0,
            "The most epsilon one insights query may spend (a brand chooses from 0.01 up to"
            " it; 0.5, or this if lower, when it names none).",
            "a number from 0.01 to 10"),
    Setting("VRMVAULT_OFFERS_PER_INTENT", _whole(1, 1000), 3,
            "Offers one brand may make on one intent.",
            "a whole number from 1 to 1000"),
    Setting("VRMVAULT_OFFERS_PER_DAY", _whole(1, 10**9), 1000,
            "Offers one brand may make per UTC day.",
            "a whole number from 1 to 1000000000"),
    Setting("VRMVAULT_WEBHOOK_ALLOW_LOOPBACK", _bool, False,
            "Let brands register loopback webhook URLs through the API (local testing only;"
            " the operator's 'vrmvault webhooks add' always may).",
            "yes or no (1/0, true/false, on/off)"),
    Setting("VRMVAULT_HOLIDAYS", parse_holiday_code, DEFAULT_HOLIDAYS,
            "The holiday calendar of business days for request deadlines (CCPA: confirm within"
            " 10 business days, opt-outs within 15): a python-holidays country code, optionally"
            " with '-' and a subdivision.",
            "a country code python-holidays knows, optionally -SUBDIVISION, such as US-CA,"
            " US or DE-BY"),
    Setting("VRMVAULT_HOLIDAYS_EXTRA", parse_extra_holidays, (),
            "More days off the operator adds to the holiday calendar.",
            "dates YYYY-MM-DD separated by commas, such as 2026-12-24,2026-12-31"),
    Setting("VRMVAULT_CONTROLLER_NAME", _one_line(200), DEFAULT_CONTROLLER.name,
            "The operator as receipts name the PII controller (until set, the demo operator"
            " 'vrmvault (demo operator)' and its example details below).",
            "one line of 1 to 200 characters"),
    Setting("VRMVAULT_CONTROLLER_CONTACT", _one_line(200), DEFAULT_CONTROLLER.contact,
            "The role or person receipts name to contact about them.",
            "one line of 1 to 200 characters"),
    Setting("VRMVAULT_CONTROLLER_ADDRESS", _address, DEFAULT_CONTROLLER.address,
            "The controller's postal address in receipts.",
            "street; postal code; locality; country code, such as"
            " '1 Main Street; 1000; Brussels; BE'"),
    Setting("VRMVAULT_CONTROLLER_EMAIL", _role_address, DEFAULT_CONTROLLER.email,
            "The controller's published address in receipts (a role address).",
            "one address such as privacy@example.org"),
    Setting("VRMVAULT_CONTROLLER_PHONE", _phone, DEFAULT_CONTROLLER.phone,
            "The controller's phone number in receipts.",
            "an international number such as '+32 2 000 00 00'"),
    Setting("VRMVAULT_PRIVACY_POLICY_URL", _policy_url, None,
            "The privacy policy receipts link to. Unset: the vault's public URL.",
            "an http:// or https:// URL"),
    Setting("VRMVAULT_DEADLINE_TIMEZONE", parse_timezone, DEFAULT_TIMEZONE,
            "The time zone whose calendar date is a request's day of receipt, from which its"
            " deadlines are counted.",
            "an IANA time zone name such as America/Los_Angeles or Europe/Berlin"),
)
BY_NAME = {setting.name: setting for setting in SETTINGS}


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings as Flask config keys, every one checked; raises :class:`SettingError`
    for the first variable that cannot be used."""
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.name)
        if raw is None or raw == "":
            config[setting.name] = setting.default
            continue
        try:
            if not setting.path:
                _utf8(raw)
            config[setting.name] = setting.parse(raw)
        except ValueError as exc:
            shown = (" (its value is not shown)" if setting.secret
                     else f"={raw[:80]!r}" + ("…" if len(raw) > 80 else ""))
            raise SettingError(setting.name, f"{shown} {exc}", setting.expected) from None
    _check_argon2_lanes(config)
    _check_sessions(config)
    _check_postgresql(config)
    return config


def _check_sessions(config: Mapping[str, Any]) -> None:
    """A session's idle limit within its absolute one: longer, it would never apply (the two
    swapped, most likely), and the operator would believe sessions end when idle."""
    idle, absolute = config["VRMVAULT_SESSION_IDLE"], config["VRMVAULT_SESSION_ABSOLUTE"]
    if idle > absolute:
        setting = BY_NAME["VRMVAULT_SESSION_IDLE"]
        raise SettingError(setting.name, f"={idle} is more than VRMVAULT_SESSION_ABSOLUTE"
                           f"={absolute}, after which every session ends anyway",
                           setting.expected)


def _check_postgresql(config: Mapping[str, Any]) -> None:
    """The data and the keys on PostgreSQL go together, in two databases."""
    data, keys = config[DATABASE_URL_SETTING], config[KEYS_DATABASE_URL_SETTING]
    if bool(data) != bool(keys):
        missing = BY_NAME[KEYS_DATABASE_URL_SETTING if data else DATABASE_URL_SETTING]
        raise SettingError(missing.name, " is unset: VRMVAULT_DATABASE_URL and"
                           " VRMVAULT_KEYS_DATABASE_URL are set together", missing.expected)
    if data and _same_database(data, keys):
        setting = BY_NAME[KEYS_DATABASE_URL_SETTING]
        raise SettingError(setting.name, " names the data database: the keys need a database"
                           " of their own, so a dump of the data holds none", setting.expected)


def _same_database(first: str, second: str) -> bool:
    from vault.postgresql.database import same_database  # psycopg: only when it is used

    return same_database(first, second)


def _check_argon2_lanes(config: Mapping[str, Any]) -> None:
    """argon2 needs 8 KiB of memory per lane: the one check that spans two settings."""
    lanes = config["VRMVAULT_ARGON2_PARALLELISM"]
    if lanes * 8 > config["VRMVAULT_ARGON2_MEMORY_KIB"]:
        setting = BY_NAME["VRMVAULT_ARGON2_PARALLELISM"]
        raise SettingError(setting.name, f"={lanes} is more than VRMVAULT_ARGON2_MEMORY_KIB / 8",
                           setting.expected)
