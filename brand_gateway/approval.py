"""The approval of a brand's authorization request: what the member's Allow records.

In one data-store transaction, in this order: the IEEE 7012 agreement where the brand accepts
the member's proffered term as standing policy; then, per purpose the member left a field
ticked for, the grant and its signed receipt (through ``consent/``); then the token family
over those grants; then the authorization code, issued by ``issue_code`` (the authorization
server's code grant). If any step fails (the code included), nothing of it stays: no grant
without a code and no code without its grants.

A plain service: no Flask, dependencies keyword-only. The consent screen
(:mod:`brand_gateway.authorization_endpoint`) checks the member's choice of fields before it
calls :func:`approve`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set
from typing import TypeVar

from consent.context import Consent
from consent.model import AgreementStatus
from vault.errors import ConflictError
from vault.repositories import Store

from .authorizations import AuthorizationStore, Family
from .clients import OAuthClient
from .rar import MemberDataDetail

R = TypeVar("R")

COLLECTION_METHOD = "vrmvault consent screen (OAuth 2.0 authorization request)"


def approve(*, database: Store, consent: Consent, authorizations: AuthorizationStore,
            client: OAuthClient, member_id: str, details: Sequence[MemberDataDetail],
            ticked: Mapping[int, Set[str]], new_term: str | None,
            issue_code: Callable[[Family], R]) -> R:
    """Record the member's approval and issue the code; what ``issue_code`` returned.

    ``ticked[i]``: the fields of ``details[i]`` the member left ticked (a subset of its
    fields; an empty set grants nothing for that purpose, and at least one is not empty).
    ``new_term``: the member's term the brand accepts on this approval, if any.
    Raises what ``consent/`` raises (``ValidationError``, ``ConflictError``) or what
    ``issue_code`` raises, with everything rolled back.
    """
    with database.transaction():
        if new_term is not None:
            agree(consent, member_id, client.brand_id)
        granted, grant_ids, ends = [], [], []
        for index, detail in enumerate(details):
            fields = ticked.get(index, set())
            if not fields:
                continue     # every field of this purpose unticked: nothing granted for it
            record, _receipt = consent.grants.grant(
                member_id, detail.brand_request(client.brand_id), fields=set(fields),
                collection_method=COLLECTION_METHOD)
            granted.append(detail.as_granted(set(fields), grant_id=record.id,
                                             ends_at=record.ends_at))
            grant_ids.append(record.id)
            ends.append(record.ends_at)
        family = authorizations.create_family(client_id=client.client_id, member_id=member_id,
                                              grant_ids=grant_ids,
                                              authorization_details=granted,
                                              grants_end=max(ends))
        return issue_code(family)


def agree(consent: Consent, member_id: str, brand_id: str) -> None:
    """Proffer the member's term to the brand and record the brand's standing acceptance."""
    agreements = consent.agreements
    waiting = [a for a in agreements.for_member(member_id)
               if a.brand_id == brand_id and a.status is AgreementStatus.PROFFERED]
    offer = waiting[0] if waiting else agreements.proffer(member_id, brand_id)
    if offer.proffered != consent.terms.get(member_id).agreement:
        raise ConflictError("An earlier offer of other terms to this brand is waiting; "
                            "answer it on your Sharing page first.")
    agreements.brand_accepts(offer.id, brand_id)
