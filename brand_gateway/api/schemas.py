"""The brand API's marshmallow schemas, and the OpenAPI 3.1 document generated from them.

Query schemas are loaded on every request (``unknown = RAISE``: a parameter we do not know is a
400, never ignored). Response schemas describe what the blueprints of :mod:`brand_gateway.api`
return; the hot path builds its dicts directly rather than dumping through marshmallow, and a
test validates real responses against the generated document, so the two cannot drift apart.
The profile schema is generated from the vault's catalog, one typed property per attribute.

Schemas never query the store or read the current user (STYLE point 8).
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import RAISE, Schema, fields, pre_load, validate, validates_schema
from marshmallow import ValidationError as SchemaError

from brand_gateway.api.payloads import MAX_BODY
from brand_gateway.oauth import SCOPES
from community.cocreation import DESCRIPTION_MAX as CHALLENGE_DESCRIPTION_MAX
from community.cocreation import TITLE_MAX
from community.communities import COMMUNITY_PURPOSE_CODES, DESCRIPTION_MAX, NAME_MAX
from consent.model import AgreementStatus, GrantEvent
from consent.vocabulary import AGREEMENT_BY_CODE, PURPOSE_BY_CODE
from vault.catalog import ATTRIBUTES, TOUCHPOINT_KEYS, Attribute, DataType
from vault.feedback import MAX_COMMENT

API_VERSION = "1.0.0"
MAX_PAGE = 200
MAX_OFFSET = 100_000
DEFAULT_PAGE = 50
PROBLEM_MEDIA_TYPE = "application/problem+json"
_PURPOSES = list(PURPOSE_BY_CODE)
_PURPOSE_HELP = ("A DPV purpose code the token was authorized for; may be left out when the "
                 "token carries exactly one purpose.")


# -- queries --------------------------------------------------------------------------------------
class CommaSeparated(fields.Field):
    """``a,b,c`` -> ``["a", "b", "c"]``: each item one of ``choices``, duplicates dropped."""

    def __init__(self, choices: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.choices = choices
        self._allowed = frozenset(choices)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        if not isinstance(value, str) or not value.strip():
            raise SchemaError("Give a comma-separated list of field names.")
        items = [item.strip() for item in value.split(",")]
        if len(items) > len(self.choices) or any(not item for item in items):
            raise SchemaError("Give a comma-separated list of field names.")
        unknown = [item for item in items if item not in self._allowed]
        if unknown:
            raise SchemaError("Not a profile field: " + ", ".join(u[:40] for u in unknown[:3]))
        return list(dict.fromkeys(items))


#: RFC 3339 sec. 5.6's date-time (OpenAPI's and JSON Schema's ``date-time`` format): full date,
#: ``T``, full time with seconds, an optional fraction and ``Z`` or a numeric offset. ``T`` and
#: ``Z`` may be lower case (sec. 5.6, note), nothing else is optional.
_RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
                      r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})", re.ASCII)


class Rfc3339DateTime(fields.AwareDateTime):
    """A moment as RFC 3339 writes it, with its offset. marshmallow reads ISO 8601 through
    ``datetime.fromisoformat``, which also takes week dates (``2027-W01-1T00:00:00Z``), the
    basic format (``20270101T000000Z``), a space for ``T``, a comma for the fraction and times
    without seconds: none is the ``date-time`` the API documents, so each is refused here,
    before it is read as a moment the brand may not have meant."""

    default_error_messages = {"invalid": "Give an RFC 3339 date-time with its offset, such as"
                                         " 2027-01-20T18:00:00Z."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str) or not _RFC3339.fullmatch(value):
            raise self.make_error("invalid")
        # Python before 3.12 reads neither a lower-case T nor a lower-case Z.
        return super()._deserialize(value.upper(), attr, data, **kwargs)


# A number in a query string as JSON writes one (RFC 8259 sec. 6), in ASCII digits.
_QUERY_INTEGER = re.compile(r"-?[0-9]+", re.ASCII)
_QUERY_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?", re.ASCII)


class QuerySchema(Schema):
    class Meta:
        unknown = RAISE

    @pre_load
    def _plain_numbers(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Each number written as JSON writes one: marshmallow reads it with Python's int()
        and float(), which also take Arabic-Indic and other digits ('١'), '1_000', ' 5 '
        and '+5', none of them an integer or a number to the OpenAPI document."""
        errors = {}
        for name, field in self.load_fields.items():
            key = field.data_key or name
            value = data.get(key)
            if isinstance(field, fields.Number) and isinstance(value, str):
                grammar = _QUERY_INTEGER if isinstance(field, fields.Integer) else _QUERY_NUMBER
                if not grammar.fullmatch(value):
                    errors[key] = [field.error_messages["invalid"]]
        if errors:
            raise SchemaError(errors)
        return data


class MemberQuery(QuerySchema):
    """``GET /api/v1/member`` takes no parameters."""


_FIELD_NAME = "(?:" + "|".join(a.key for a in ATTRIBUTES) + ")"
_LIST_OF_FIELDS = f"^{_FIELD_NAME}(?:,{_FIELD_NAME})*$"


class ProfileQuery(QuerySchema):
    purpose = fields.String(validate=validate.OneOf(_PURPOSES),
                            metadata={"description": _PURPOSE_HELP})
    field_names = CommaSeparated(
        [a.key for a in ATTRIBUTES], data_key="fields",
        metadata={"description": "Comma-separated profile field names to read (default: every"
                                 " profile field the token names for the purpose).",
                  "pattern": _LIST_OF_FIELDS, "examples": ["given_name,city"]})


class FeedbackQuery(QuerySchema):
    purpose = fields.String(validate=validate.OneOf(_PURPOSES),
                            metadata={"description": _PURPOSE_HELP})
    limit = fields.Integer(load_default=DEFAULT_PAGE, validate=validate.Range(1, MAX_PAGE),
                           metadata={"description": "Entries per page."})
    offset = fields.Integer(load_default=0, validate=validate.Range(0, MAX_OFFSET),
                            metadata={"description": "Entries to skip (newest first)."})


_AGREEMENT_STATUSES = [s.value for s in AgreementStatus]
_TERMS = list(AGREEMENT_BY_CODE)
#: How the vault names an agreement: ``agr_`` and 24 hex digits.
AGREEMENT_ID_PATTERN = "^agr_[0-9a-f]{24}$"
WEBHOOK_ID_PATTERN = "^whk_[0-9a-f]{24}$"


class AgreementsQuery(QuerySchema):
    status = fields.String(validate=validate.OneOf(_AGREEMENT_STATUSES), metadata={
        "description": "Only agreements in this state: proffered (waiting for your answer),"
                       " countered (waiting for the member's), agreed, rejected, or withdrawn"
                       " (the member took the offer back before you answered)."})
    limit = fields.Integer(load_default=DEFAULT_PAGE, validate=validate.Range(1, MAX_PAGE),
                           metadata={"description": "Agreements per page."})
    offset = fields.Integer(load_default=0, validate=validate.Range(0, MAX_OFFSET),
                            metadata={"description": "Agreements to skip (latest change"
                                                     " first)."})


class AgreementAnswerSchema(Schema):
    """A brand's answer to a member's offer (IEEE 7012: accept, one counter-offer, reject)."""

    class Meta:
        unknown = RAISE

    answer = fields.String(required=True, validate=validate.OneOf(
        ["accept", "counter", "reject"]), metadata={
        "description": "accept the term offered, counter with another from the roster, or"
                       " reject the offer."})
    term = fields.String(validate=validate.OneOf(_TERMS), metadata={
        "description": "For a counter-offer only: the IEEE 7012 term (DPV P7012 code) you"
                       " offer instead."})

    @validates_schema
    def _term_only_with_counter(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("answer") == "counter" and "term" not in data:
            raise SchemaError("A counter-offer names a term from the roster.", "term")
        if data.get("answer") in ("accept", "reject") and "term" in data:
            raise SchemaError("Only a counter-offer names a term.", "term")


class NoBodySchema(Schema):
    """What an operation without parameters takes in its body: nothing, or ``{}``."""

    class Meta:
        unknown = RAISE


#: The request body of an operation that takes none (brand_gateway.api.payloads.no_body).
NO_BODY_REQUEST: dict[str, Any] = {
    "required": False,
    "description": "None, or the empty JSON object {}; anything else is refused (400, 415).",
    "content": {"application/json": {"schema": "NoBody"}}}


class OpenApiQuery(QuerySchema):
    """``GET /api/v1/openapi.json`` takes no parameters."""


class EmptyQuery(QuerySchema):
    """An operation that takes no query parameters."""


# -- responses ------------------------------------------------------------------------------------
def _attribute_field(spec: Attribute) -> fields.Field:
    about = {"description": spec.label + (" (sensitive: GDPR Art. 9)" if spec.sensitive else "")}
    if spec.type is DataType.INTEGER:
        return fields.Integer(validate=validate.Range(spec.minimum, spec.maximum),
                              metadata=about)
    if spec.type is DataType.CHOICES:
        return fields.List(fields.String(validate=validate.OneOf(spec.choices)), metadata=about)
    if spec.type is DataType.CHOICE:
        return fields.String(validate=validate.OneOf(spec.choices), metadata=about)
    if spec.type is DataType.DATE:
        return fields.Date(metadata=about)
    if spec.type is DataType.COUNTRY:
        return fields.String(validate=validate.Length(equal=2),
                             metadata={**about, "pattern": "^[A-Z]{2}$"})
    if spec.type is DataType.EMAIL:
        return fields.Email(validate=validate.Length(max=spec.max_length), metadata=about)
    return fields.String(validate=validate.Length(max=spec.max_length), metadata=about)


#: One optional, typed property per catalog attribute; only released fields are present.
ProfileValuesSchema = Schema.from_dict(
    {spec.key: _attribute_field(spec) for spec in ATTRIBUTES}, name="ProfileValues")


class AuthorizationSchema(Schema):
    purpose = fields.String(required=True, validate=validate.OneOf(_PURPOSES),
                            metadata={"description": "DPV purpose code."})
    purpose_label = fields.String(required=True)
    fields_ = fields.List(fields.String(), required=True, data_key="fields", metadata={
        "description": "Fields the member allows for this purpose now (a subset of the token's:"
                       " the member may have narrowed the grant since). \"feedback\" is the"
                       " feedback journal."})
    ends_at = fields.DateTime(required=True, allow_none=True, metadata={
        "description": "When the member's grant for this purpose ends (null: no longer live)."})


class MemberSchema(Schema):
    subject = fields.String(required=True, metadata={
        "description": "The member's pairwise pseudonym: stable for this brand, unrelated to"
                       " the id any other brand sees."})
    authorizations = fields.List(fields.Nested(AuthorizationSchema), required=True)
    token_expires_at = fields.DateTime(required=True)


class ProfileSchema(Schema):
    subject = fields.String(required=True)
    purpose = fields.String(required=True, validate=validate.OneOf(_PURPOSES))
    profile = fields.Nested(ProfileValuesSchema, required=True, metadata={
        "description": "The released fields that have a value."})
    withheld = fields.List(fields.String(), required=True, metadata={
        "description": "Requested fields not returned: not allowed for this purpose now, or"
                       " not filled in by the member. The two are deliberately"
                       " indistinguishable."})


class FeedbackEntrySchema(Schema):
    touchpoint = fields.String(required=True, validate=validate.OneOf(sorted(TOUCHPOINT_KEYS)))
    rating = fields.Integer(required=True, validate=validate.Range(1, 5))
    nps = fields.Integer(required=True, allow_none=True, validate=validate.Range(0, 10),
                         metadata={"description": "Would recommend, 0-10 (null: not given)."})
    occurred_on = fields.Date(required=True)
    comment = fields.String(required=True, validate=validate.Length(max=MAX_COMMENT))


class FeedbackSchema(Schema):
    subject = fields.String(required=True)
    purpose = fields.String(required=True, validate=validate.OneOf(_PURPOSES))
    entries = fields.List(fields.Nested(FeedbackEntrySchema), required=True, metadata={
        "description": "The member's journal entries about this brand only, newest first."})
    total = fields.Integer(required=True)
    next_offset = fields.Integer(required=True, allow_none=True)
    withheld = fields.List(fields.String(), required=True, metadata={
        "description": "[\"feedback\"] when the journal is not allowed for this purpose now."})


class ReceiptLedgerEntrySchema(Schema):
    log = fields.String(required=True, metadata={
        "description": "The log's name: the origin line of its signed checkpoints."})
    index = fields.Integer(required=True, validate=validate.Range(min=0), metadata={
        "description": "The entry's index in the log, as the signed receipt names it"
                       " (ledgerPosition.index)."})
    entry = fields.String(required=True, metadata={
        "description": "The entry's exact body (UTF-8 JSON): tag consent:receipt:issued, the"
                       " receipt's id and the SHA-256 of the receipt JWT in its details, your"
                       " pairwise subject as actor. Its leaf hash is SHA-256(0x00 || entry)."})
    leaf_hash = fields.String(required=True, metadata={
        "description": "SHA-256(0x00 || entry), standard base64."})


class ReceiptSchema(Schema):
    grant_id = fields.String(required=True)
    event = fields.String(required=True, validate=validate.OneOf(
        [e.value for e in GrantEvent]))
    issued_at = fields.DateTime(required=True)
    receipt = fields.String(required=True, metadata={
        "description": "The consent receipt as a JWT (Kantara v1.1 fields and the ISO/IEC TS"
                       " 27560 record), signed EdDSA (Ed25519); verify it with jwks_uri."})
    ledger = fields.Nested(ReceiptLedgerEntrySchema, required=True, allow_none=True, metadata={
        "description": "The receipt's entry in the vault's public log (C2SP tlog-tiles under"
                       " log_uri): with it and the public files alone, prove the receipt is in"
                       " the log. Null for receipts issued before receipts named their"
                       " position."})


class ReceiptsSchema(Schema):
    subject = fields.String(required=True)
    receipts = fields.List(fields.Nested(ReceiptSchema), required=True, metadata={
        "description": "The receipts of the member's grants of individual use to this brand,"
                       " newest first (a grant of aggregate use gives the brand nothing of"
                       " the member, so its receipt is not sent)."})
    jwks_uri = fields.Url(required=True)
    log_uri = fields.Url(required=True, metadata={
        "description": "The public log's prefix: <log_uri>checkpoint, <log_uri>tile/<L>/<N>"
                       " (C2SP tlog-tiles), <log_uri>key (the checkpoint verifier key)."})


class WebhookSchema(Schema):
    id = fields.String(required=True, metadata={
        "pattern": WEBHOOK_ID_PATTERN,
        "description": "Random, unrelated to any other endpoint's (yours or another brand's)."})
    url = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    events = fields.List(fields.String(), required=True, metadata={
        "description": "The opt-in events the endpoint asked for (intent.created)."})
    categories = fields.List(fields.String(), required=True, allow_none=True, metadata={
        "description": "The categories intent.created is sent for; null: all of yours."})


class WebhooksSchema(Schema):
    webhooks = fields.List(fields.Nested(WebhookSchema), required=True)


class WebhookCreatedSchema(Schema):
    webhook = fields.Nested(WebhookSchema, required=True)


class WebhookRequestSchema(Schema):
    class Meta:
        unknown = RAISE

    url = fields.String(required=True, metadata={
        "description": "A public https URL; its host must resolve to public addresses only."})
    events = fields.List(fields.String(validate=validate.OneOf(["intent.created"])),
                         metadata={"description": "Opt-in events: intent.created, new intents"
                                                  " in your categories. Every other event is"
                                                  " sent without asking."})
    categories = fields.List(fields.String(), validate=validate.Length(min=1), metadata={
        "description": "With intent.created: only these of your categories (default: all)."})


class AgreementSchema(Schema):
    id = fields.String(required=True, metadata={"pattern": AGREEMENT_ID_PATTERN})
    subject = fields.String(required=True, metadata={
        "description": "The member, by their pairwise pseudonym for this brand: the subject"
                       " of the member API, unrelated to the id any other brand sees."})
    proffered = fields.String(required=True, validate=validate.OneOf(_TERMS), metadata={
        "description": "The IEEE 7012 term the member offered (DPV P7012 code)."})
    countered = fields.String(required=True, allow_none=True,
                              validate=validate.OneOf(_TERMS), metadata={
                                  "description": "Your counter-offer, if you made one."})
    status = fields.String(required=True, validate=validate.OneOf(_AGREEMENT_STATUSES))
    agreed = fields.String(required=True, allow_none=True, validate=validate.OneOf(_TERMS),
                           metadata={"description": "The term both sides agreed to."})
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    record = fields.String(required=True, allow_none=True, metadata={
        "description": "Once agreed: the canonical JSON record (keys sorted, no spaces, UTF-8)"
                       " both sides hold; its SHA-256 is sha256."})
    sha256 = fields.String(required=True, allow_none=True, metadata={"pattern": "^[0-9a-f]{64}$"})
    signed_record = fields.String(required=True, allow_none=True, metadata={
        "description": "Once agreed: the record and its sha256 signed by the vault as a JWS"
                       " (EdDSA, Ed25519; verify it with the JWKS), byte for byte the file"
                       " the member downloads."})


class AgreementsSchema(Schema):
    agreements = fields.List(fields.Nested(AgreementSchema), required=True, metadata={
        "description": "This brand's agreements with members, latest change first."})
    next_offset = fields.Integer(required=True, allow_none=True)


class AgreementEnvelopeSchema(Schema):
    agreement = fields.Nested(AgreementSchema, required=True)


# -- insight communities and co-creation (brand_gateway/api/communities.py) --------------------
#: How the vault names a community, a challenge and an idea: a prefix and 24 hex digits.
COMMUNITY_ID_PATTERN = "^com_[0-9a-f]{24}$"
CHALLENGE_ID_PATTERN = "^chl_[0-9a-f]{24}$"
IDEA_ID_PATTERN = "^idea_[0-9a-f]{24}$"
_COMMUNITY_PURPOSES = sorted(COMMUNITY_PURPOSE_CODES)


class CommunityRequestSchema(Schema):
    """A community to open."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(1, NAME_MAX), metadata={
        "description": "What members see it called."})
    description = fields.String(required=True, validate=validate.Length(1, DESCRIPTION_MAX),
                                metadata={"description": "What it is for, in plain words: "
                                                         "members read it before joining."})
    purposes = fields.List(
        fields.String(validate=validate.OneOf(_COMMUNITY_PURPOSES)), required=True,
        validate=validate.Length(1, len(_COMMUNITY_PURPOSES)), metadata={
            "description": "The DPV purposes members' grants will be for: the brand's own"
                           " analytics and service only (never profiling, tracking or"
                           " sharing)."})


class ChallengeRequestSchema(Schema):
    """A challenge to open in a community."""

    class Meta:
        unknown = RAISE

    title = fields.String(required=True, validate=validate.Length(1, TITLE_MAX))
    description = fields.String(required=True, validate=validate.Length(
        1, CHALLENGE_DESCRIPTION_MAX))


class CommunitySchema(Schema):
    id = fields.String(required=True, metadata={"pattern": COMMUNITY_ID_PATTERN})
    name = fields.String(required=True)
    description = fields.String(required=True)
    purposes = fields.List(fields.String(validate=validate.OneOf(_COMMUNITY_PURPOSES)),
                           required=True)
    created_at = fields.DateTime(required=True)
    closed_at = fields.DateTime(required=True, allow_none=True)
    members_at_least = fields.Integer(required=True, allow_none=True, metadata={
        "description": "How many members it has: a differentially private count (OpenDP's"
                       " discrete Laplace, the member as the privacy unit, epsilon 0.25 paid"
                       " from your insights budget), measured on your first read of the"
                       " community in each budget period and kept for the period, rounded"
                       " down to a multiple of ten; null when the noisy count is below the"
                       " insights' suppression threshold (at least the minimum cohort), or"
                       " when it was not measured. Reading it again in the period never"
                       " counts again. A closed community keeps the last figure measured"
                       " while it was open; the answer to opening one is null, as no one can"
                       " have joined yet."})
    members_measured = fields.Boolean(required=True, metadata={
        "description": "False when your privacy budget of the period could not pay for the"
                       " count (or a closed community was never measured): members_at_least"
                       " is then null and tells nothing. Nothing is kept, so a read after"
                       " the budget renews measures it."})
    invitation_url = fields.String(required=True, metadata={
        "description": "The public page that invites people to join (through their vault's"
                       " sign-in); it holds no personal data."})


class CommunitiesSchema(Schema):
    communities = fields.List(fields.Nested(CommunitySchema), required=True, metadata={
        "description": "This brand's communities, newest first."})


class CommunityEnvelopeSchema(Schema):
    community = fields.Nested(CommunitySchema, required=True)


class ChallengeSchema(Schema):
    id = fields.String(required=True, metadata={"pattern": CHALLENGE_ID_PATTERN})
    community = fields.String(required=True, metadata={"pattern": COMMUNITY_ID_PATTERN})
    title = fields.String(required=True)
    description = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    closed_at = fields.DateTime(required=True, allow_none=True)


class ChallengesSchema(Schema):
    challenges = fields.List(fields.Nested(ChallengeSchema), required=True, metadata={
        "description": "The community's challenges, newest first."})


class ChallengeEnvelopeSchema(Schema):
    challenge = fields.Nested(ChallengeSchema, required=True)


class IdeaSchema(Schema):
    id = fields.String(required=True, metadata={"pattern": IDEA_ID_PATTERN})
    challenge = fields.String(required=True, metadata={"pattern": CHALLENGE_ID_PATTERN})
    author = fields.String(required=True, metadata={
        "description": "The author's pseudonym in this community: unrelated to the member's"
                       " subject in the member API and to their pseudonym in any other"
                       " community."})
    text = fields.String(required=True, metadata={
        "description": "The idea as its author wrote it; each version released to you is"
                       " recorded in the member's vault ledger."})
    version = fields.Integer(required=True)
    votes = fields.Integer(required=True, metadata={
        "description": "Votes of other members (one each; never the author's own)."})
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    taken_up_at = fields.DateTime(required=True, allow_none=True)


class IdeasSchema(Schema):
    ideas = fields.List(fields.Nested(IdeaSchema), required=True, metadata={
        "description": "The challenge's ideas, oldest first; withdrawn ideas are gone."})


class IdeaEnvelopeSchema(Schema):
    idea = fields.Nested(IdeaSchema, required=True)


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    error = fields.String(metadata={
        "description": "For token errors, the RFC 6750 error code, as in WWW-Authenticate."})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), metadata={
        "description": "For query errors: parameter -> messages."})


# -- the OpenAPI document -------------------------------------------------------------------------
_PROBLEMS = {
    "BadRequest": ("Unknown or malformed query parameters, or a token sent outside the"
                   " Authorization header (invalid_request).", {}),
    "Unauthorized": ("No bearer token, or an unknown, expired or revoked one (invalid_token):"
                     " a withdrawn grant revokes its tokens at once.",
                     {"WWW-Authenticate": "Bearer challenge (RFC 6750 sec. 3)."}),
    "Forbidden": ("A brand-level token on a member endpoint, or a purpose the token lacks"
                  " (insufficient_scope).",
                  {"WWW-Authenticate": "Bearer challenge (RFC 6750 sec. 3)."}),
    "TooManyRequests": ("This client's requests per minute are spent.",
                        {"Retry-After": "Seconds until the client may try again."}),
    "NotFound": ("None of this brand's webhook endpoints has this id (the integer ids of"
                 " endpoints registered before ids were made random included).", {}),
    "AgreementNotFound": ("None of the agreements members offered this brand has this id.",
                          {}),
    "Conflict": ("The offer was answered already (by you, or the member).", {}),
    "CommunityNotFound": ("This brand has no community, challenge or idea with this id.", {}),
    "CommunityConflict": ("The community or challenge is closed already, or the idea taken up"
                          " already.", {}),
    "UnsupportedMediaType": ("The body is not application/json.", {}),
    "ContentTooLarge": (f"The body is larger than {MAX_BODY} bytes (about:blank, status"
                        " 413), whatever its media type.", {}),
    "UriTooLong": ("The request target (path and query) is longer than the server reads"
                   " (about:blank, status 414).", {}),
    "HeaderFieldsTooLarge": ("A header field, or all of them together, larger than the server"
                             " reads, or too many of them (about:blank, status 431).", {}),
    "LengthRequired": ("A body sent in chunks (Transfer-Encoding) without its Content-Length"
                       " (about:blank, status 411).", {}),
    "StoreUnreachable": ("The vault's database cannot be reached just now (store-unreachable:"
                         " on PostgreSQL, a server restarting or every connection busy); try"
                         " again.", {"Retry-After": "Seconds until a retry may find it back."}),
    "MemberErased": ("The member's data was erased (member-erased); you are sent"
                     " member.erased.", {}),
    "MemberDataUnavailable": ("The member's data cannot be opened: the vault's operator restored"
                              " its keys from a backup older than the member's key"
                              " (member-key-lost: nothing was erased, try later), or the vault's"
                              " database cannot be reached just now (store-unreachable).",
                              {"Retry-After": "With store-unreachable: seconds until a retry"
                                              " may find it back."}),
}
# What a read of a member's sealed data may also be answered (vault/errors.py).
_MEMBER_DATA_PROBLEMS = {"410": "MemberErased", "503": "MemberDataUnavailable"}
# What any request may be answered, before any endpoint sees it (web/limits.py).
_HEAD_PROBLEMS = (("414", "UriTooLong"), ("431", "HeaderFieldsTooLarge"))


def _problem_response(description: str, headers: dict[str, str]) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": "Problem"}},
    }
    if headers:
        response["headers"] = {name: {"description": text, "schema": {"type": "string"}}
                               for name, text in headers.items()}
    return response


def _operation(summary: str, description: str, query: type[Schema], schema: str, *,
               problems: tuple[str, ...] = ("BadRequest", "Unauthorized", "Forbidden",
                                            "TooManyRequests"),
               created: bool = False, location: str | None = None,
               more: dict[str, str] | None = None) -> dict[str, Any]:
    """``location``: what the ``Location`` header of a 201 names, where the view sends one;
    ``more``: further answers, status to response component."""
    success = ("201", "Created") if created else ("200", "OK")
    operation: dict[str, Any] = {
        "summary": summary,
        "description": description,
        "responses": {
            success[0]: {"description": success[1],
                         "content": {"application/json": {"schema": schema}}},
            **{code: name for code, name in (("400", "BadRequest"), ("401", "Unauthorized"),
                                             ("403", "Forbidden"), ("429", "TooManyRequests"))
               if name in problems},
            **({"413": "ContentTooLarge", "415": "UnsupportedMediaType"} if created else {}),
            **(more or {}),
        },
    }
    if location:
        operation["responses"][success[0]]["headers"] = location_header(location)
    if query._declared_fields:
        operation["parameters"] = [{"in": "query", "schema": query}]
    return operation


def location_header(names: str) -> dict[str, Any]:
    """The ``headers`` of a 201 answer whose ``Location`` (RFC 9110 sec. 10.2.2) ``names``."""
    return {"Location": {"description": names, "schema": {"type": "string"}}}


def openapi_document(*, server: str, authorization_url: str, token_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 description of the brand API; URLs absolute, for this host."""
    marshmallow = MarshmallowPlugin()
    spec = APISpec(
        title="vrmvault brand API", version=API_VERSION, openapi_version="3.1.0",
        plugins=[marshmallow],
        info={"description": (
            "Member-delegated data for brands: the profile fields and feedback entries a member"
            " shares, filtered field by field against the member's live grants. Every read is"
            " recorded in the member's tamper-evident ledger and shown to them. Errors are RFC"
            " 9457 problem details; token errors also follow RFC 6750 (WWW-Authenticate).")},
        servers=[{"url": server}],
    )
    marshmallow.map_to_openapi_type(CommaSeparated, "string", None)
    spec.components.security_scheme("bearer", {
        "type": "http", "scheme": "bearer", "bearerFormat": "opaque",
        "description": "An access token, in the Authorization header only (RFC 6750 sec. 2.1):"
                       " tokens in query strings or form bodies are refused."})
    spec.components.security_scheme("member", {
        "type": "oauth2",
        "description": "Member data: the authorization code flow with PKCE (S256 required),"
                       " asking with RFC 9396 authorization_details of type"
                       " \"vrmvault-member-data\" (purpose and fields); the member approves"
                       " on a consent screen. Confidential clients, client_secret_basic.",
        "flows": {"authorizationCode": {"authorizationUrl": authorization_url,
                                        "tokenUrl": token_url, "refreshUrl": token_url,
                                        "scopes": {}}}})
    spec.components.security_scheme("brand", {
        "type": "oauth2",
        "description": "Brand-level work: the client credentials grant. These tokens cannot"
                       " read member data.",
        "flows": {"clientCredentials": {"tokenUrl": token_url, "scopes": dict(SCOPES)}}})
    spec.components.schema("Problem", schema=ProblemSchema)
    spec.components.schema("Member", schema=MemberSchema)
    spec.components.schema("Profile", schema=ProfileSchema)
    spec.components.schema("Feedback", schema=FeedbackSchema)
    spec.components.schema("Receipts", schema=ReceiptsSchema)
    spec.components.schema("Webhooks", schema=WebhooksSchema)
    spec.components.schema("WebhookCreated", schema=WebhookCreatedSchema)
    spec.components.schema("WebhookRequest", schema=WebhookRequestSchema)
    spec.components.schema("Agreements", schema=AgreementsSchema)
    spec.components.schema("AgreementEnvelope", schema=AgreementEnvelopeSchema)
    spec.components.schema("AgreementAnswer", schema=AgreementAnswerSchema)
    spec.components.schema("NoBody", schema=NoBodySchema)
    for name, component in (
            ("CommunityRequest", CommunityRequestSchema), ("Communities", CommunitiesSchema),
            ("CommunityEnvelope", CommunityEnvelopeSchema),
            ("ChallengeRequest", ChallengeRequestSchema), ("Challenges", ChallengesSchema),
            ("ChallengeEnvelope", ChallengeEnvelopeSchema), ("Ideas", IdeasSchema),
            ("IdeaEnvelope", IdeaEnvelopeSchema)):
        spec.components.schema(name, schema=component)
    for name, (description, headers) in _PROBLEMS.items():
        spec.components.response(name, _problem_response(description, headers))

    member_only: list[dict[str, list[str]]] = [{"member": []}]
    spec.path(path="/member", operations={"get": {
        **_operation("Who this token is about",
                     "The member's pairwise subject and what they allow now, per purpose.",
                     MemberQuery, "Member"),
        "security": member_only}})
    spec.path(path="/member/profile", operations={"get": {
        **_operation("Read shared profile fields",
                     "The requested fields the member allows for the purpose now and has"
                     " filled in; every other requested field is listed in withheld. Each"
                     " read is a ledger entry the member sees.",
                     ProfileQuery, "Profile", more=_MEMBER_DATA_PROBLEMS),
        "security": member_only}})
    spec.path(path="/member/feedback", operations={"get": {
        **_operation("Read shared feedback about this brand",
                     "The member's journal entries about this brand, if the purpose allows"
                     " the journal. Each read is a ledger entry the member sees.",
                     FeedbackQuery, "Feedback", more=_MEMBER_DATA_PROBLEMS),
        "security": member_only}})
    spec.path(path="/member/receipts", operations={"get": {
        **_operation("The consent receipts of the member's grants to this brand",
                     "Signed receipts, the same the member holds, for the brand's records,"
                     " each with its entry in the vault's public log; grants of aggregate"
                     " use only are left out. Carries no member data and is not a ledger read.",
                     EmptyQuery, "Receipts"),
        "security": member_only}})
    webhooks_scope: list[dict[str, list[str]]] = [{"brand": ["webhooks:manage"]}]
    spec.path(path="/webhooks", operations={
        "get": {**_operation("The brand's webhook endpoints", "Live endpoints only.",
                             EmptyQuery, "Webhooks"), "security": webhooks_scope},
        "post": {**_operation(
            "Register a webhook endpoint",
            "Signed events (Standard Webhooks v1a, Ed25519; the key is in the JWKS) are sent"
            " there: consent.withdrawn, consent.expired, authorization.ended, member.erased,"
            " data subject requests as Ketch Forwarder dsr/v1 messages: dsr.access,"
            " dsr.delete, dsr.correction, dsr.restrict_processing; offer.accepted,"
            " offer.declined, offer.expired on your offers; and, if asked for in events,"
            " intent.created for new intents in your categories.",
            EmptyQuery, "WebhookCreated", created=True,
            location="The new endpoint's path, where GET reads it and DELETE removes it."),
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": "WebhookRequest"}}},
            "security": webhooks_scope},
    })
    endpoint_id = {"in": "path", "name": "endpoint_id", "required": True,
                   "schema": {"type": "string", "pattern": WEBHOOK_ID_PATTERN}}
    read_endpoint = _operation(
        "A webhook endpoint of the brand", "A live endpoint of the brand's own; any other"
        " (removed, another brand's, unknown) is 404.", EmptyQuery, "WebhookCreated")
    read_endpoint["responses"]["404"] = "NotFound"
    spec.path(path="/webhooks/{endpoint_id}", operations={"get": {
        **read_endpoint, "parameters": [endpoint_id], "security": webhooks_scope}, "delete": {
        "summary": "Remove a webhook endpoint",
        "description": "Events still pending for it are given up.",
        "parameters": [endpoint_id],
        "responses": {"204": {"description": "Removed"}, "400": "BadRequest",
                      "401": "Unauthorized", "403": "Forbidden", "404": "NotFound",
                      "413": "ContentTooLarge", "415": "UnsupportedMediaType",
                      "429": "TooManyRequests"},
        "security": webhooks_scope}})
    agreements_scope: list[dict[str, list[str]]] = [{"brand": ["agreements:write"]}]
    agreement_id = {"in": "path", "name": "agreement_id", "required": True,
                    "schema": {"type": "string", "pattern": AGREEMENT_ID_PATTERN}}
    spec.path(path="/agreements", operations={"get": {
        **_operation("The IEEE 7012 offers and agreements of members with this brand",
                     "Members proffer a term from the P7012 roster; answer the proffered ones"
                     " (status=proffered). Each agreed one carries the signed record both"
                     " sides hold.", AgreementsQuery, "Agreements"),
        "security": agreements_scope}})
    spec.path(path="/agreements/{agreement_id}", operations={"get": {
        "summary": "One agreement",
        "description": "An offer, its answers and, once agreed, the signed record.",
        "parameters": [agreement_id],
        "responses": {"200": {"description": "OK", "content": {
            "application/json": {"schema": "AgreementEnvelope"}}},
            "400": "BadRequest", "401": "Unauthorized", "403": "Forbidden",
            "404": "AgreementNotFound", "429": "TooManyRequests"},
        "security": agreements_scope}})
    spec.path(path="/agreements/{agreement_id}/answer", operations={"post": {
        "summary": "Answer a member's offer",
        "description": "Accept the term, make one counter-offer from the roster (the member"
                       " then accepts or rejects it), or reject it. Each answer is a ledger"
                       " entry the member can see; on agreement both sides hold the same"
                       " signed record.",
        "parameters": [agreement_id],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": "AgreementAnswer"}}},
        "responses": {"200": {"description": "Answered", "content": {
            "application/json": {"schema": "AgreementEnvelope"}}},
            "400": "BadRequest", "401": "Unauthorized", "403": "Forbidden",
            "404": "AgreementNotFound", "409": "Conflict", "413": "ContentTooLarge",
            "415": "UnsupportedMediaType", "429": "TooManyRequests"},
        "security": agreements_scope}})
    _community_paths(spec)
    from .insight_schemas import add_insight_paths  # so does this one
    from .loop_schemas import add_paths as add_loop_paths  # it builds on this module
    add_loop_paths(spec, _operation)
    from .request_schemas import add_request_paths  # it builds on this module

    add_request_paths(spec, _operation)
    from .intent_schemas import add_intent_paths  # it builds on this module

    add_intent_paths(spec, _operation)
    from .survey_schemas import add_survey_paths  # it imports this module's schemas

    add_survey_paths(spec)
    add_insight_paths(spec)
    spec.path(path="/openapi.json", operations={"get": {
        "summary": "This document",
        "description": "The OpenAPI 3.1 description of this API.",
        "security": [],
        "responses": {"200": {"description": "OK", "content": {
            "application/json": {"schema": {"type": "object"}}}},
            "400": "BadRequest"},
    }})
    document = spec.to_dict()
    for operations in document["paths"].values():
        for operation in operations.values():
            for code, name in _HEAD_PROBLEMS:
                operation["responses"].setdefault(code, {"$ref": f"#/components/responses/{name}"})
            if operation.get("security") != []:          # every operation that reads a store
                operation["responses"].setdefault(
                    "503", {"$ref": "#/components/responses/StoreUnreachable"})
            if "requestBody" in operation:
                operation["responses"].setdefault(
                    "411", {"$ref": "#/components/responses/LengthRequired"})
    return document


def _community_paths(spec: APISpec) -> None:
    """The insight community's operations (brand_gateway/api/communities.py)."""
    scope: list[dict[str, list[str]]] = [{"brand": ["communities:write"]}]

    def path_id(name: str, pattern: str) -> dict[str, Any]:
        return {"in": "path", "name": name, "required": True,
                "schema": {"type": "string", "pattern": pattern}}

    def operation(summary: str, description: str, schema: str, *, status: str = "200",
                  parameters: tuple[dict[str, Any], ...] = (), body: str | None = None,
                  conflict: bool = False, takes_no_body: bool = False,
                  location: str | None = None) -> dict[str, Any]:
        responses: dict[str, Any] = {
            status: {"description": "Created" if status == "201" else "OK",
                     "content": {"application/json": {"schema": schema}}},
            "400": "BadRequest", "401": "Unauthorized", "403": "Forbidden",
            "429": "TooManyRequests"}
        if location:
            responses[status]["headers"] = location_header(location)
        if parameters:
            responses["404"] = "CommunityNotFound"
        if conflict:
            responses["409"] = "CommunityConflict"
        if body is not None or takes_no_body:
            responses.update({"413": "ContentTooLarge", "415": "UnsupportedMediaType"})
        found: dict[str, Any] = {"summary": summary, "description": description,
                                 "responses": responses, "security": scope}
        if parameters:
            found["parameters"] = list(parameters)
        if body is not None:
            found["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": body}}}
        elif takes_no_body:
            found["requestBody"] = NO_BODY_REQUEST
        return found

    community = path_id("community_id", COMMUNITY_ID_PATTERN)
    challenge = path_id("challenge_id", CHALLENGE_ID_PATTERN)
    idea = path_id("idea_id", IDEA_ID_PATTERN)
    spec.path(path="/communities", operations={
        "get": operation("The brand's insight communities",
                         "Newest first, each with its invitation URL and its size: a"
                         " differentially private count paid from your insights budget (epsilon"
                         " 0.25) on the first read of each community in a budget period, and"
                         " kept for the period.", "Communities"),
        "post": operation("Open an insight community",
                          "Members join it from their vault; joining grants the community's"
                          " purposes, in aggregate unless a member chooses individual use."
                          " Recorded in the ledger.", "CommunityEnvelope", status="201",
                          body="CommunityRequest",
                          location="The new community's path"
                                   " (GET /communities/{community_id}).")})
    spec.path(path="/communities/{community_id}", operations={"get": operation(
        "One community", "Its purposes, state and size (measured once per budget period and"
        " kept: see members_at_least).", "CommunityEnvelope",
        parameters=(community,))})
    spec.path(path="/communities/{community_id}/close", operations={"post": operation(
        "Close a community",
        "It takes no one new; the grants its members gave only for it are released (each"
        " member gets a receipt, and you a webhook as for any release).",
        "CommunityEnvelope", parameters=(community,), conflict=True, takes_no_body=True)})
    spec.path(path="/communities/{community_id}/challenges", operations={
        "get": operation("The community's challenges", "Newest first.", "Challenges",
                         parameters=(community,)),
        "post": operation("Open a challenge",
                          "A question for the community's members to answer with ideas and"
                          " votes. Recorded in the ledger.", "ChallengeEnvelope",
                          status="201", parameters=(community,), body="ChallengeRequest",
                          conflict=True,
                          location="The new challenge's path"
                                   " (GET /challenges/{challenge_id}).")})
    spec.path(path="/challenges/{challenge_id}", operations={"get": operation(
        "One challenge", "Its question and state.", "ChallengeEnvelope",
        parameters=(challenge,))})
    spec.path(path="/challenges/{challenge_id}/close", operations={"post": operation(
        "Close a challenge", "It takes no new ideas or votes.", "ChallengeEnvelope",
        parameters=(challenge,), conflict=True, takes_no_body=True)})
    spec.path(path="/challenges/{challenge_id}/ideas", operations={"get": operation(
        "The challenge's ideas",
        "Released to you by their authors, under community pseudonyms, with vote counts; each"
        " new version you receive is a ledger entry.", "Ideas", parameters=(challenge,))})
    spec.path(path="/ideas/{idea_id}/take-up", operations={"post": operation(
        "Mark an idea taken up", "The author and the community see it on the idea; a ledger"
        " entry.", "IdeaEnvelope", parameters=(idea,), conflict=True, takes_no_body=True)})
