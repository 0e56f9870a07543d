"""Domain exceptions of intent casting.

Bad input is the vault's ``ValidationError`` (``errors`` maps field -> messages), a state that
does not take the request its ``ConflictError``, a record of another member or brand (or none)
its ``NotFoundError``. What is intent casting's own derives from :class:`IntentError`::

    VrmvaultError (vrmvault/errors.py)
    └── IntentError                      500  internal
        └── LimitExceededError           429  a brand's offers over its limit
"""

from __future__ import annotations

from typing import Any

from vrmvault.errors import VrmvaultError


class IntentError(VrmvaultError):
    type = "intent-internal"
    title = "Intent casting error"


class LimitExceededError(IntentError):
    """A brand made as many offers as it may: on this intent, or today (UTC).

    Shaped like a ``ValidationError`` (``errors`` per field, here ``offer``) so a front door can
    show it the same way, with the seconds until the brand may try again.
    """

    status = 429
    type = "offer-limit"
    title = "Too many offers"

    def __init__(self, limit: int, retry_after: int, per: str = "day") -> None:
        message = (f"A brand may make at most {limit} offers on one intent." if per == "intent"
                   else f"A brand may make at most {limit} offers a day (UTC).")
        super().__init__(message)
        self.errors = {"offer": [message]}
        self.limit = limit
        self.per = per
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}

    def extensions(self) -> dict[str, Any]:
        return {"errors": self.errors, "retry_after": self.retry_after}
