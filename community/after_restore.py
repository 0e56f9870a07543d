"""After a restore: the communities members left and brands closed since the backup, left and
closed again in the data store (as consent/after_restore.py does for grants).

A backup of the data store is older than the ledger, which is not restored with it. The
ledger's community entries (consent/event_details.py) carry ids only:
``community:member:joined`` and ``community:member:left`` the community, by the member's
pseudonym; ``community:closed`` the community, by its brand. The grants a leaving withdrew
and a closing released have entries of their own, which the grants' reapplication reads
(consent/after_restore.py); this module does the rest.

Invariants:
- A membership the restored store holds is deleted again, with its grant links, ideas and
  votes (as leaving deletes them), when the ledger records its member leaving that community
  after the join that made it: the last ``joined`` entry of the pair recorded within
  :data:`JOIN_SLACK` seconds from the membership's time of joining (an entry is appended after
  its row is written, and may wait for the ledger's lock; a leaving and a join again in one
  second are told apart by their order). With no such entry, any ``left`` entry recorded at or
  after that time ends it (the stricter reading). A leaving and a join again since, both
  within that slack of the first join, are not told apart from a join before the backup: the
  membership stays (its member chose to be in, and is).
- A community the ledger records closed is closed again, at the time recorded, if the store
  holds it open; its memberships stay, as closing leaves them.
- Only in the direction of less access: nothing is given. A join since (a first one, or one
  after leaving) is not made again: its grants were given since and are lost too, and the
  member joins again; a community opened since is not in the store and stays absent.
- Nothing is appended to the ledger: the entries are there already. Running it twice changes
  nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from consent.events import EventTag
from consent.ledger_search import tagged
from consent.repositories import LedgerSearchRepository

from .repositories import CommunityRepository, Membership

MEMBERSHIP_TAGS = (EventTag.COMMUNITY_MEMBER_JOINED, EventTag.COMMUNITY_MEMBER_LEFT)
#: How long after a membership's row was written its ``joined`` entry may be appended
#: (seconds).
JOIN_SLACK = 60


@dataclass(frozen=True)
class RestoredCommunities:
    """What the reapplication did: memberships ended again, communities closed again."""

    left: int
    closed: int


@dataclass(frozen=True)
class _Entry:
    tag: str
    at: int


class CommunityRestorer:
    """The data store's memberships and communities brought to what the ledger recorded left
    and closed (the module docstring); ``principal(member_id)``: a member's ledger pseudonym,
    ``member_ids``: the accounts the store holds."""

    def __init__(self, *, search: LedgerSearchRepository, communities: CommunityRepository,
                 member_ids: Iterable[str], principal: Callable[[str], str]) -> None:
        self._search = search
        self._communities = communities
        self._members = {principal(member_id): member_id for member_id in member_ids}

    def reapply(self) -> RestoredCommunities:
        """Leave and close again, in one transaction of the data store: all or nothing."""
        with self._communities.transaction():
            return RestoredCommunities(left=self._leave_again(), closed=self._close_again())

    def _leave_again(self) -> int:
        recorded: dict[tuple[str, str], list[_Entry]] = {}    # (member, community) -> entries
        for hit in tagged(self._search, MEMBERSHIP_TAGS):
            if hit.row.principal is not None:
                recorded.setdefault((hit.row.principal, hit.details()["community"]), []).append(
                    _Entry(hit.row.tag, hit.row.at))
        left = 0
        for (who, community_id), entries in recorded.items():
            member_id = self._members.get(who)
            number = None if member_id is None else self._communities.member_number(member_id)
            if number is None:
                continue                    # erased, or an account made since the backup
            membership = self._communities.membership(community_id, number)
            if membership is not None and _ended(membership, entries[::-1]):
                left += self._communities.remove_member(community_id, number)
        return left

    def _close_again(self) -> int:
        closed = 0
        for hit in tagged(self._search, (EventTag.COMMUNITY_CLOSED,)):
            closed += self._communities.close(hit.details()["community"], hit.row.at)
        return closed


def _ended(membership: Membership, entries: list[_Entry]) -> bool:
    """Whether ``entries`` (of the membership's member and community, oldest first) record a
    leaving after the join that made ``membership``."""
    since = [entry for entry in entries if entry.at >= membership.joined_at]
    made = [index for index, entry in enumerate(since)
            if entry.tag == EventTag.COMMUNITY_MEMBER_JOINED
            and entry.at <= membership.joined_at + JOIN_SLACK]
    after = since[made[-1]:] if made else since
    return any(entry.tag == EventTag.COMMUNITY_MEMBER_LEFT for entry in after)
