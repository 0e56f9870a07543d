"""The member's community pages: communities (joined, open to join), a community with its
challenges, joining and leaving, ideas posted, edited, withdrawn and voted on.

Signed-in members only (default deny, in ``before_request``), on their own membership: ids in
URLs name communities, challenges and ideas, and every action is checked against the member's
own membership and authorship by the services (community/). The one public page is the
invitation, ``/communities/<id>``: a community's name, brand and purposes (never who is in
it), which sends a visitor to sign in and back to the community's page; no personal data is
in the URL.
"""

from __future__ import annotations

import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from community.cocreation import IDEA_MAX, NO_SUCH_IDEA, CoCreationService
from community.communities import NO_SUCH_COMMUNITY
from community.membership import COMMUNITY_FIELDS, DAYS, MembershipService
from community.repositories import Community
from community.storage import cocreation_service, membership_service
from consent.vocabulary import PURPOSE_BY_CODE, field_label
from vault.errors import ConflictError, NotFoundError, ValidationError

from .forms import FormSchema, form_data, load, member_words, text, tick
from .member import require_member
from .sessions import current_member_id
from .vaults import get_consent, get_vault

bp = Blueprint("communities", __name__, url_prefix="/member")
bp.before_request(require_member)
invitations = Blueprint("invitations", __name__)

#: Where the sign-in page returns to after an invitation (a path of ours, nothing personal).
NEXT_KEY = "community_next"
_COMMUNITY_ID = re.compile(r"^com_[0-9a-f]{24}$")
_NEXT_PATH = re.compile(r"^/member/communities/com_[0-9a-f]{24}$")
_JOINING_FIELDS = [field_label(f) if f != "survey" else "Survey answers"
                   for f in COMMUNITY_FIELDS]


class JoinForm(FormSchema):
    individual = tick("Also let the brand use my answers individually, not only in totals",
                      empty="Tick the box or leave it empty.")


class IdeaForm(FormSchema):
    text = text("Your idea", max_length=2 * IDEA_MAX, shown_max=IDEA_MAX, required=True,
                empty="Write your idea.")


def pending_community() -> str | None:
    """The community page to return to after sign-in, if an invitation sent the visitor."""
    target = session.pop(NEXT_KEY, None)
    return target if isinstance(target, str) and _NEXT_PATH.match(target) else None


def _memberships() -> MembershipService:
    return membership_service(get_consent())


def _cocreation() -> CoCreationService:
    return cocreation_service(get_consent())


def _brand_names() -> dict[str, str]:
    return {b.id: b.name for b in get_vault().brands.all()}


# -- the invitation (public) ----------------------------------------------------------------
@invitations.get("/communities/<community_id>")
def invitation(community_id: str) -> str | Response:
    if not _COMMUNITY_ID.match(community_id):
        raise NotFoundError(NO_SUCH_COMMUNITY)
    community = _memberships().community(community_id)
    page = url_for("communities.community", community_id=community_id)
    if current_member_id() is not None:
        return redirect(page)
    session[NEXT_KEY] = page
    return render_template("community_invitation.html", community=community,
                           brand=_brand_names().get(community.brand_id, ""),
                           purposes=[PURPOSE_BY_CODE[p] for p in community.purposes])


# -- the member's pages ---------------------------------------------------------------------
@bp.get("/communities")
def overview() -> str:
    memberships = _memberships()
    return render_template("communities.html", joined=memberships.communities(g.member_id),
                           open_to_join=memberships.open_to_join(g.member_id),
                           brands=_brand_names(), purposes=PURPOSE_BY_CODE)


def _community_page(community: Community, *, errors: dict[str, list[str]] | None = None,
                    values: dict[str, Any] | None = None, status: int = 200
                    ) -> tuple[str, int]:
    mine = _memberships().membership(g.member_id, community.id)
    challenges = _cocreation().challenges(g.member_id, community.id) if mine else []
    terms = get_consent().terms.get(g.member_id)
    return render_template(
        "community.html", community=community, mine=mine, challenges=challenges,
        brand=_brand_names().get(community.brand_id, ""),
        purposes=[PURPOSE_BY_CODE[p] for p in community.purposes],
        fields=_JOINING_FIELDS, days=DAYS, aggregate_allowed=terms.aggregate_allowed,
        minimum_cohort=current_app.config["VRMVAULT_MINIMUM_COHORT"],
        period_days=current_app.config["VRMVAULT_INSIGHTS_PERIOD_DAYS"],
        errors=errors or {}, values=values or {}), status


@bp.get("/communities/<community_id>")
def community(community_id: str) -> tuple[str, int]:
    found = _memberships().community(community_id)
    return _community_page(found)


@bp.post("/communities/<community_id>/join")
def join(community_id: str) -> Response | tuple[str, int]:
    memberships = _memberships()
    found = memberships.community(community_id)
    submitted = request.form.to_dict()
    try:
        fields = load(JoinForm(), form_data(request.form))
        memberships.join(g.member_id, community_id, individual=fields.get("individual") == "on")
    except ValidationError as exc:
        return _community_page(found, errors=member_words(JoinForm(), exc.errors),
                               values=submitted, status=422)
    except ConflictError as exc:
        return _community_page(found, errors={"form": [exc.message]}, values=submitted,
                               status=409)
    flash(f"You joined {found.name}. Your grants and their receipts are on your Sharing page.",
          "success")
    return redirect(url_for("communities.community", community_id=community_id))


@bp.post("/communities/<community_id>/leave")
def leave(community_id: str) -> Response:
    found = _memberships().community(community_id)
    _memberships().leave(g.member_id, community_id)
    flash(f"You left {found.name}. The grants it held are withdrawn (receipts on your Sharing "
          "page) and your ideas and votes there are deleted.", "success")
    return redirect(url_for("communities.overview"))


def _challenge_page(challenge_id: str, *, errors: dict[str, list[str]] | None = None,
                    values: dict[str, Any] | None = None, status: int = 200
                    ) -> tuple[str, int]:
    cocreation = _cocreation()
    challenge, found = cocreation.challenge(g.member_id, challenge_id)
    mine = _memberships().membership(g.member_id, found.id)
    return render_template(
        "challenge.html", challenge=challenge, community=found, mine=mine,
        ideas=cocreation.ideas(g.member_id, challenge_id),
        brand=_brand_names().get(found.brand_id, ""), idea_max=IDEA_MAX,
        errors=errors or {}, values=values or {}), status


@bp.get("/challenges/<challenge_id>")
def challenge(challenge_id: str) -> tuple[str, int]:
    return _challenge_page(challenge_id)


@bp.post("/challenges/<challenge_id>/ideas")
def post_idea(challenge_id: str) -> Response | tuple[str, int]:
    submitted = request.form.to_dict()
    try:
        fields = load(IdeaForm(), form_data(request.form))
        _cocreation().post(g.member_id, challenge_id, fields["text"])
    except ValidationError as exc:
        return _challenge_page(challenge_id, errors=member_words(IdeaForm(), exc.errors),
                               values=submitted, status=422)
    except ConflictError as exc:
        return _challenge_page(challenge_id, errors={"form": [exc.message]}, values=submitted,
                               status=409)
    flash("Your idea is posted under your community pseudonym.", "success")
    return redirect(url_for("communities.challenge", challenge_id=challenge_id))


def _own_idea(idea_id: str) -> Any:
    for idea in _ideas_of_member():
        if idea.id == idea_id:
            return idea
    raise NotFoundError(NO_SUCH_IDEA)


def _ideas_of_member() -> list[Any]:
    return _cocreation().member_ideas(g.member_id)


@bp.route("/ideas/<idea_id>/edit", methods=["GET", "POST"])
def edit_idea(idea_id: str) -> str | Response | tuple[str, int]:
    idea = _own_idea(idea_id)
    if request.method == "GET":
        return render_template("idea_edit.html", idea=idea, errors={},
                               values={"text": idea.text}, idea_max=IDEA_MAX)
    submitted = request.form.to_dict()
    try:
        fields = load(IdeaForm(), form_data(request.form))
        _cocreation().edit(g.member_id, idea_id, fields["text"])
    except ValidationError as exc:
        return render_template("idea_edit.html", idea=idea,
                               errors=member_words(IdeaForm(), exc.errors), values=submitted,
                               idea_max=IDEA_MAX), 422
    except ConflictError as exc:
        return render_template("idea_edit.html", idea=idea, errors={"form": [exc.message]},
                               values=submitted, idea_max=IDEA_MAX), 409
    flash("Your idea is changed.", "success")
    return redirect(url_for("communities.challenge", challenge_id=idea.challenge_id))


@bp.post("/ideas/<idea_id>/withdraw")
def withdraw_idea(idea_id: str) -> Response:
    idea = _own_idea(idea_id)
    _cocreation().withdraw(g.member_id, idea_id)
    flash("Your idea is withdrawn: the brand and the community no longer see it.", "success")
    return redirect(url_for("communities.challenge", challenge_id=idea.challenge_id))


def _vote(idea_id: str, *, add: bool) -> Response:
    cocreation = _cocreation()
    target = request.form.get("challenge_id", "")
    try:
        if add:
            cocreation.vote(g.member_id, idea_id)
        else:
            cocreation.unvote(g.member_id, idea_id)
    except ConflictError as exc:
        flash(exc.message, "error")
    else:
        flash("Your vote is counted." if add else "Your vote is taken back.", "success")
    if re.fullmatch(r"chl_[0-9a-f]{24}", target):
        return redirect(url_for("communities.challenge", challenge_id=target))
    return redirect(url_for("communities.overview"))


@bp.post("/ideas/<idea_id>/vote")
def vote(idea_id: str) -> Response:
    return _vote(idea_id, add=True)


@bp.post("/ideas/<idea_id>/unvote")
def unvote(idea_id: str) -> Response:
    return _vote(idea_id, add=False)

