"""The resource server's read pipeline: authenticate a bearer token, decide, release, record.

A plain service, no Flask: the brand API's views (:mod:`brand_gateway.api`) take the token
from the request, hand over a loader for the query, and render what comes back.

Per member-data read: in one read snapshot of the data store, the token (token and family in
one join), the client, the policy (grants and terms) and whether the member's pairwise subject
was handed out, then one profile read that opens only the fields it may release; then the
rate count, from this worker's lease (:mod:`brand_gateway.rate_limits`), and the read committed
to this worker's access spool before the response leaves (:mod:`consent.spool`: merged into the
ledger, which indexes it for the member's "Who read what", within a second). A read writes
nothing to the data store (the subject's mapping once per member and brand, the first time) nor
to any file another worker writes, so no worker's page cache is dropped by another's reads.

Kept between requests, by each connection: the token, client, policy and subject it read,
and the sealed profile rows of the fields it released, only for as long as nothing at all has
been committed to the data store since, by anyone (the Store contract's ``memoized``): a
withdrawal, revocation, narrowing, profile change or erasure anywhere shows on the very next
request. The member's wrapped key is remembered with them (never the key itself): it is
unwrapped and the values decrypted on every read, and nothing decrypted is kept. A member whose
erasure has begun is read no more (the erasure commits that to the data store before it
destroys the key, and the commit forgets every remembered value). A client this worker refused
for its rate is remembered until its window ends
(:class:`brand_gateway.rate_limits.SpentWindows`).

Invariants: a read that cannot be recorded is not served; every request after authentication
counts against the client's rate, whatever its outcome; a request without a valid token is
never counted (it has no client). What the filtering means (withheld fields, whose feedback) is
in :mod:`brand_gateway.member_data`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from consent import event_details
from consent.context import Consent, member_principal
from consent.events import Event
from consent.spool import SpoolWriter
from vault.clock import Clock
from vault.errors import SnapshotMovedError
from vault.home import Vault

from .access_log import FEEDBACK, PROFILE
from .api_errors import InvalidTokenError, RateLimitedError, WindowSpentError
from .clients import ClientSecretHasher, OAuthClient
from .member_data import (
    FeedbackRelease,
    MemberAccess,
    ProfileRelease,
    PurposeAccess,
    delegated_member,
    member_access,
    release_feedback,
    release_profile,
)
from .pseudonyms import PairwisePseudonyms
from .rate_limits import RateLimiter, SpentWindows
from .storage import client_registry, pairwise_pseudonyms, token_store
from .tokens import AccessToken, token_hash

R = TypeVar("R")
# A read that met a store changed under remembered values is read again once (in_snapshot).
_READ_ATTEMPTS = 2
Query = dict[str, Any]


@dataclass(frozen=True)
class Caller:
    """A request's authenticated client and its active token."""

    token: AccessToken
    client: OAuthClient
    now: float
    vault: Vault


@dataclass(frozen=True)
class ProfileRead:
    """What a brand may be sent of a member's profile, the read already recorded."""

    subject: str
    purpose: str
    release: ProfileRelease


@dataclass(frozen=True)
class FeedbackRead:
    """One page of the member's feedback to the brand, the read already recorded."""

    subject: str
    purpose: str
    release: FeedbackRelease
    limit: int
    offset: int


@dataclass(frozen=True)
class _Names:
    """How a read names its member: ``principal`` in the ledger; ``subject`` to the brand, if
    it was handed out already (else ``None``: :meth:`MemberDataReads.record` records it)."""

    principal: str
    subject: str | None


@dataclass(frozen=True, kw_only=True)
class MemberDataReads:
    """The read pipeline over one request's stores.

    ``consent``, ``spool`` and ``limiter`` are called only when needed (most reads find the
    policy memoized and never open the consent services); ``spent`` is this process's memory
    of the clients it refused.
    """

    vault: Vault
    clock: Clock
    consent: Callable[[], Consent]
    spool: Callable[[], SpoolWriter]
    limiter: Callable[[], RateLimiter]
    spent: SpentWindows

    # -- authentication ---------------------------------------------------------------------------
    def authenticate(self, token_string: str, *, count: bool = True) -> Caller:
        """The caller: an active token of an active client, within its rate.

        ``count=False``: authenticate only; the caller counts the request itself (the
        member-data reads count in the transaction that records the read)."""
        vault = self.vault
        data = vault.data
        clock = self.clock
        # Token and client as the store holds them now: remembered by the worker's connection
        # only while nothing at all has been committed since (the Store contract's memoized).
        token = data.memoized(("access-token", token_hash(token_string)), lambda: token_store(
            database=data, clock=clock).find(token_string))
        now = clock()
        if token is None or not token.active(now):
            raise InvalidTokenError("The access token is unknown, expired or revoked.")
        client_id = token.client_id
        client = data.memoized(("oauth-client", client_id), lambda: client_registry(
            database=data, clock=clock, hasher=ClientSecretHasher.from_master(vault.master)
        ).get(client_id))
        if not client.active:
            raise InvalidTokenError("The access token is unknown, expired or revoked.")
        if count:
            self.limiter().hit(client.client_id)
        return Caller(token, client, now, vault)

    # -- what the token may read ------------------------------------------------------------------
    def access(self, caller: Caller) -> MemberAccess:
        """What the token may read now: judged once per token and whole second, while nothing
        was committed to the data store (the Store contract's ``memoized``). Within one second
        the judgement cannot change: grants start and end on whole seconds (``Grant.starts_at``
        and ``ends_at`` are integers, compared as ``starts_at <= now < ends_at``), so every
        moment of one second is on the same side of each of them; anything else it depends on
        (the token, its grants, the member's terms) is in the store, and a commit forgets the
        judgement."""
        return caller.vault.data.memoized(
            ("member-access", caller.token.token_hash, int(caller.now)),
            lambda: self._judge(caller))

    def _judge(self, caller: Caller) -> MemberAccess:
        member_id = delegated_member(caller.token)
        brand_id = caller.client.brand_id
        vault = caller.vault
        # Read no more once the member's erasure has begun: its first step commits that to the
        # data store, and only then is the key destroyed, which the reads' remembered wrapped
        # key (vault.keys.KeyStore.cipher) cannot see.
        if vault.data.memoized(("erasure-begun", member_id),
                               lambda: vault.erasure.is_pending(member_id)):
            raise InvalidTokenError("The member's authorization has ended.")
        policy = vault.data.memoized(
            ("policy", member_id, brand_id),
            lambda: self.consent().decisions.policy(member_id, brand_id))
        return member_access(caller.token, policy, caller.now)

    def subject(self, member_id: str, brand_id: str) -> str:
        """The member's pairwise pseudonym for the brand (recorded the first time)."""
        return self._pseudonyms().pairwise_id(member_id, brand_id)

    def _pseudonyms(self) -> PairwisePseudonyms:
        return pairwise_pseudonyms(database=self.vault.data, master=self.vault.master)

    def _names(self, caller: Caller, member_id: str) -> _Names:
        """Read inside the read phase's snapshot, where the memo costs no statement of its own."""
        vault, brand_id = caller.vault, caller.client.brand_id
        return _Names(
            vault.data.memoized(("principal", member_id),
                                lambda: member_principal(vault, member_id)),
            vault.data.memoized(("pairwise", member_id, brand_id),
                                lambda: self._pseudonyms().recorded_id(member_id, brand_id)))

    # -- the reads --------------------------------------------------------------------------------
    def profile(self, token_string: str, query: Callable[[], Query]) -> ProfileRead:
        """The profile fields the token may read now (``query``: ``purpose``, ``field_names``)."""
        def read(caller: Caller) -> tuple[MemberAccess, PurposeAccess, ProfileRelease, _Names]:
            asked = query()
            access = self.access(caller)
            purpose = access.for_purpose(asked.get("purpose"))
            profiles, memo = caller.vault.profile, caller.vault.data.memoized
            release = release_profile(
                purpose, asked.get("field_names"),
                lambda fields: profiles.read(access.member_id, fields, memo=memo))
            return access, purpose, release, self._names(caller, access.member_id)

        caller, (access, purpose, release, names) = self.in_snapshot(token_string, read)
        subject = self.record(caller, access.member_id, names, resource=PROFILE,
                              purpose=purpose.purpose, fields=release.values,
                              grant_ids=release.grant_ids)
        return ProfileRead(subject, purpose.purpose, release)

    def feedback(self, token_string: str, query: Callable[[], Query]) -> FeedbackRead:
        """A page of the member's feedback to this brand (``query``: ``purpose``, ``limit``,
        ``offset``)."""
        def read(caller: Caller) -> tuple[MemberAccess, PurposeAccess, FeedbackRelease, int,
                                          int, _Names]:
            asked = query()
            access = self.access(caller)
            purpose = access.for_purpose(asked.get("purpose"))
            journal = caller.vault.feedback
            limit, offset = asked["limit"], asked["offset"]
            return access, purpose, release_feedback(
                purpose, caller.client.brand_id, lambda: journal.for_member(access.member_id),
                limit=limit, offset=offset), limit, offset, self._names(caller, access.member_id)

        caller, (access, purpose, release, limit, offset, names) = self.in_snapshot(
            token_string, read)
        subject = self.record(caller, access.member_id, names, resource=FEEDBACK,
                              purpose=purpose.purpose,
                              fields=[] if release.withheld else ["feedback"],
                              grant_ids=release.grant_ids, entries=len(release.entries))
        return FeedbackRead(subject, purpose.purpose, release, limit, offset)

    def in_snapshot(self, token_string: str, read: Callable[[Caller], R]) -> tuple[Caller, R]:
        """Authenticate, then ``read(caller)``, in one read snapshot of the data store:
        everything a decision uses is from one moment, at or after the request arrived (so a
        withdrawal committed before it is seen), and SQLite validates its page cache once
        instead of per statement.

        Nothing is written here: a read snapshot cannot take the write lock. The request is
        counted against the client's rate on every outcome after authentication: here if the
        read fails (a 429 replaces the error once past the limit), else in :meth:`record`'s
        transaction. A client this process refused earlier in its window is refused again
        before anything is read (:class:`brand_gateway.rate_limits.SpentWindows`).
        """
        caller: Caller | None = None
        try:
            for attempt in range(_READ_ATTEMPTS):
                try:
                    with self.vault.data.snapshot():
                        caller = self.authenticate(token_string, count=False)
                        if self.spent.until(caller.client.client_id,
                                            int(caller.now)) is not None:
                            raise WindowSpentError
                        return caller, read(caller)
                except SnapshotMovedError:
                    # Remembered values met a newer store (PostgreSQL): the second attempt
                    # reads afresh, in one snapshot, and cannot be refused so.
                    if attempt + 1 == _READ_ATTEMPTS:
                        raise
            raise AssertionError("unreachable")
        except Exception as exc:
            if caller is None:
                raise
            allowance = self.limiter().count(caller.client.client_id)
            if allowance.exceeded:
                raise allowance.refusal() from None
            if isinstance(exc, WindowSpentError):
                # The window ended between the look and the count: refused all the same
                # (nothing was read), and told to come back at once.
                raise RateLimitedError(retry_after=1, limit=allowance.limit) from None
            raise

    def record(self, caller: Caller, member_id: str, names: _Names, *, resource: str,
               purpose: str, fields: Iterable[str], grant_ids: list[str], **extra: Any) -> str:
        """Count the request; within the client's rate, record the read (pseudonyms and
        names only, no values) in this process's access spool before the data leaves: a read
        that cannot be recorded is not served. The spool's reads reach the ledger, with the
        time they were served, within ``consent.spool.MAX_MERGE_DELAY`` (see there for why a
        spool, and what it guarantees). The member's pairwise subject for the response: the
        one the read phase found handed out already (``names``), else recorded now.

        Past the limit only the count is kept, and nothing is recorded or served (429). The
        data store is not written, except for the subject's mapping the first time this brand
        reads this member, after the entry (so only an id actually handed out resolves).
        """
        brand_id = caller.client.brand_id
        allowance = self.limiter().count(caller.client.client_id)
        if allowance.exceeded:
            raise allowance.refusal()
        kind = (event_details.ProfileRead if resource == PROFILE
                else event_details.FeedbackRead)
        details = kind(member=names.principal, client=caller.client.client_id,
                       purpose=purpose, fields=list(fields), grants=grant_ids, **extra)
        self.spool().append(Event.of(details, "brand:" + brand_id), at=caller.now)
        return names.subject if names.subject is not None else self.subject(member_id, brand_id)
