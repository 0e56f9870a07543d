"""The demo's compliance officer: an account with the ``compliance`` role and two-step sign-in
on, so that the console can be tried on a demo store.

Its password and TOTP secret are generated here and printed once by ``vrmvault demo`` (the
secret also as a terminal QR code for an authenticator app); the store keeps only the
password's hash and the secret sealed, as for any account. A second run leaves an existing
officer as it is and says so: what was printed cannot be printed again.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass

import pyotp
import segno

from consent.context import Consent
from consent.event_details import RoleGranted
from vault.members import COMPLIANCE

OFFICER_EMAIL = "officer@vrmvault.example"
OPERATOR = "operator"           # as 'vrmvault officer grant' records it


@dataclass(frozen=True)
class DemoOfficer:
    email: str
    password: str
    totp_secret: str
    totp_uri: str

    def qr_code(self) -> str:
        """The ``otpauth://`` URI as a QR code of terminal characters (scan it with an
        authenticator app)."""
        out = io.StringIO()
        segno.make(self.totp_uri, error="m").terminal(out=out, compact=True)
        return out.getvalue()


def load_demo_officer(consent: Consent) -> DemoOfficer | None:
    """Make the demo officer; ``None`` when the account exists already (left as it is)."""
    members = consent.vault.members
    if members.find(OFFICER_EMAIL) is not None:
        return None
    password = "-".join(secrets.token_hex(3) for _ in range(4))     # 27 characters
    officer_id = members.register(OFFICER_EMAIL, password)
    secret = members.new_totp_secret()
    # The code of this very step is spent by turning it on: the first sign-in uses the next.
    members.enable_totp(officer_id, secret, pyotp.TOTP(secret).at(consent.vault.clock()))
    members.set_role(officer_id, COMPLIANCE)
    consent.ledger.record_event(actor=OPERATOR, details=RoleGranted(
        member=consent.principal(officer_id), role=COMPLIANCE))
    return DemoOfficer(OFFICER_EMAIL, password, secret, members.totp_uri(officer_id, secret))
