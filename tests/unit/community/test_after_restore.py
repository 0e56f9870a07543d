"""After a restore, a membership is ended again only by a leaving recorded after the join that
made it (community/after_restore.py), and a store that was not restored is left as it is."""

from __future__ import annotations

import pytest

from community.after_restore import JOIN_SLACK, RestoredCommunities, _ended, _Entry
from community.communities import CommunityService
from community.membership import MembershipService
from community.repositories import Membership
from community.storage import community_restorer
from consent.context import Consent
from consent.events import EventTag
from vault.home import Vault

from .conftest import IMPROVING, add_member

J = 1_800_000_000                           # when the store's membership was made
JOINED, LEFT = EventTag.COMMUNITY_MEMBER_JOINED, EventTag.COMMUNITY_MEMBER_LEFT


@pytest.mark.parametrize(("entries", "ended"), [
    ([(JOINED, J)], False),
    ([(JOINED, J), (LEFT, J + 100)], True),
    ([(JOINED, J + 1), (LEFT, J + 1)], True),                 # the entry a second later
    ([(JOINED, J - 900), (LEFT, J), (JOINED, J)], False),     # left and joined again at once
    ([(JOINED, J), (LEFT, J + 100), (JOINED, J + 200)], True),    # the join since is lost
    ([(LEFT, J + 100)], True),              # no join recorded since: the stricter reading
    ([(JOINED, J - 900), (LEFT, J - 800)], False),            # an earlier membership's
    ([(JOINED, J), (JOINED, J + 500), (LEFT, J + 600)], True),    # joined for more, then left
    ([(JOINED, J + JOIN_SLACK), (LEFT, J + 100)], True),      # its entry waited for the lock
], ids=["joined", "left since", "same second", "rejoined before", "rejoined since",
        "no join", "earlier membership", "joined again while in", "entry late"])
def test_a_membership_ends_again_only_with_a_leaving_after_its_join(
        entries: list[tuple[str, int]], ended: bool) -> None:
    membership = Membership("com_1", 1, J, "pseudonym")
    assert _ended(membership, [_Entry(tag, at) for tag, at in entries]) is ended


def test_a_store_that_was_not_restored_is_left_as_it_is(
        communities: CommunityService, membership: MembershipService, consent: Consent,
        vault: Vault, brand) -> None:
    alice = add_member(vault, consent)
    bob = add_member(vault, consent, "bob@example.org")
    first, second = (communities.open(brand.id, name=name, description="Tell us.",
                                      purposes=[IMPROVING]).id for name in ("One", "Two"))
    membership.join(alice, first)
    membership.leave(alice, first)
    membership.join(alice, first)                       # again, in the same second
    membership.join(bob, first)
    membership.join(bob, second)
    membership.leave(bob, second)
    communities.close(brand.id, second)
    assert community_restorer(consent).reapply() == RestoredCommunities(left=0, closed=0)
    assert [c.community.id for c in membership.communities(alice)] == [first]
