"""Domain exceptions of compliance: data subject requests, deadlines, reveals and reports.

``web/errors.py`` and the brand API turn them into answers, each in one place, from what each
class carries (``status``, ``type``, ``title``). Like the other areas' services, compliance's
raise the vault's ``ValidationError`` (a field broke a rule), ``ConflictError`` (the state does
not take the request) and ``NotFoundError`` (no such record, or one of another brand or member)
for bad input; what is compliance's own derives from :class:`ComplianceError`::

    VrmvaultError (vrmvault/errors.py)
    └── ComplianceError                  500  internal
"""

from __future__ import annotations

from vrmvault.errors import VrmvaultError


class ComplianceError(VrmvaultError):
    type = "compliance-internal"
    title = "Compliance error"
