"""Password reset by a mailed, single-use link that lives minutes.

:meth:`PasswordResetService.request` answers the same way for every well-formed address: it
counts the request against the address and the client (the same counts whether or not an
account exists) and says whom to mail what: a reset link to an account's address, a short
"there is no vault for this address" note otherwise, so the request costs one message either
way and its timing tells nothing (no argon2 hash is made on this step at all).

:meth:`PasswordResetService.reset` sets the new password (the sign-up's NIST rules, one argon2id
hash), spends every reset link of the account, ends every session of the account in the same
transaction, and forgets the failed sign-ins counted against the account. Device cookies die
with the old password hash (``vault/devices.py``). Two-step sign-in stays as it was: a reset
does not sign the member in, so a stolen inbox alone does not open an account with TOTP on.
"""

from __future__ import annotations

from dataclasses import dataclass

from .clock import Clock
from .errors import LinkExpiredError, ValidationError
from .keys import Pseudonymiser
from .links import new_token, token_hash
from .members import MemberService, normalise_email
from .passwords import PasswordHasher, problems
from .repositories import MemberRepository, PasswordResetRepository
from .sessions import SessionStore
from .throttle import RequestLimiter

RESET_LINK_MINUTES = 20
PER_ADDRESS = (3, 60 * 60)
PER_CLIENT = (20, 60 * 60)


@dataclass(frozen=True)
class ResetRequest:
    email: str
    token: str | None          # None: no vault has this address (mail the note instead)


class PasswordResetService:
    def __init__(self, *, resets: PasswordResetRepository, members: MemberService,
                 accounts: MemberRepository, hasher: PasswordHasher,
                 sessions: SessionStore, limiter: RequestLimiter, subjects: Pseudonymiser,
                 clock: Clock) -> None:
        self._resets = resets
        self._members = members
        self._accounts = accounts
        self._hasher = hasher
        self._sessions = sessions
        self._limiter = limiter
        self._subjects = subjects
        self._clock = clock

    def request(self, email: str, *, client: str) -> ResetRequest:
        given, email = email, normalise_email(email)
        self._limiter.take((self._subjects.digest("reset-address:" + email), *PER_ADDRESS),
                           (self._subjects.digest("reset-client:" + client), *PER_CLIENT))
        member_id = self._members.find(given)      # under any form it may be stored
        if member_id is None:
            return ResetRequest(email, None)
        token = new_token()
        now = int(self._clock())
        digest = token_hash(token)
        assert digest is not None               # a token made here always has a hash
        self._resets.insert(digest, member_id, created_at=now,
                            expires_at=now + RESET_LINK_MINUTES * 60)
        return ResetRequest(email, token)

    def cancel(self, token: str) -> None:
        """Forget a reset link whose mail could not be sent."""
        digest = token_hash(token)
        if digest is not None:
            self._resets.delete(digest)

    def member_for(self, token: str) -> str:
        """The account a live link resets, or :class:`LinkExpiredError`."""
        digest = token_hash(token)
        member_id = None if digest is None else self._resets.member_for(digest,
                                                                        int(self._clock()))
        if member_id is None:
            raise LinkExpiredError("This link was used already or is too old.")
        return member_id

    def reset(self, token: str, password: str) -> str:
        """Set the new password; the member id. The link stays usable if the password is
        refused (:class:`ValidationError`), and is spent once it is set."""
        member_id = self.member_for(token)
        email = self._members.get(member_id).email
        reasons = problems(password, context=(email.split("@")[0], email))
        if reasons:
            raise ValidationError({"password": reasons})
        password_hash = self._hasher.hash(password)       # the one argon2 hash
        digest = token_hash(token)
        with self._resets.transaction():
            # Spent in the same transaction that uses it: two submissions cannot both pass.
            if digest is None or not self._resets.spend(digest, int(self._clock())):
                raise LinkExpiredError("This link was used already or is too old.")
            self._accounts.set_password_hash(member_id, password_hash)
            self._resets.delete_for_member(member_id)
            self._sessions.delete_for_member(member_id)
            self._members.clear_untrusted_lock(email)
        return member_id
