"""Domain exceptions of the brand gateway.

They extend the vault's tree, so ``web/errors.py`` and the command line turn them into answers in
the one place they already do, from the class attributes ``status`` and ``type``. Bad input to
the gateway (a redirect URI, a brand name) raises the vault's ``ValidationError``; an unknown
client or pseudonym the vault's ``NotFoundError``::

    VaultError (vault/errors.py)
    └── GatewayError                     500  internal
        └── ClientAuthenticationError    401  unknown client or wrong secret (never says which)
            └── ClientDisabledError      401  the secret is right but the client is disabled

The OAuth endpoints answer both with RFC 6749 sec. 5.2 ``invalid_client``.
"""

from __future__ import annotations

from vault.errors import VaultError


class GatewayError(VaultError):
    type = "gateway-internal"
    title = "Brand gateway error"


class ClientAuthenticationError(GatewayError):
    status = 401
    type = "invalid-client"
    title = "Client authentication failed"


class ClientDisabledError(ClientAuthenticationError):
    """Raised only after the secret matched, so it tells nothing to someone guessing secrets."""

    type = "client-disabled"
    title = "This client is disabled"
