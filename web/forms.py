"""marshmallow schemas for every form the member pages accept, and their errors in member words.

Schemas check shape at the edge (``unknown = RAISE``, types, lengths); the vault then applies
the domain rules (catalog coercion, password policy, feedback rules). :func:`load` runs both
kinds on every submission, the domain's checks on whatever the schema let through, so a member
sees every problem of one submission at once, not the next one only after fixing the first.

Invariants: every field carries the label the page shows for it (``metadata["label"]``) and
messages that say what to do; :func:`member_words` puts the label in front of each message (the
summary at the top links to the field with it) and replaces anything that would show a field's
name or a library's default wording. Schemas never query the store; checks that do are passed in
by the view.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, fields, pre_load, validate, validates
from marshmallow import ValidationError as SchemaError
from werkzeug.datastructures import MultiDict

from vault.catalog import ATTRIBUTES, DATE_EXAMPLE, MULTILINE, DataType
from vault.errors import ValidationError
from vault.feedback import MAX_COMMENT
from vault.members import normalise_email
from vault.passwords import problems
from vault.recovery_codes import looks_like_recovery_code

from .security import CSRF_FIELD

_EMAIL_MAX = 254
_PASSWORD_MAX = 1024  # the policy allows 256; this only stops absurd bodies early
#: Where errors about the whole form, not one field, are kept (shown in the summary only).
FORM = "form"
_CONFIRM = "I understand that my account and all my data will be deleted for good"
_FOREIGN_FIELD = ("The form was sent with something it does not have. "
                  "Reload the page and try again.")
_NOT_OURS = frozenset({"Unknown field.", "Send this field once."})
# marshmallow's own wording, should a message slip past the fields' own: never shown as is.
_READABLE = {
    "Missing data for required field.": "Fill this in.",
    "Field may not be null.": "Fill this in.",
    "Invalid value.": "Check what you entered.",
    "Not a valid list.": "Choose from the list.",
    "Not a valid string.": "Enter text.",
    "Not a valid integer.": "Enter a whole number.",
    "Not a valid date.": "Enter a date as YYYY-MM-DD.",
    "Number too large.": "Enter a smaller number.",
}


def _field(kind: Callable[..., fields.Field], label: str, *, empty: str, wrong: str,
           validators: tuple[validate.Validator, ...] = (), **options: Any) -> fields.Field:
    """A field whose every message is in member words: ``empty`` when nothing was given,
    ``wrong`` for a value of the wrong kind (validators bring their own)."""
    return kind(metadata={"label": label}, validate=list(validators), error_messages={
        "required": empty, "null": empty, "invalid": wrong, "too_large": wrong,
        "invalid_utf8": wrong, "validator_failed": wrong, "format": wrong}, **options)


def text(label: str, *, max_length: int, empty: str = "Fill this in.", shown_max: int | None = None,
         **options: Any) -> fields.Field:
    """Text of at most ``max_length`` characters (``shown_max``: the domain's tighter limit,
    which the message names, when the schema only stops absurd input early)."""
    too_long = f"Use at most {shown_max or max_length} characters."
    return _field(fields.String, label, empty=empty, wrong="Enter text.",
                  validators=(validate.Length(max=max_length, error=too_long),), **options)


def choice(label: str, *, empty: str = "Choose one from the list.", **options: Any
           ) -> fields.Field:
    """One value of a list the page offers (the domain knows the list)."""
    return _field(fields.String, label, empty=empty, wrong="Choose one from the list.",
                  validators=(validate.Length(max=64, error="Choose one from the list."),),
                  **options)


def whole_number(label: str, low: int, high: int, *, unit: str = "", **options: Any
                 ) -> fields.Field:
    message = f"Enter a whole number {f'of {unit} ' if unit else ''}from {low} to {high}."
    return _field(fields.Integer, label, empty=message, wrong=message, strict=False,
                  validators=(validate.Range(min=low, max=high, error=message),), **options)


def date(label: str, *, empty: str = "Enter a date.", example: str = "2026-03-31",
         **options: Any) -> fields.Field:
    """A date as YYYY-MM-DD; ``example`` is one the field could hold (a date of birth's is
    decades ago, not this year's)."""
    return _field(fields.Date, label, empty=empty,
                  wrong=f"Enter a date as YYYY-MM-DD, for example {example}.", **options)


def ticks(label: str, *, most: int, **options: Any) -> fields.Field:
    """A group of checkboxes: a list of the values ticked."""
    wrong = "Tick only the boxes shown."
    return _field(fields.List, label, empty=wrong, wrong=wrong, cls_or_instance=_field(
        fields.String, label, empty=wrong, wrong=wrong,
        validators=(validate.Length(max=64, error=wrong),)),
        validators=(validate.Length(max=most, error=f"Tick at most {most}."),), **options)


def tick(label: str, *, empty: str, **options: Any) -> fields.Field:
    """One checkbox (sent as ``on`` when ticked)."""
    return _field(fields.String, label, empty=empty, wrong=empty,
                  validators=(validate.Equal("on", error=empty),), **options)


class FormSchema(Schema):
    """A form: unknown fields refused, blank values are "not given"."""

    class Meta:
        unknown = RAISE

    #: Domain error keys that concern a field of this form under another name.
    aliases: ClassVar[Mapping[str, str]] = {}

    @pre_load
    def _blank_to_none(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {k: (None if v == "" else v) for k, v in data.items()}

    def label(self, key: str) -> str | None:
        """The label the page shows for the field sent as ``key``; None if it is not one."""
        for name, field in self.fields.items():
            if (field.data_key or name) == key:
                return field.metadata.get("label")
        return None


class SignupForm(FormSchema):
    email = text("E-mail address", max_length=_EMAIL_MAX, required=True,
                 empty="Enter your e-mail address, like name@example.org.")
    password = text("Password", max_length=_PASSWORD_MAX, required=True, shown_max=256,
                    empty="Choose a password of at least 15 characters.")


class LoginForm(FormSchema):
    """The sign-up fields; the password policy applies at sign-up only, never at sign-in."""

    email = text("E-mail address", max_length=_EMAIL_MAX, required=True,
                 empty="Enter your e-mail address.")
    password = text("Password", max_length=_PASSWORD_MAX, required=True, shown_max=256,
                    empty="Enter your password.")


#: A code that is not the authenticator app's current one, wherever a code is asked for.
WRONG_CODE = "That code is not right. Enter the 6 digits your app shows now."
#: A code from the app of a member whose data key was lost in a restore: the app's secret is
#: sealed under that key, the recovery codes are keyed hashes and still sign in.
CODE_UNCHECKABLE = ("Codes from your authenticator app cannot be checked now: the vault's operator"
                    " restored the vault's keys from a backup made before yours. Enter one of"
                    " your recovery codes instead.")
#: A recovery code that is not one of the member's unused ones.
WRONG_RECOVERY_CODE = ("That recovery code is not right, or it was used already. Check it, or"
                       " enter the 6 digits your app shows now.")


def whole_number_in_url(text: str, most: int) -> int | None:
    """A path segment's or query value's whole number from 0 to ``most``, in ASCII digits, or
    ``None``. The length is looked at before ``int``, which refuses more than 4,300 digits
    with a ValueError (CVE-2020-10735's limit): such an address was a 500."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(most)):
        return None
    number = int(text)
    return number if number <= most else None


def is_six_digits(code: str) -> bool:
    """Whether ``code`` has the shape of a TOTP code (6 digits; spaces between are fine)."""
    digits = "".join(code.split())
    return len(digits) == 6 and digits.isascii() and digits.isdigit()


class CodeForm(FormSchema):
    """A 6-digit TOTP code, or a recovery code (``xxxx-xxxx-xxxx-xxxx``): anything else is
    refused for its shape, before it is checked (or counted) as a guess."""

    code = text("6-digit code", max_length=40, required=True,
                empty="Enter the 6 digits your authenticator app shows, or a recovery code.")

    @validates("code")
    def _shape(self, value: str, **_: Any) -> None:
        if not (is_six_digits(value) or looks_like_recovery_code(value)):
            raise SchemaError("Enter the 6 digits your authenticator app shows, or a recovery"
                              " code of 16 letters and digits like abcd-efgh-ijkl-mnop.")


class NewCodeForm(FormSchema):
    """The first code of a new authenticator app, which turns two-step sign-in on."""

    code = text("6-digit code", max_length=40, required=True,
                empty="Enter the 6 digits your authenticator app shows.")

    @validates("code")
    def _shape(self, value: str, **_: Any) -> None:
        if not is_six_digits(value):
            raise SchemaError("Enter the 6 digits your authenticator app shows, digits only.")


class LinkForm(FormSchema):
    """The token of a mailed link, posted back from its confirmation page."""

    token = fields.String(required=True, validate=validate.Length(max=64))


class EmailForm(FormSchema):
    email = text("E-mail address", max_length=_EMAIL_MAX, required=True,
                 empty="Enter the e-mail address you sign in with.")


class NewPasswordForm(FormSchema):
    token = fields.String(required=True, validate=validate.Length(max=64))
    password = text("New password", max_length=_PASSWORD_MAX, required=True, shown_max=256,
                    empty="Choose a password of at least 15 characters.")


class ConfirmPasswordForm(FormSchema):
    """The password asked again before a change to how the member signs in."""

    password = text("Your password, to confirm it is you", max_length=_PASSWORD_MAX,
                    required=True, shown_max=256, empty="Enter your password.")


class TermsForm(FormSchema):
    agreement = choice("The term I offer brands", required=True,
                       empty="Choose the term you offer brands.")
    purposes = ticks("Purposes I accept at all", most=32, load_default=list)
    max_days = whole_number("Longest grant I allow, in days", 0, 3650, unit="days",
                            required=True)
    aggregate_allowed = tick("Brands may ask to count me into anonymous totals"
                             " (aggregate-only use)",
                             empty="Tick the box or leave it empty.")
    sale_sharing_opt_out = tick("Opt out of the sale and sharing of my data",
                                empty="Tick the box or leave it empty.")


class NarrowForm(FormSchema):
    aliases = {"ends_at": "ends_on"}
    # "fields" as an attribute name would shadow marshmallow's module inside the class body.
    selected = ticks("Fields", most=64, data_key="fields", load_default=list)
    ends_on = date("End on", allow_none=True)


class DeleteAccountForm(FormSchema):
    confirm = tick(_CONFIRM, required=True,
                   empty=f"Tick “{_CONFIRM}” to delete your account.")
    password = text("Your password, to confirm it is you", max_length=_PASSWORD_MAX,
                    required=True, shown_max=256, empty="Enter your password.")


class FeedbackForm(FormSchema):
    brand_id = choice("Brand", required=True, empty="Choose a brand from the list.")
    touchpoint = choice("Moment of the journey", required=True,
                        empty="Choose a moment from the list.")
    rating = whole_number("Rating (1-5)", 1, 5, required=True)
    nps = whole_number("Net Promoter Score (0-10)", 0, 10, load_default=None, allow_none=True)
    comment = text("Comment", max_length=2 * MAX_COMMENT, shown_max=MAX_COMMENT,
                   load_default="", allow_none=True)
    occurred_on = date("Date", required=True)


def _profile_field(spec: Any) -> fields.Field:
    if spec.type is DataType.CHOICES:
        return ticks(spec.label, most=len(spec.choices), allow_none=True)
    if spec.type is DataType.INTEGER:
        return whole_number(spec.label, spec.minimum, spec.maximum, allow_none=True)
    if spec.type is DataType.DATE:
        return date(spec.label, allow_none=True, example=DATE_EXAMPLE)
    if spec.type is DataType.CHOICE:
        return choice(spec.label, allow_none=True)
    if spec.key in MULTILINE:
        # Each line break arrives as CR LF and counts as one (vault.catalog.clean_text).
        return text(spec.label, max_length=2 * spec.max_length, shown_max=spec.max_length,
                    allow_none=True)
    return text(spec.label, max_length=spec.max_length, allow_none=True)


# Generated from the catalog; as a FormSchema it inherits unknown=RAISE and blank -> None.
ProfileForm = FormSchema.from_dict(
    {spec.key: _profile_field(spec) for spec in ATTRIBUTES}, name="ProfileForm"
)
MULTI_VALUE = frozenset(spec.key for spec in ATTRIBUTES if spec.type is DataType.CHOICES)


def labelled(labels: Mapping[str, str]) -> FormSchema:
    """A form of just these fields and labels, for :func:`member_words` where the fields are
    known only at request time (a survey's questions) or the domain checks them itself."""
    return FormSchema.from_dict(
        {key: fields.Raw(metadata={"label": label}) for key, label in labels.items()},
        name="LabelledForm")()


def form_data(form: MultiDict[str, str], *, multi: frozenset[str] = frozenset()
              ) -> dict[str, Any]:
    """A plain dict of the submitted fields (lists for ``multi`` keys), minus the CSRF token.

    A single-value field sent more than once is refused rather than cut to its first value, so
    no component in front of us can read a different value from the one we would store.
    """
    data: dict[str, Any] = {}
    repeated: dict[str, list[str]] = {}
    for key in form:
        if key == CSRF_FIELD:
            continue
        values = form.getlist(key)
        if key in multi:
            data[key] = values
        elif len(values) > 1:
            repeated[key] = ["Send this field once."]
        else:
            data[key] = values[0]
    if repeated:
        raise ValidationError(repeated)
    return data


Check = Callable[[dict[str, Any]], object]


def load(schema: FormSchema, data: dict[str, Any], *, check: Check | None = None
         ) -> dict[str, Any]:
    """``schema.load``, then the domain's ``check`` on every field the schema let through.

    Raises the vault's :class:`ValidationError` with the errors of both, in member words
    (:func:`member_words`); a field the schema refused keeps the schema's message only.
    """
    errors: dict[str, list[str]] = {}
    try:
        loaded = schema.load(data)
    except SchemaError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {FORM: exc.messages}
        errors = {str(key): _flatten(value) for key, value in messages.items()}
        loaded = exc.valid_data if isinstance(exc.valid_data, dict) else {}
    if check is not None:
        try:
            check(loaded)
        except ValidationError as exc:
            for key, found in exc.errors.items():
                errors.setdefault(schema.aliases.get(key, key), found)
    if errors:
        raise ValidationError(member_words(schema, errors))
    return loaded


def member_words(schema: FormSchema, errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """``errors`` keyed by the form's field names, each message led by the field's label.

    Errors about keys the form does not have (a tampered form) become one message about the
    form, never naming the key, and come first; the fields' errors follow in the order the
    schema declares its fields, which is the order of the page, so the summary reads as the
    form does. Idempotent: errors already in member words pass unchanged.
    """
    worded: dict[str, list[str]] = {}
    for key, messages in errors.items():
        name = schema.aliases.get(key, key)
        label = schema.label(name)
        if label is None:
            # About the whole form: a domain rule's words, or a field the form does not have.
            target = worded.setdefault(FORM, [])
            for message in (_FOREIGN_FIELD if m in _NOT_OURS else m for m in messages):
                if message not in target:
                    target.append(message)
            continue
        target = worded.setdefault(name, [])
        for message in messages:
            message = _READABLE.get(message, message)
            if label not in message:
                # A question as label (a survey's prompt) is followed by its answer's message.
                message = f"{label} {message}" if label.endswith("?") else f"{label}: {message}"
            if message not in target:
                target.append(message)
    order = [FORM, *(field.data_key or name for name, field in schema.fields.items())]
    return dict(sorted(worded.items(), key=lambda item: order.index(item[0])))


def check_signup(values: dict[str, Any]) -> None:
    """The sign-up rules of the vault (address form, password policy), both at once."""
    errors: dict[str, list[str]] = {}
    email = values.get("email")
    context: tuple[str, ...] = ()
    if email is not None:
        try:
            email = normalise_email(email)
            context = (email.split("@")[0], email)
        except ValidationError as exc:
            errors.update(exc.errors)
    if values.get("password") is not None:
        reasons = problems(values["password"], context=context)
        if reasons:
            errors["password"] = reasons
    if errors:
        raise ValidationError(errors)


def _flatten(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [m for v in value.values() for m in _flatten(v)]
    if isinstance(value, list):
        return [m for v in value for m in _flatten(v)]
    return [str(value)]
