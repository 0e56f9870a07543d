"""The root of every exception vrmvault raises, and what an answer over HTTP needs of one.

Each area draws its own tree in its own ``errors.py``; every tree roots here::

    VrmvaultError                 500  internal: its message is never shown to a client
    ├── VaultError                     vault/errors.py: the store, keys, members, mail
    ├── ConsentError                   consent/errors.py: grants, receipts, spools, the ledger
    ├── GatewayError                   brand_gateway/errors.py: OAuth clients, webhooks
    │   └── ResourceError              brand_gateway/api_errors.py: the brand API's requests
    └── WebError                       web/errors.py: requests the pages refuse before a view

Every class carries what its HTTP answer needs, so the one boundary (``web/errors.py``) reads
the answer off the exception and holds no per-class rules:

- ``status``: the HTTP status; 500 and above are answered with a generic page or problem that
  never echoes the exception, unless the class is ``operational``;
- ``operational``: a status of 500 or above that is a known state of the service, not a defect
  (a member's key lost in a restore: ``vault/errors.py``): answered from the class as a 4xx
  is, its message written for whoever asked and naming no internals;
- ``type``: the RFC 9457 problem type, a slug under :data:`PROBLEM_TYPE_BASE`, or ``None`` for
  ``about:blank`` (the title is then the status's reason phrase, RFC 9457 sec. 4.2.1);
- ``title``: a short summary for that type, the same for every occurrence;
- ``message`` (per instance): the problem's ``detail``, safe to show to whoever caused it,
  unless :meth:`VrmvaultError.public_detail` says otherwise (an operational error whose message
  is written for the operator at the command line, naming a setting: the client is told less);
- :meth:`VrmvaultError.headers` and :meth:`VrmvaultError.extensions`: response headers (e.g.
  ``Retry-After``) and extension members (e.g. ``errors`` naming each bad field) that depend on
  the instance.

Library errors (sqlcipher3, cryptography, a JSON or base64 decoder) never cross an area's
boundary as they are: each area translates them into one of its own with ``raise ... from exc``.
"""

from __future__ import annotations

from typing import Any

#: Problem types are URIs under this base (RFC 9457 sec. 3.1.1); ``type`` holds the last segment.
PROBLEM_TYPE_BASE = "https://vrmvault.example/problems/"


class VrmvaultError(Exception):
    status: int = 500
    operational: bool = False
    type: str | None = "internal"
    title: str = "Internal error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.title)
        self.message = message or self.title

    @classmethod
    def problem_type(cls) -> str:
        """The RFC 9457 ``type`` member: a URI under :data:`PROBLEM_TYPE_BASE`, or
        ``about:blank``."""
        return PROBLEM_TYPE_BASE + cls.type if cls.type else "about:blank"

    def public_detail(self) -> str:
        """The ``detail`` an HTTP answer gives (the message, unless the class says less)."""
        return self.message

    def headers(self) -> dict[str, str]:
        """Response headers this error's answer carries, beyond the content type."""
        return {}

    def extensions(self) -> dict[str, Any]:
        """RFC 9457 extension members of this error's problem details (API answers only)."""
        return {}
