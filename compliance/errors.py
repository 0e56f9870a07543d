"""Domain exceptions of compliance: data subject requests, deadlines, reveals and reports.

``web/errors.py`` and the brand API turn them into answers, each in one place, from what each
class carries (``status``, ``type``, ``title``). Like the other areas' services, compliance's
raise the vault's ``ValidationError`` (a field broke a rule), ``ConflictError`` (the state does
not take the request) and ``NotFoundError`` (no such record, or one of another brand or member)
for bad input; what is compliance's own derives from :class:`ComplianceError`::

    VrmvaultError (vrmvault/errors.py)
    └── ComplianceError                  500  internal
        └── RevealRefusedError           403  only a compliance officer may reveal an identity
"""

from __future__ import annotations

from vrmvault.errors import VrmvaultError


class ComplianceError(VrmvaultError):
    type = "compliance-internal"
    title = "Compliance error"


class RevealRefusedError(ComplianceError):
    """The account asking for a reveal is not a compliance officer (with two-step sign-in)."""

    status = 403
    type = "reveal-refused"
    title = "Only a compliance officer may reveal a member's identity"
