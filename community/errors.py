"""Domain exceptions of the insight community: communities, membership, co-creation, surveys
and closing the loop.

``web/errors.py`` and the brand API turn them into answers, each in one place, from what each
class carries (``status``, ``type``, ``title``). Like consent's services, the community's raise
the vault's ``ValidationError`` (a field broke a rule: ``errors`` maps field -> messages),
``ConflictError`` (the state does not take the request: a community closed, a vote given
already) and ``NotFoundError`` (no such record, or one of another brand or member) for bad input;
what is the community's own derives from :class:`CommunityError`::

    VrmvaultError (vrmvault/errors.py)
    └── CommunityError                   500  internal
"""

from __future__ import annotations

from vrmvault.errors import VrmvaultError


class CommunityError(VrmvaultError):
    type = "community-internal"
    title = "Insight community error"
