"""Device cookies: a member's known browsers are spared the locks strangers can trigger.

After OWASP's "Slow down online guessing attacks with device cookies". A successful sign-in
gives the browser a cookie ``nonce.mac``, where the mac is HMAC-SHA256, under a key derived from
the master key, over the account id, the nonce and the account's current password hash. Nothing
is stored: a cookie is valid for an account when its mac matches that account, so it holds no
identifier (no account id, no address), cannot be forged without the key, and dies when the
password changes (a reset, or a re-hash at a higher cost) or the account is erased.

The throttle (``vault/throttle.py``, used by ``vault/members.py``) then counts:

- a sign-in presenting a valid device cookie for the account it names: against that device
  only (its own budget, locked after the same free failures), never against the client address
  or the account's lock for untrusted clients, so a stranger's failures cannot lock it out;
- every other sign-in (untrusted): against the account and against the client address, as
  before, so guessing stays slow per account and per client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

NONCE_BYTES = 18
MAX_COOKIE = 100
LIFETIME = 180 * 24 * 60 * 60          # how long a browser keeps the cookie (seconds)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class DeviceCookies:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "DeviceCookies(<key hidden>)"

    def _mac(self, member_id: str, nonce: str, password_hash: str) -> str:
        message = f"{member_id}\x1f{nonce}\x1f{password_hash}".encode()
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest())

    def issue(self, member_id: str, password_hash: str) -> str:
        nonce = _b64(secrets.token_bytes(NONCE_BYTES))
        return f"{nonce}.{self._mac(member_id, nonce, password_hash)}"

    def nonce_if_valid(self, cookie: str | None, member_id: str, password_hash: str
                       ) -> str | None:
        """The cookie's nonce when it is a valid device cookie for this account, else None."""
        if not cookie or len(cookie) > MAX_COOKIE or cookie.count(".") != 1:
            return None
        nonce, mac = cookie.split(".")
        if not nonce or not hmac.compare_digest(mac, self._mac(member_id, nonce,
                                                                password_hash)):
            return None
        return nonce
