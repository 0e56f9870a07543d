"""Members: sign-up, authentication, the optional TOTP second factor.

Invariants: a login address is stored only as a blind index (keyed hash of its normalised form)
plus a copy sealed under the member's own key; passwords only as argon2id hashes; the TOTP secret
only sealed. Authentication never tells which of address or password was wrong, costs the same
for unknown addresses, and is throttled per address and per client.

Sign-in throttling (``vault/throttle.py``): an attempt from a browser holding a valid device
cookie for the account (``vault/devices.py``) counts against that device only; any other attempt
counts against the account and the client address. So guessing stays slow per account and per
client, and a stranger's failures never lock a member out of a browser they signed in with.

Every account has one role: ``member``; ``compliance`` for a compliance officer (the ledger,
requests, reports and reveals of the compliance console); or ``administrator`` for whoever
onboards and manages brands in the console. Both sign in like anyone and keep their own member
pages. An account holds at most one of the two staff roles, so the duties stay apart: giving
one to an account that holds the other is refused (revoke first). A role is given and taken
only by the operator (``vrmvault officer``), never through the web, and only to an account
with two-step sign-in on; while a staff role is held, two-step sign-in cannot be turned off.

An account made here (:meth:`MemberService.register`) is usable at once: the operator's, the
demo's and the tests' way. The web's sign-up goes through ``vault/signups.py`` and makes the
account only when the mailed link is followed (:meth:`MemberService.insert`).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from dataclasses import dataclass

import pyotp

from .clock import Clock
from .devices import DeviceCookies
from .email_addresses import lookup_forms, normalise_email
from .errors import (
    AuthenticationError,
    ConflictError,
    ConstraintViolationError,
    IntegrityError,
    MemberKeyMissingError,
    NotFoundError,
    SecondFactorRequiredError,
    ValidationError,
)
from .keys import KeyStore, Pseudonymiser
from .passwords import PasswordHasher, problems
from .recovery_codes import RecoveryCodes, looks_like_recovery_code
from .repositories import MemberRecord, MemberRepository, NewMember
from .sealing import MemberCipher, associated_data
from .throttle import LoginThrottle

# RFC 6238 sec. 5.2: accept one step either side for clock drift, and each code only once.
TOTP_WINDOW = 1
MEMBER = "member"
COMPLIANCE = "compliance"
ADMINISTRATOR = "administrator"
ROLES = (MEMBER, COMPLIANCE, ADMINISTRATOR)
#: The roles that open the console; each needs two-step sign-in for as long as it is held.
STAFF_ROLES = (COMPLIANCE, ADMINISTRATOR)
ROLE_NAMES = {MEMBER: "member", COMPLIANCE: "compliance officer",
              ADMINISTRATOR: "administrator"}


def _a(noun: str) -> str:
    """The noun with its indefinite article: "an administrator", "a compliance officer"."""
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _sealed_address(cipher: MemberCipher, member_id: str, email: str) -> bytes:
    """The login address as the account keeps it: sealed under the member's key."""
    return cipher.seal_text(associated_data(member_id, "members", member_id, "email"), email)


def new_member_id() -> str:
    return os.urandom(16).hex()


@dataclass(frozen=True)
class Member:
    id: str
    email: str
    created_at: int
    totp_enabled: bool


class MemberService:
    def __init__(
        self,
        *,
        members: MemberRepository,
        throttle: LoginThrottle,
        recovery_codes: RecoveryCodes,
        keys: KeyStore,
        blind_index: Pseudonymiser,
        throttle_subjects: Pseudonymiser,
        hasher: PasswordHasher,
        clock: Clock,
        device_key: bytes,
    ) -> None:
        self._members = members
        self._keys = keys
        self._blind_index = blind_index
        self._throttle_subjects = throttle_subjects
        self._hasher = hasher
        self._clock = clock
        self.throttle = throttle
        self.recovery_codes = recovery_codes
        self._devices = DeviceCookies(device_key)

    # -- sign-up ---------------------------------------------------------------------------
    def register(self, email: str, password: str) -> str:
        """Make a usable account at once (operator, demo, tests; the web verifies first)."""
        email = normalise_email(email)
        reasons = problems(password, context=(email.split("@")[0], email))
        if reasons:
            raise ValidationError({"password": reasons})
        index = self._blind_index.digest(email)
        if self._members.find_by_index(index) is not None:
            raise ConflictError("An account with this e-mail address exists already. Log in.")
        return self.insert(email=email, index=index, password_hash=self._hasher.hash(password))

    def email_index(self, email: str) -> bytes:
        """The blind index of an already-normalised login address."""
        return self._blind_index.digest(email)

    def insert(self, *, email: str, index: bytes, password_hash: str) -> str:
        """Create the member's key and row (used by sign-up)."""
        member_id = new_member_id()
        sealed = _sealed_address(self._keys.create(member_id), member_id, email)
        if not self._members.insert(member_id, email_index=index, email_sealed=sealed,
                                    password_hash=password_hash, created_at=int(self._clock())):
            # The key store and data store are separate: undo the key we just made.
            self._keys.remove(member_id)
            raise ConflictError("An account with this e-mail address exists already. Log in.")
        return member_id

    def insert_many(self, accounts: Sequence[tuple[str, bytes]], *, password_hash: str
                    ) -> list[str]:
        """Create the keys and rows of accounts given as ``(email, index)``, all with one
        password hash (the demo loader's), in a few statements per store; their ids.

        Call it inside a transaction of the key store within one of the data store, as the
        demo loader does: when an address or an id is taken, :class:`ConflictError`, and those
        transactions roll back every key and account of the batch. Nothing is written outside
        them, so a failed batch leaves nothing behind.
        """
        ids = [new_member_id() for _ in accounts]
        ciphers = self._keys.create_many(ids)
        now = int(self._clock())
        rows = [NewMember(member_id, index, _sealed_address(cipher, member_id, email),
                          password_hash, now)
                for member_id, cipher, (email, index) in zip(ids, ciphers, accounts,
                                                             strict=True)]
        try:
            self._members.insert_many(rows)
        except ConstraintViolationError:
            self._keys.forget_cached()      # the keys just made go with the batch
            raise ConflictError("An account with one of these e-mail addresses exists"
                                " already.") from None
        return ids

    # -- reading ---------------------------------------------------------------------------
    def get(self, member_id: str) -> Member:
        row = self._members.get(member_id)
        if row is None:
            raise NotFoundError("no such member")
        email = self._keys.cipher(member_id).open_text(
            associated_data(member_id, "members", member_id, "email"), row.email_sealed
        )
        return Member(row.id, email, row.created_at, row.totp_sealed is not None)

    def exists(self, member_id: str) -> bool:
        return self._members.exists(member_id)

    def find(self, email: str) -> str | None:
        """The id of the account with this login address, or ``None``;
        :class:`ValidationError` for what cannot be an address at all."""
        forms = lookup_forms(email)
        if not forms:
            normalise_email(email)          # raises, with the reason
        row = self._find_row(forms)
        return None if row is None else row.id

    def _find_row(self, forms: list[str]) -> MemberRecord | None:
        """The account under the first of ``forms`` (:func:`lookup_forms`) that has one: an
        account made before addresses were checked as now may be under its earlier form."""
        for form in forms:
            row = self._members.find_by_index(self._blind_index.digest(form))
            if row is not None:
                return row
        return None

    def find_by_index(self, index: bytes) -> str | None:
        row = self._members.find_by_index(index)
        return None if row is None else row.id

    def has_second_factor(self, member_id: str) -> bool:
        row = self._members.get(member_id)
        return row is not None and row.totp_sealed is not None

    # -- roles -----------------------------------------------------------------------------
    def role(self, member_id: str) -> str | None:
        """The account's role, or ``None`` when there is no such account (any more)."""
        row = self._members.get(member_id)
        return None if row is None else row.role

    def set_role(self, member_id: str, role: str) -> bool:
        """Give the account ``role``; whether anything changed. It takes effect on the
        account's very next request: the role is read on each one, never kept in a session."""
        if role not in ROLES:
            raise ValidationError({"role": [f"Not a role: {role[:40]!r}."]})
        with self._members.transaction():
            held = self.role(member_id)
            if held is None:
                raise NotFoundError("no such member")
            if role in STAFF_ROLES:
                if not self.has_second_factor(member_id):
                    raise ConflictError(
                        f"that account has no two-step sign-in; {_a(ROLE_NAMES[role])} must"
                        " turn it on (Security page) before the role is given")
                if held not in (MEMBER, role):
                    raise ConflictError(
                        f"that account is {_a(ROLE_NAMES[held])}; an account holds one of the"
                        f" two roles only, so revoke that one first")
            return self._members.set_role(member_id, role)

    def deletion_problem(self, member_id: str) -> str | None:
        """Why the account may not be deleted by its holder now, or ``None``. A compliance
        officer's or administrator's account goes only once the operator has revoked the role
        (``vrmvault officer revoke``), as two-step sign-in stays on while a role is held:
        deleting an account deletes the reveals it made, which every officer is shown."""
        role = self.role(member_id)
        if role not in STAFF_ROLES:
            return None
        return (f"You are {'an' if role == ADMINISTRATOR else 'a'} {ROLE_NAMES[role]}: your"
                " account can be deleted once the role is revoked, so that what you did in it"
                " stays on record. Ask the operator to revoke the role first.")

    def count_with_role(self, roles: tuple[str, ...]) -> int:
        """How many accounts hold one of ``roles``, readable or not."""
        return sum(len(self._members.ids_with_role(role)) for role in roles)

    def with_role(self, role: str, *, readable_only: bool = False) -> list[Member]:
        """The accounts that have ``role``, oldest first; ``readable_only``: without those
        whose key is missing (lost in a restore), instead of raising for them."""
        found = []
        for member_id in self._members.ids_with_role(role):
            try:
                found.append(self.get(member_id))
            except MemberKeyMissingError:
                if not readable_only:
                    raise
        return found

    # -- authentication --------------------------------------------------------------------
    def authenticate(self, email: str, password: str, *, client: str,
                     device: str | None = None) -> str:
        """The member id for these credentials; raises for wrong, throttled or 2FA-needed.

        ``device`` is the browser's device cookie, if it sent one (see the module docstring)."""
        forms = lookup_forms(email)
        if not forms:
            raise AuthenticationError()
        row = self._find_row(forms)
        email = forms[0]
        subjects = self._throttle_subjects_for(
            row, device, untrusted=("address:" + email, "client:" + client))
        attempt = self.throttle.attempt(*subjects)
        if not self._hasher.verify(row.password_hash if row else None, password) or row is None:
            raise AuthenticationError()   # the attempt stays counted
        self.throttle.succeeded(*subjects, attempt=attempt)
        member_id = row.id
        if self._hasher.needs_rehash(row.password_hash):
            self._members.set_password_hash(member_id, self._hasher.hash(password))
        if row.totp_sealed is not None:
            raise SecondFactorRequiredError(member_id)
        return member_id

    def _throttle_subjects_for(self, row: MemberRecord | None, device: str | None, *,
                               untrusted: tuple[str, ...]) -> tuple[bytes, ...]:
        """What an attempt counts against: the device alone when its cookie is valid for this
        account, else each of ``untrusted`` (the account, the client)."""
        if row is not None and device:
            nonce = self._devices.nonce_if_valid(device, row.id, row.password_hash)
            if nonce is not None:
                return (self._throttle_subjects.digest("device:" + nonce),)
        return tuple(self._throttle_subjects.digest(subject) for subject in untrusted)

    def device_cookie(self, member_id: str) -> str:
        """A new device cookie for a browser the member has just signed in with."""
        row = self._members.get(member_id)
        if row is None:
            raise NotFoundError("no such member")
        return self._devices.issue(member_id, row.password_hash)

    def clear_untrusted_lock(self, email: str) -> None:
        """Forget failed sign-ins counted against the account (after a password reset)."""
        self.throttle.succeeded(self._throttle_subjects.digest("address:" + email))

    def check_password(self, member_id: str, password: str) -> bool:
        """Re-authentication before a destructive step; throttled like sign-in."""
        subject = self._throttle_subjects.digest("reauth:" + member_id)
        self.throttle.attempt(subject)
        row = self._members.get(member_id)
        if row is None or not self._hasher.verify(row.password_hash, password):
            return False   # the attempt stays counted
        self.throttle.succeeded(subject)
        return True

    # -- TOTP (RFC 6238) -------------------------------------------------------------------
    @staticmethod
    def new_totp_secret() -> str:
        return pyotp.random_base32()

    def totp_uri(self, member_id: str, secret: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(
            name=self.get(member_id).email, issuer_name="vrmvault"
        )

    def seal_pending_totp(self, member_id: str, secret: str) -> str:
        """The secret being set up, sealed for keeping in the web session until confirmed."""
        sealed = self._keys.cipher(member_id).seal_text(
            associated_data(member_id, "members", member_id, "totp-pending"), secret)
        return base64.urlsafe_b64encode(sealed).decode()

    def open_pending_totp(self, member_id: str, token: str) -> str:
        try:
            sealed = base64.urlsafe_b64decode(token.encode())
        except (ValueError, TypeError) as exc:
            raise IntegrityError("a pending TOTP secret is damaged") from exc
        return self._keys.cipher(member_id).open_text(
            associated_data(member_id, "members", member_id, "totp-pending"), sealed)

    def enable_totp(self, member_id: str, secret: str, code: str) -> list[str]:
        """Turn two-step sign-in on; the recovery codes to show the member, once."""
        # Replacing a second factor that is on would let a session holder lock the owner out:
        # it must be turned off (which needs the password) first.
        row = self._members.get(member_id)
        if row is not None and row.totp_sealed is not None:
            raise ConflictError("Two-step sign-in is on already; turn it off first.")
        step = self._matching_step(secret, code, last_step=None)
        if step is None:
            raise ValidationError({"code": ["That code is not right. Codes change every 30 s."]})
        sealed = self._keys.cipher(member_id).seal_text(
            associated_data(member_id, "members", member_id, "totp"), secret
        )
        with self._members.transaction():
            self._members.set_second_factor(member_id, sealed, step)
            return self.recovery_codes.generate(member_id)

    def disable_totp(self, member_id: str) -> None:
        """Turn two-step sign-in off (and delete the recovery codes); refused for an officer
        or administrator, whose role needs it: the operator revokes the role first
        (``vrmvault officer``)."""
        with self._members.transaction():
            role = self.role(member_id)
            if role == COMPLIANCE:
                raise ConflictError("You are a compliance officer, and officers must keep"
                                    " two-step sign-in on. Ask the operator to revoke the role"
                                    " first.")
            if role == ADMINISTRATOR:
                raise ConflictError("You are an administrator, and administrators must keep"
                                    " two-step sign-in on. Ask the operator to revoke the role"
                                    " first.")
            self._members.set_second_factor(member_id, None, None)
            self.recovery_codes.delete(member_id)

    def verify_totp(self, member_id: str, code: str, *, client: str,
                    device: str | None = None) -> str:
        """Check the sign-in's second step: a TOTP code, or else one of the member's recovery
        codes (spent by this). Which one it was: ``"totp"`` or ``"recovery"``."""
        row = self._members.get(member_id)
        subjects = self._throttle_subjects_for(
            row, device, untrusted=("totp:" + member_id, "client:" + client))
        # A wrong code counts against the client too, but the client's lock does not bar this
        # step: the right password just given from it counted as a failure until checked, and
        # on a network a stranger's guesses had locked, that count's own lock (32 s after
        # eight guesses, 15 min after more) refused the code, past the step's 5 minutes. The
        # code's guesses are limited per member, by the first subject.
        attempt = self.throttle.attempt(subjects[0], unchecked=subjects[1:])
        if looks_like_recovery_code(code):
            if not (self.has_second_factor(member_id)
                    and self.recovery_codes.use(member_id, code)):
                raise AuthenticationError("That code is not right.")   # stays counted
            self.throttle.succeeded(*subjects, attempt=attempt)
            return "recovery"
        # Read and advance the last accepted step under the write lock, so two concurrent
        # requests cannot both accept the same code.
        with self._members.transaction():
            row = self._members.get(member_id)
            if row is None or row.totp_sealed is None:
                raise AuthenticationError()
            secret = self._keys.cipher(member_id).open_text(
                associated_data(member_id, "members", member_id, "totp"), row.totp_sealed
            )
            step = self._matching_step(secret, code, last_step=row.totp_last_step)
            if step is not None:
                self._members.set_last_step(member_id, step)
        if step is None:
            raise AuthenticationError("That code is not right.")   # the attempt stays counted
        self.throttle.succeeded(*subjects, attempt=attempt)
        return "totp"

    def _matching_step(self, secret: str, code: str, *, last_step: int | None) -> int | None:
        code = (code or "").strip().replace(" ", "")
        if not (code.isdigit() and len(code) == 6):
            return None
        totp = pyotp.TOTP(secret)
        now = self._clock()
        current = int(now) // totp.interval
        for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
            if last_step is not None and step <= last_step:
                continue  # a code is good once (RFC 6238 sec. 5.2)
            if pyotp.utils.strings_equal(totp.at(step * totp.interval), code):
                return step
        return None
