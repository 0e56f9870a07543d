"""E-mail addresses as the vault accepts, stores, looks up and mails them.

Every address that enters (sign-up, sign-in, a reset request, the operator's commands, the
profile's contact address) is checked by the maintained ``email-validator`` package, offline
(no DNS look-up). A login address is kept in one normal form, the validator's lower-cased:
that form is sealed and the blind index is computed over it, so the same address typed
another way (``Alice@Example.ORG``; ``x@xn--exmple-cua.org`` for ``x@exämple.org``) is the
same account.

Invariants:
- Refused: anything that is not one plain address (display names, angle brackets, quoted local
  parts, comments), IP addresses in brackets (domain literals), special-use domains such as
  ``.invalid`` or ``localhost``.
- Internationalised domains are accepted, stored in their Unicode form and mailed in their
  IDNA form (:func:`transport_address`), which every SMTP server takes. Letters outside ASCII
  before the ``@`` are accepted too: the vault's SMTP client sends them with SMTPUTF8 (RFC 6531)
  when the relay offers it, and when it does not the page says so next to the address
  (:data:`NOT_DELIVERABLE_HERE`, ``vault.errors.RecipientNotSupportedError``); the message
  carries them as UTF-8 (RFC 6532, ``vault/mail.py``), never as encoded words.
- Accounts made before this check keep signing in: :func:`lookup_forms` also gives the form
  the vault used then (NFKC, trimmed, lower-cased) when it differs.
- Reasons are in plain words, for the field they are shown next to.
"""

from __future__ import annotations

import contextlib
import unicodedata

from email_validator import EmailNotValidError, validate_email

from .errors import ValidationError

MAX_EMAIL = 254
#: Shown next to the address when the operator's mail server cannot carry it (no SMTPUTF8).
NOT_DELIVERABLE_HERE = ("This vault's mail server cannot send to an address with letters other"
                        " than a to z before the @. Use another address.")
FIELD = "email"
EXAMPLE = "Enter an e-mail address like name@example.org."


def _validated(text: str) -> tuple[str, str]:
    """``(normal form, IDNA form)`` of ``text``, or ``ValueError`` with a plain reason."""
    if not text:
        raise ValueError("Enter an e-mail address.")
    if len(text) > MAX_EMAIL:
        raise ValueError(f"Use at most {MAX_EMAIL} characters.")
    if "<" in text or ">" in text:
        raise ValueError("An e-mail address cannot contain < or >. " + EXAMPLE)
    local, at, domain = text.rpartition("@")
    if not at or not local:
        raise ValueError(EXAMPLE)
    if domain.startswith("["):
        raise ValueError("Use a domain name after the @ (like example.org), not an address in"
                         " brackets.")
    try:
        result = validate_email(text, check_deliverability=False, allow_smtputf8=True,
                                allow_domain_literal=False, allow_quoted_local=False,
                                allow_display_name=False, strict=True)
    except EmailNotValidError as exc:
        reason = str(exc).replace("email address", "e-mail address").replace("@-sign", "@")
        raise ValueError(reason) from None
    return result.normalized, f"{result.local_part}@{result.ascii_domain}"


def _trimmed(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw).strip()


def comparable(address: str) -> str:
    """``address`` as two mentions of one address compare equal (NFKC, trimmed, lower case):
    the form accounts made before the check were stored in, and how the maildir matches
    recipients."""
    return _trimmed(address).lower()


def normalise_email(raw: object, *, field: str = FIELD) -> str:
    """The normal form of an address (stored, and looked up), or :class:`ValidationError`
    naming ``field``."""
    if not isinstance(raw, str):
        raise ValidationError({field: ["Enter an e-mail address."]})
    try:
        return _validated(_trimmed(raw))[0].lower()
    except ValueError as exc:
        raise ValidationError({field: [str(exc)]}) from None


def check_email(text: str) -> str:
    """A contact address (never looked up) in the validator's form, its part before the @ as
    the member typed it; ``ValueError`` with the reason in plain words."""
    return _validated(_trimmed(text))[0]


def lookup_forms(raw: object) -> list[str]:
    """The forms under which an account with this address may be stored: the normal form,
    then the form of accounts made before the check, if it differs. Empty if neither applies
    (the address can belong to no account)."""
    if not isinstance(raw, str):
        return []
    text = _trimmed(raw)
    forms = []
    with contextlib.suppress(ValueError):      # an address the check refuses has no normal form
        forms.append(_validated(text)[0].lower())
    earlier = comparable(text)
    if "@" in earlier and len(earlier) <= MAX_EMAIL and earlier not in forms:
        forms.append(earlier)
    return forms


def transport_address(email: str) -> str:
    """The address to hand the mail transport: the domain in its IDNA (ASCII) form, the part
    before the @ as it is (ASCII, or UTF-8 for SMTPUTF8). An address the check refuses (an
    account made before it) comes back unchanged."""
    try:
        return _validated(email)[1]
    except ValueError:
        return email
