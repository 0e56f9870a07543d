"""Brands as OAuth 2.0 confidential clients: registration, secrets, authentication.

Invariants:
- A client secret exists in clear only in the return value of :meth:`ClientRegistry.create` and
  :meth:`ClientRegistry.rotate_secret`, for the operator to hand to the brand once; the store
  keeps a keyed hash of it, and nothing here logs it.
- Rotating a secret replaces the hash and revokes the client's access tokens in one
  transaction: the old secret, and the tokens bought with it, stop working at once.
- Redirect URIs follow RFC 9700 sec. 2.1 and OAuth 2.1 sec. 2.3.1: registered in full and
  compared as exact strings; absolute ``https`` URIs, or ``http`` on a loopback host only; no
  fragment (RFC 6749 sec. 3.1.2), no wildcard, no user information; at most
  :data:`MAX_REDIRECT_URIS`. Loopback URIs match exactly too, port included: RFC 8252 sec. 7.3's
  "any port" rule is for native apps, and brands are confidential web clients.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from ipaddress import ip_address
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit

from consent.events import EventTag
from consent.ledger_search import tagged
from consent.vocabulary import AGREEMENT_BY_CODE, DEFAULT_AGREEMENT
from intents.catalog import CATEGORY_BY_ID
from vault.brands import MAX_NAME, BrandDirectory
from vault.catalog import clean_text
from vault.clock import Clock
from vault.errors import ConflictError, NotFoundError, ValidationError
from vault.keys import MasterKey
from vault.repositories import BrandRepository

from .errors import ClientAuthenticationError, ClientDisabledError

if TYPE_CHECKING:     # the token stores build on clients, not the reverse
    from consent.repositories import LedgerSearchRepository

    from .authorizations import FamilyEndHook
    from .repositories import AuthorizationRepository, ClientRepository, TokenRepository

MAX_REDIRECT_URIS = 10
MAX_REDIRECT_URI_LENGTH = 2000
MAX_CATEGORIES = 20
SECRET_BYTES = 32
CLIENT_ID_PREFIX = "client_"
DEFAULT_AUTH_METHOD = "client_secret_basic"
# DESIGN.md sec. 4: member data by authorization code (PKCE) with refresh; brand-level work by
# client credentials. Nothing else (no implicit, no password grant: RFC 9700 sec. 2.1.2, 2.4).
DEFAULT_GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
#: Brand-level scopes (client credentials grant), with what each allows. A scope is listed here
#: only once an endpoint requires it (``brand_gateway.api.bearer.requires_scope``; a test holds
#: the two together): nothing is advertised, registered or issued that no endpoint serves.
SCOPES: dict[str, str] = {
    "webhooks:manage": "Register and remove the brand's webhook endpoints.",
    "agreements:write": "Read the IEEE 7012 terms members offer the brand and answer them (accept,"
                        " one counter-offer, reject); download the signed agreement records.",
    "communities:write": "Open and close the brand's insight communities (never learning who"
                         " is in them), open challenges there, read the ideas members post"
                         " under community pseudonyms with their votes, and mark ideas taken"
                         " up; close the loop: post \"you said, we did\" (with its"
                         " privacy-budgeted aggregate) and withdraw it; read, answer and close"
                         " the care cases members open after a low score.",
    "surveys:write": "Publish surveys, feedback requests and attribute requests to the brand's"
                     " communities; read them, how many members each is put to (thresholded),"
                     " and the individual answers of members who granted individual use.",
    "requests:write": "Read the data subject requests (GDPR, CCPA) members send the brand about"
                      " the data it holds or read (the member named by the brand's pairwise"
                      " subject only) and answer them with status events: pending,"
                      " in_progress, completed, cancelled or denied with a reason; results"
                      " of access requests as JSON documents the member reads.",
    "insights:read": "Query differentially private aggregates (NPS and ratings per touchpoint,"
                     " persona distributions) over the members who allow it, paid from the"
                     " brand's privacy budget.",
    "intents:read": "List the open intents members cast in the categories the brand is"
                    " registered for, each under a pseudonym of its own for the brand,"
                    " filtered by budget, time window and region, a page at a time (each"
                    " intent returned is an entry in its member's ledger).",
    "offers:write": "Answer intents with offers (price, terms, validity, a message), follow"
                    " their status, withdraw them, and read the profile fields a member"
                    " revealed on accepting one.",
}
CLIENT_SCOPES = tuple(SCOPES)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
_CATEGORY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_WHITESPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")
# A host a browser or an HTTP client can reach: a DNS name (ASCII labels, an international one
# as its xn-- A-labels; underscores, which some DNS names hold) or an IPv4 address; an IPv6
# address is in brackets. RFC 3986's reg-name also takes ; , ' = ! $ & ( ) * +, which no DNS
# name holds, and the consent screen writes a redirect URI's origin into its
# Content-Security-Policy: "https://a.example;script-src/cb" added a directive of the brand's
# to the member's page.
_HOST_NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
                        r"(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?")


@dataclass(frozen=True)
class OAuthClient:
    """A registered client, as the store has it. It never carries the secret."""

    client_id: str
    brand_id: str
    brand_name: str
    redirect_uris: tuple[str, ...]
    token_endpoint_auth_method: str
    grant_types: tuple[str, ...]
    status: str
    created_at: int
    secret_rotated_at: int
    scopes: tuple[str, ...] = ()                          # brand-level scopes it may ask for
    accepted_agreements: tuple[str, ...] = ("SD-BASE",)   # IEEE 7012 terms it accepts

    @property
    def active(self) -> bool:
        return self.status == "active"

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Exact string comparison with a registered URI (RFC 9700 sec. 4.1.3)."""
        return redirect_uri in self.redirect_uris


@dataclass(frozen=True)
class RestoredClients:
    """What :meth:`ClientRegistry.reapply_recorded` changed: the clients disabled again, and
    those whose restored secret no longer works (each to be rotated again)."""

    disabled: list[str]
    secrets_voided: list[str]


class ClientSecretHasher:
    """HMAC-SHA256 of a client secret, keyed from the master key and bound to the client id.

    Why not argon2id, as for member passwords: a client secret is 32 random bytes (256 bits), so
    guessing it is out of reach however fast the hash is; a slow, memory-hard hash only protects
    low-entropy secrets a human chose. It would add tens of milliseconds and ~19 MiB to every
    token request, a lever for exhausting the server. A fast hash is what API tokens use; keyed
    (not plain SHA-256) so that even a decrypted copy of the table cannot check a candidate
    without the master key, and bound to the client id so a hash cannot be moved to another row.
    """

    PURPOSE = "client-secret"

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_master(cls, master: MasterKey) -> ClientSecretHasher:
        return cls(master.derive(cls.PURPOSE))

    def hash(self, client_id: str, secret: str) -> bytes:
        message = client_id.encode() + b"\x00" + secret.encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def verify(self, client_id: str, secret: str, stored: bytes) -> bool:
        return hmac.compare_digest(self.hash(client_id, secret), stored)


def new_client_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def validate_redirect_uris(uris: object) -> tuple[str, ...]:
    """The URIs, duplicates dropped, in order; :class:`ValidationError` naming the first bad one."""
    if isinstance(uris, str) or not isinstance(uris, list | tuple):
        _refuse("redirect_uris", "Give the redirect URIs as a list.")
    if not uris:
        _refuse("redirect_uris", "Register at least one redirect URI.")
    unique = tuple(dict.fromkeys(uris))
    if len(unique) > MAX_REDIRECT_URIS:
        _refuse("redirect_uris", f"Register at most {MAX_REDIRECT_URIS} redirect URIs.")
    for uri in unique:
        problem = redirect_uri_problem(uri)
        if problem:
            _refuse("redirect_uris", f"Redirect URI {_quoted(uri)}: {problem}")
    return unique


def _quoted(value: object) -> str:
    """``value`` quoted for a message, a string cut to 80 characters (a command line passes
    one of any length, and the message would be all of it)."""
    return repr(value[:80] if isinstance(value, str) else value)


def redirect_uri_problem(uri: object) -> str | None:
    """Why ``uri`` may not be registered, or ``None`` if it may."""
    if isinstance(uri, str) and "*" in uri:
        return "must not hold a wildcard: redirect URIs are matched exactly."
    return endpoint_url_problem(uri, max_length=MAX_REDIRECT_URI_LENGTH,
                                fragment_rule=" (RFC 6749 sec. 3.1.2)")


def endpoint_url_problem(url: object, *, max_length: int, fragment_rule: str = ""
                         ) -> str | None:
    """Why ``url`` may not be a brand's endpoint (a redirect URI, a webhook), or ``None``.

    Absolute ``https``, or ``http`` on a loopback host only; ASCII without spaces or control
    characters; no fragment, no user information, a host and a valid port. The scheme must be
    written lower-case already, since these URLs are compared as exact strings.
    """
    if not isinstance(url, str) or not url:
        return "must be a non-empty string."
    if len(url) > max_length:
        return f"at most {max_length} characters."
    if _WHITESPACE_OR_CONTROL.search(url) or not url.isascii():
        return "must be ASCII without spaces or control characters."
    if "#" in url:
        return f"must not have a fragment{fragment_rule}."
    try:
        parts = urlsplit(url)
    except ValueError:           # brackets around what is no IPv6 address: https://[a.example]/
        return "has an invalid host or port."
    if url[:8].lower().startswith(("https://", "http://")) and not url.startswith(
            ("https://", "http://")):
        return ("must write its scheme in lower case (https://): endpoints are compared as"
                " exact strings.")
    if not url.startswith(("https://", "http://")) or not parts.netloc:
        return "must be an absolute https:// URL."
    if "@" in parts.netloc:
        return "must not hold user information."
    try:
        host, _ = parts.hostname, parts.port
    except ValueError:
        return "has an invalid host or port."
    if not host:
        return "must name a host."
    if not (_ipv6_address(host) if parts.netloc.startswith("[") else
            _HOST_NAME.fullmatch(host)):
        return "must name its host as a DNS name or an IP address."
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        return "must use https (http only on 127.0.0.1, [::1] or localhost)."
    return None


def _ipv6_address(host: str) -> bool:
    """Whether ``host`` (what a URL's brackets held) is an IPv6 address, with no zone (which
    names an interface of this machine) and no IPvFuture literal (RFC 3986 sec. 3.2.2)."""
    if "%" in host:
        return False
    try:
        return ip_address(host).version == 6
    except ValueError:
        return False


def validate_categories(categories: object) -> tuple[str, ...]:
    if isinstance(categories, str) or not isinstance(categories, list | tuple):
        _refuse("categories", "Give the categories as a list.")
    unique = tuple(dict.fromkeys(str(c).strip().lower() for c in categories))
    if len(unique) > MAX_CATEGORIES:
        _refuse("categories", f"At most {MAX_CATEGORIES} categories.")
    for category in unique:
        if not _CATEGORY.match(category):
            _refuse("categories", f"Category {category!r}: use lower-case letters, digits and "
                                  "hyphens (at most 40).")
    unknown = [category for category in unique if category not in CATEGORY_BY_ID]
    if unknown:
        # What a brand trades in decides which members' intents it is shown: a category the
        # catalog does not hold would match none, silently.
        _refuse("categories", f"Not in the intent catalog: {', '.join(unknown)}. Choose among"
                              f" {', '.join(sorted(CATEGORY_BY_ID))}.")
    return unique


class ClientRegistry:
    """Registers brands as confidential clients and authenticates them.

    ``tokens`` and ``families`` are the data store's too: disabling a client revokes its
    tokens and authorizations in the same transaction."""

    def __init__(self, *, clients: ClientRepository, brands: BrandRepository,
                 tokens: TokenRepository, families: AuthorizationRepository, clock: Clock,
                 hasher: ClientSecretHasher) -> None:
        self._clients = clients
        self._tokens = tokens
        self._families = families
        self._clock = clock
        self._hasher = hasher
        self._brands = BrandDirectory(brands=brands, clock=clock)
        # Compared against when the client id is unknown, so that case costs the same HMAC.
        self._decoy = hasher.hash("", new_client_secret())

    def create(self, name: str, redirect_uris: list[str] | tuple[str, ...],
               categories: list[str] | tuple[str, ...] = (), *,
               scopes: list[str] | tuple[str, ...] | None = None,
               accepts: list[str] | tuple[str, ...] = (DEFAULT_AGREEMENT,),
               brand_id: str | None = None) -> tuple[OAuthClient, str]:
        """Add the brand and its client; the client and its secret (shown this once only).

        ``scopes``: the brand-level scopes the client may ask for (all of :data:`CLIENT_SCOPES`
        when not given); ``accepts``: the IEEE 7012 terms the brand accepts; ``brand_id``: give
        an existing brand (of that ``name``) its client instead of adding a brand."""
        try:
            name = clean_text(name, max_length=MAX_NAME)
        except ValueError as exc:
            _refuse("name", f"Brand name: {exc}")
        if not name:
            _refuse("name", "A brand needs a name.")
        uris = validate_redirect_uris(redirect_uris)
        clean_categories = validate_categories(categories)
        clean_scopes = _subset("scopes", CLIENT_SCOPES if scopes is None else scopes,
                               CLIENT_SCOPES, "scope")
        clean_accepts = _subset("accepts", accepts, tuple(AGREEMENT_BY_CODE), "IEEE 7012 term")
        client_id = CLIENT_ID_PREFIX + secrets.token_urlsafe(16)
        secret = new_client_secret()
        now = int(self._clock())
        with self._clients.transaction():
            if brand_id is None:
                brand_id = self._brands.add(name, clean_categories).id
            elif self._brands.get(brand_id).name != name:
                raise NotFoundError("no such brand")
            self._clients.insert(
                client_id, brand_id=brand_id, secret_hash=self._hasher.hash(client_id, secret),
                redirect_uris=uris, auth_method=DEFAULT_AUTH_METHOD,
                grant_types=DEFAULT_GRANT_TYPES, created_at=now, scopes=clean_scopes,
                accepted_agreements=clean_accepts)
        return self.get(client_id), secret

    def list(self) -> list[OAuthClient]:
        return self._clients.all()

    def get(self, client_id: str) -> OAuthClient:
        client = self._clients.get(client_id)
        if client is None:
            raise NotFoundError(f"no client {_quoted(client_id)}")
        return client

    def disable(self, client_id: str, *, on_end: FamilyEndHook | None = None) -> OAuthClient:
        """Stop the client authenticating and revoke its live tokens, at once (idempotent).
        Its brand and history stay. ``on_end`` is told of each authorization this ended
        (:mod:`brand_gateway.observers`: the grants' receipts, ledger entries and webhooks)."""
        # The token stores build on clients, not the reverse.
        from .authorizations import AuthorizationStore, FamilyEnd
        from .tokens import TokenStore

        with self._clients.transaction():
            self.get(client_id)
            self._clients.disable(client_id)
            TokenStore(tokens=self._tokens, clock=self._clock).revoke_all_for_client(client_id)
            AuthorizationStore(families=self._families, clock=self._clock,
                               on_end=on_end).revoke_for_client(client_id,
                                                                FamilyEnd.CLIENT_DISABLED)
        return self.get(client_id)

    def rotate_secret(self, client_id: str) -> str:
        """A new secret for the client; the old one stops working at once, and so do the
        access tokens issued under it: a secret is rotated because it may have leaked, and
        whoever held it may hold tokens it bought. The brand's authorizations stay (refresh
        tokens work only with the client's secret, now the new one), so the brand gets new
        access tokens with the new secret and no member is asked again. A disabled client
        is refused (:class:`ConflictError`): nothing enables it again, so a secret made for it
        would be handed to the brand and never authenticate."""
        from .tokens import TokenStore

        secret = new_client_secret()
        with self._clients.transaction():
            if not self.get(client_id).active:
                raise ConflictError(f"{client_id} is disabled: a new secret would never"
                                    " authenticate; register the brand's new client with"
                                    " 'vrmvault brand create' instead")
            self._clients.set_secret_hash(client_id, self._hasher.hash(client_id, secret),
                                          int(self._clock()))
            TokenStore(tokens=self._tokens, clock=self._clock).revoke_all_for_client(client_id)
        return secret

    def reapply_recorded(self, search: LedgerSearchRepository) -> RestoredClients:
        """After the data store was restored from a backup older than the ledger
        (consent/after_restore.py): every client the ledger records as disabled is disabled
        again (its tokens revoked, its authorizations ended: each grant's end is on record
        already), and every client whose secret the ledger records as rotated after the one
        the store came back with gets a secret nobody knows, so the restored older secret
        stops working; the operator rotates it again and hands the brand the new one. Nothing
        is enabled or given; running it twice changes nothing the second time. Rotations are
        told apart by their second (``secret_rotated_at``): one made in the same second as the
        secret the store came back with is taken as that one."""
        disabled: set[str] = set()
        rotated: dict[str, int] = {}        # client -> when its secret was last rotated
        for hit in tagged(search, (EventTag.BRAND_CLIENT_DISABLED,
                                   EventTag.BRAND_SECRET_ROTATED)):
            details = hit.details()
            if hit.row.tag == EventTag.BRAND_CLIENT_DISABLED:
                disabled.add(details["client"])
            else:
                rotated.setdefault(details["client"], int(details["rotated_at"]))
        again, voided = [], []
        for client in self.list():
            if not client.active:
                continue
            if client.client_id in disabled:
                self.disable(client.client_id)
                again.append(client.client_id)
            elif client.secret_rotated_at < rotated.get(client.client_id, 0):
                self._void_secret(client.client_id, rotated[client.client_id])
                voided.append(client.client_id)
        return RestoredClients(disabled=again, secrets_voided=voided)

    def _void_secret(self, client_id: str, rotated_at: int) -> None:
        """A secret nobody is ever shown: the client cannot authenticate until the operator
        rotates it again. Its record takes the time of the rotation the ledger recorded (whose
        secret the restore lost), so a second reapplication finds nothing newer."""
        with self._clients.transaction():
            self._clients.set_secret_hash(
                client_id, self._hasher.hash(client_id, new_client_secret()), rotated_at)

    def authenticate(self, client_id: str, secret: str) -> OAuthClient:
        """The client if ``secret`` is its current one and it is active.

        Unknown client and wrong secret raise the same :class:`ClientAuthenticationError` after
        the same work (one HMAC, one constant-time comparison); a disabled client raises
        :class:`ClientDisabledError` only once the secret matched.
        """
        if not isinstance(client_id, str) or not isinstance(secret, str):
            raise ClientAuthenticationError()
        record = self._clients.with_secret_hash(client_id)
        stored = record.secret_hash if record is not None else self._decoy
        matched = self._hasher.verify(client_id, secret, stored)
        if record is None or not matched:
            raise ClientAuthenticationError()
        if not record.client.active:
            raise ClientDisabledError()
        return record.client


def _subset(field: str, values: object, allowed: tuple[str, ...], what: str
            ) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, list | tuple):
        _refuse(field, f"Give each {what} as a separate value.")
    for value in values:
        if value not in allowed:
            _refuse(field, f"Unknown {what} {str(value)[:40]!r}; known: {', '.join(allowed)}.")
    return tuple(dict.fromkeys(values))


def _refuse(field: str, message: str) -> NoReturn:
    raise ValidationError({field: [message]}, message)
