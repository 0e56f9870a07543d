"""Sign-up with e-mail verification, answering the same whether or not the address has a vault.

:meth:`SignupService.request` checks the address and password, counts the request against the
address and the client (``RequestLimiter``: the same counts whether or not an account exists),
then hashes the password with argon2id: exactly one hash, whichever way it goes on. Then:

- a new address: a pending sign-up is stored and a verification link is to be mailed;
- an address with a vault: nothing is stored; its owner is to be mailed a notice instead.

The caller mails one message either way and shows the same page.

Why the account is made only when the link is followed, and not as a pending row before:
an unverified account row would hold the address's place (``members.email_index`` is unique),
so anyone could squat an address or pre-set the password of an account its owner makes later
("pre-hijacking"); a member row and a member key would exist for people who never confirmed;
and the verified flag would need checking on every sign-in and in every other service.
Instead ``signup_requests`` holds the address and the argon2id hash sealed with AES-256-GCM
under HMAC(master-derived key, token): the store alone cannot open it (the token is only in the
mail, the store has its SHA-256), and the master key alone cannot either. Several pending
sign-ups for one address may exist; the first link followed makes the account and cancels the
rest. Links work once and for ``SIGNUP_LINK_MINUTES``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .clock import Clock
from .errors import ConflictError, IntegrityError, LinkExpiredError, ValidationError
from .keys import Pseudonymiser
from .links import new_token, token_hash
from .members import MemberService, normalise_email
from .passwords import PasswordHasher, problems
from .repositories import SignupRepository, SignupRow
from .throttle import RequestLimiter

SIGNUP_LINK_MINUTES = 30
# Mail-sending requests per address and per client (a form cannot be used to flood an inbox).
PER_ADDRESS = (3, 60 * 60)
PER_CLIENT = (20, 60 * 60)


@dataclass(frozen=True)
class SignupRequest:
    email: str
    token: str | None          # None: the address has a vault (mail its owner the notice)


class SignupService:
    def __init__(self, *, signups: SignupRepository, members: MemberService,
                 hasher: PasswordHasher,
                 limiter: RequestLimiter, subjects: Pseudonymiser, seal_key: bytes,
                 clock: Clock) -> None:
        self._signups = signups
        self._members = members
        self._hasher = hasher
        self._limiter = limiter
        self._subjects = subjects
        self._seal_key = seal_key
        self._clock = clock

    def request(self, email: str, password: str, *, client: str) -> SignupRequest:
        errors: dict[str, list[str]] = {}
        context: tuple[str, ...] = ()
        given = email
        try:
            email = normalise_email(email)
            context = (email.split("@")[0], email)
        except ValidationError as exc:
            errors.update(exc.errors)
        reasons = problems(password, context=context)
        if reasons:
            errors["password"] = reasons
        if errors:
            raise ValidationError(errors)
        self._limiter.take((self._subjects.digest("signup-address:" + email), *PER_ADDRESS),
                           (self._subjects.digest("signup-client:" + client), *PER_CLIENT))
        password_hash = self._hasher.hash(password)      # the one argon2 hash, either way
        index = self._members.email_index(email)
        if self._members.find(given) is not None:     # under any form it may be stored
            return SignupRequest(email, None)
        token = new_token()
        digest = token_hash(token)
        now = int(self._clock())
        sealed = self._seal(token, digest, {"email": email, "password_hash": password_hash})
        assert digest is not None               # a token made here always has a hash
        self._signups.insert(SignupRow(digest, index, sealed, now,
                                       now + SIGNUP_LINK_MINUTES * 60))
        return SignupRequest(email, token)

    def cancel(self, token: str) -> None:
        """Forget a pending sign-up whose mail could not be sent."""
        digest = token_hash(token)
        if digest is not None:
            self._signups.delete(digest)

    def is_pending(self, token: str) -> bool:
        """Whether ``token`` is a live link (for the page that asks to confirm it)."""
        digest = token_hash(token)
        return digest is not None and self._signups.is_live(digest, int(self._clock()))

    def complete(self, token: str) -> str:
        """Make the account of the pending sign-up behind ``token``; its member id.

        :class:`LinkExpiredError` when the link is unknown, used or too old;
        :class:`ConflictError` when the address got a vault since (the link is spent then too).
        """
        digest = token_hash(token)
        if digest is None:
            raise LinkExpiredError("This link is not valid.")
        now = int(self._clock())
        member_id = None
        with self._signups.transaction():
            row = self._signups.get(digest)
            if row is not None and row.expires_at <= now:
                self._signups.delete(digest)
                row = None                  # committed: a stale request is gone for good
        if row is None:
            raise LinkExpiredError("This link was used already or is too old.")
        with self._signups.transaction():
            if not self._signups.delete(digest):
                raise LinkExpiredError("This link was used already or is too old.")
            pending = self._open(token, digest, row.sealed)
            # This link and every other pending sign-up for the address end here.
            self._signups.delete_for_address(row.email_index)
            if self._members.find_by_index(row.email_index) is None:
                member_id = self._members.insert(email=pending["email"],
                                                 index=row.email_index,
                                                 password_hash=pending["password_hash"])
        if member_id is None:
            raise ConflictError("There is a vault for this address already. Sign in, or reset"
                                " your password if you forgot it.")
        return member_id

    # -- sealing: the key needs both the master-derived key and the token from the mail --------
    def _aead(self, token: str) -> AESGCM:
        return AESGCM(hmac.new(self._seal_key, token.encode(), hashlib.sha256).digest())

    def _seal(self, token: str, digest: bytes | None, payload: dict[str, str]) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead(token).encrypt(nonce, json.dumps(payload).encode(), digest)

    def _open(self, token: str, digest: bytes, sealed: bytes) -> dict[str, str]:
        try:
            payload = json.loads(self._aead(token).decrypt(sealed[:12], sealed[12:], digest))
        except (InvalidTag, ValueError) as exc:
            raise IntegrityError("a pending sign-up failed authentication") from exc
        return {"email": str(payload["email"]), "password_hash": str(payload["password_hash"])}
