"""What the brand gateway's services may ask of storage: one repository contract per aggregate.

The same seam as ``vault/repositories.py`` (read its docstring for the invariants every
implementation keeps: repositories of one store share its transactions, a broken constraint a
caller handles is a return value, results come in a stated order). The gateway's services hold
no SQL; the implementations are in ``brand_gateway/sqlcipher/`` and
``brand_gateway/postgresql/`` (what both share in ``brand_gateway/sql/``), one module per
aggregate, and pass the conformance suite in ``tests/unit/storage/``;
``brand_gateway/storage.py`` builds the services over the store's engine's. Values are the
gateway's own records (an :class:`~brand_gateway.tokens.AccessToken`, a
:class:`~brand_gateway.authorizations.Family`, an :class:`~brand_gateway.clients.OAuthClient`)
or the small records below; secrets are only ever
passed as their hashes (``bytes``).

The request counters (:class:`RateCountRepository`) are a store of their own, ``rates.db``:
its repository shares no transaction with the data store's.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from vault.repositories import Transactional

if TYPE_CHECKING:
    from .authorizations import Family, FamilyEnd
    from .clients import OAuthClient
    from .tokens import AccessToken


class TokenRepository(Transactional, Protocol):
    """Access tokens, by the hash of the token."""

    def insert(self, token_hash: bytes, *, client_id: str, grant_type: str, scope: str,
               issued_at: int, expires_at: int, family_id: str | None) -> None: ...

    def find(self, token_hash: bytes) -> AccessToken | None:
        """The token with its family's member, end, revocation and authorization details,
        read together (the brand API's every request reads this)."""

    def revoke(self, token_hash: bytes, now: int) -> None:
        """Revoked at ``now`` unless revoked already (the first time stays)."""

    def revoke_for_client(self, client_id: str, now: int) -> int:
        """Revoke every unrevoked token of the client; how many."""

    def delete_expired(self, before: int) -> int:
        """Delete every token that expired before ``before``; how many."""


@dataclass(frozen=True)
class ClientRecord:
    """A client with the keyed hash of its secret (only authentication reads that)."""

    client: OAuthClient
    secret_hash: bytes


class ClientRepository(Transactional, Protocol):
    """Brands' OAuth clients, each read with its brand's name."""

    def insert(self, client_id: str, *, brand_id: str, secret_hash: bytes,
               redirect_uris: Sequence[str], auth_method: str, grant_types: Sequence[str],
               created_at: int, scopes: Sequence[str], accepted_agreements: Sequence[str]
               ) -> None:
        """A new client, active, its secret rotated at ``created_at``."""

    def all(self) -> list[OAuthClient]:
        """Every client, by brand name, then by creation, then by id."""

    def get(self, client_id: str) -> OAuthClient | None: ...

    def with_secret_hash(self, client_id: str) -> ClientRecord | None: ...

    def disable(self, client_id: str) -> None: ...

    def set_secret_hash(self, client_id: str, secret_hash: bytes, now: int) -> None: ...


@dataclass(frozen=True)
class CodeRecord:
    """An authorization code as stored (by its hash)."""

    family_id: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    code_challenge_method: str
    expires_at: int
    used_at: int | None


@dataclass(frozen=True)
class RefreshTokenRecord:
    """A refresh token as stored (by its hash), with its family's client."""

    family_id: str
    client_id: str
    used_at: int | None


class AuthorizationRepository(Transactional, Protocol):
    """Token families, the grants each carries, their authorization codes and refresh tokens."""

    def insert_family(self, family_id: str, *, client_id: str, member_id: str,
                      authorization_details: Sequence[dict[str, Any]], created_at: int,
                      expires_at: int, grant_ids: Sequence[str]) -> None:
        """A family and the grants it carries, together."""

    def family(self, family_id: str) -> Family | None: ...

    def families_for_member(self, member_id: str) -> list[Family]:
        """The member's families, newest first."""

    def grant_ids(self, family_id: str) -> list[str]:
        """The grants the family carries, by grant id."""

    def families_with_grant(self, grant_id: str) -> list[str]:
        """The ids of the families carrying the grant."""

    def update_family(self, family_id: str, *, authorization_details: Sequence[dict[str, Any]],
                      expires_at: int) -> None:
        """Replace what the family says it authorizes, and its absolute end."""

    def revoke(self, family_id: str, reason: FamilyEnd, now: int) -> bool:
        """Revoke the family for ``reason`` unless revoked already, and every unrevoked
        access token of it; whether the family was revoked by this call."""

    def expired_unrevoked(self, now: int) -> list[str]:
        """The ids of the unrevoked families past their absolute end at ``now``."""

    def unrevoked_for_client(self, client_id: str) -> list[str]: ...

    def insert_code(self, code_hash: bytes, *, family_id: str, client_id: str,
                    redirect_uri: str, code_challenge: str, code_challenge_method: str,
                    issued_at: int, expires_at: int) -> None: ...

    def code(self, code_hash: bytes) -> CodeRecord | None: ...

    def use_code(self, code_hash: bytes, now: int) -> None:
        """Mark the code used at ``now``."""

    def insert_refresh_token(self, token_hash: bytes, family_id: str, issued_at: int
                             ) -> None: ...

    def refresh_token(self, token_hash: bytes) -> RefreshTokenRecord | None: ...

    def use_refresh_token(self, token_hash: bytes, now: int) -> None: ...


class PairwiseSubjectRepository(Transactional, Protocol):
    """Which pairwise pseudonym was handed to which brand, for which member."""

    def is_recorded(self, brand_id: str, pairwise_id: str) -> bool:
        """A read only (usable in a read snapshot)."""

    def record(self, brand_id: str, pairwise_id: str, member_id: str) -> bool:
        """Record the mapping unless it is recorded already; ``False`` (nothing written) when
        the member or the brand does not exist."""

    def member_for(self, brand_id: str, pairwise_id: str) -> str | None: ...


class BrandNameRepository(Protocol):
    """Brands' display names (the vault's brands, as the gateway's pages and export show them)."""

    def names(self, brand_ids: Collection[str] | None = None) -> dict[str, str]:
        """Brand id -> name, of ``brand_ids`` (unknown ones left out), or of every brand."""


class RateCountRepository(Protocol):
    """The shared per-client request counts of the current window (``rates.db``), and the one
    concurrency mechanism of the rate limit: taking a lease atomically."""

    def take_lease(self, client_id: str, window_start: int,
                   size: Callable[[int], int]) -> tuple[int, int]:
        """In one write transaction of the counters (concurrent workers never lose a count):
        the client's count of the window starting at ``window_start`` (0 if its count is of an
        earlier window), then that count plus ``size(count)`` stored as the window's count.
        Returns ``(count before, size taken)``."""


@dataclass(frozen=True)
class FamilyExportRecord:
    """One authorization as the member's export shows it (no hash, no challenge)."""

    family: Family
    brand_id: str
    grant_ids: tuple[str, ...]
    redirect_uri: str | None           # of the family's first code, if it had one
    code_issued_at: int | None
    code_used_at: int | None
    access_tokens: int
    first_access_issued_at: int | None
    last_access_issued_at: int | None
    last_access_expires_at: int | None
    refresh_tokens: int
    last_refresh_issued_at: int | None


@dataclass(frozen=True)
class NotificationRecord:
    """One webhook event queued to one endpoint of a brand about the member."""

    brand_id: str
    event_type: str
    event_id: str
    status: str
    created_at: int
    delivered_at: int | None


class GatewayExportRepository(Protocol):
    """What the member's export reads of the gateway's tables, for one member."""

    def identifiers(self, member_id: str) -> list[tuple[str, str]]:
        """``(brand_id, pairwise_id)`` handed out for the member, by brand id."""

    def brands_told(self, member_id: str) -> list[str]:
        """Every brand that received something naming the member, by brand id: a pairwise id
        of the brand API, an agreement offered to it, a grant (its receipts and webhooks)."""

    def authorizations(self, member_id: str) -> list[FamilyExportRecord]:
        """The member's families, oldest first (then by id)."""

    def notifications(self, subjects: Sequence[tuple[str, str]]) -> list[NotificationRecord]:
        """The webhook rows whose payload names the member by a brand's pseudonym, given as
        ``(brand_id, pseudonym)`` pairs (the member's identifiers), oldest first (then by
        row)."""


class EndingRepository(Protocol):
    """Whether a background pass has anything to record."""

    def due(self, now: int) -> bool:
        """Whether an active grant ended by ``now`` without its expiry recorded, or an
        unrevoked family is past its absolute end."""
