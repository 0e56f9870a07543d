"""marshmallow schemas for every form the member pages accept.

Schemas check shape at the edge (``unknown = RAISE``, types, lengths); the vault then applies
the domain rules (catalog coercion, password policy, feedback rules). Errors from both end up
next to the field they concern. Schemas never query the store.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, pre_load, validate
from marshmallow import ValidationError as SchemaError
from werkzeug.datastructures import MultiDict

from vault.catalog import ATTRIBUTES, DataType
from vault.errors import ValidationError

from .security import CSRF_FIELD

_EMAIL_MAX = 254
_PASSWORD_MAX = 1024  # the policy allows 256; this only stops absurd bodies early
_TICK_TO_CONFIRM = "Tick the box to confirm that you understand."
_READABLE = {
    "Unknown field.": "Not a field of this form.",
    "Missing data for required field.": "This field is required.",
    "Field may not be null.": "This field is required.",
}


class FormSchema(Schema):
    class Meta:
        unknown = RAISE

    @pre_load
    def _blank_to_none(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {k: (None if v == "" else v) for k, v in data.items()}


class SignupForm(FormSchema):
    email = fields.String(required=True, validate=validate.Length(max=_EMAIL_MAX))
    password = fields.String(required=True, validate=validate.Length(max=_PASSWORD_MAX))


class LoginForm(SignupForm):
    """The sign-up fields; the password policy applies at sign-up only, never at sign-in."""


class CodeForm(FormSchema):
    """A 6-digit TOTP code, or a recovery code (``xxxx-xxxx-xxxx-xxxx``)."""

    code = fields.String(required=True, validate=validate.Length(max=40))


class LinkForm(FormSchema):
    """The token of a mailed link, posted back from its confirmation page."""

    token = fields.String(required=True, validate=validate.Length(max=64))


class EmailForm(FormSchema):
    email = fields.String(required=True, validate=validate.Length(max=_EMAIL_MAX))


class NewPasswordForm(FormSchema):
    token = fields.String(required=True, validate=validate.Length(max=64))
    password = fields.String(required=True, validate=validate.Length(max=_PASSWORD_MAX))


class PasswordForm(FormSchema):
    password = fields.String(required=True, validate=validate.Length(max=_PASSWORD_MAX))


class TermsForm(FormSchema):
    agreement = fields.String(required=True, validate=validate.Length(max=40))
    purposes = fields.List(fields.String(validate=validate.Length(max=64)),
                           validate=validate.Length(max=32), load_default=list)
    max_days = fields.Integer(required=True, strict=False)
    aggregate_allowed = fields.String(validate=validate.Equal("on"))
    sale_sharing_opt_out = fields.String(validate=validate.Equal("on"))


class NarrowForm(FormSchema):
    # "fields" as an attribute name would shadow marshmallow's module inside the class body.
    selected = fields.List(fields.String(validate=validate.Length(max=64)), data_key="fields",
                           validate=validate.Length(max=64), load_default=list)
    ends_on = fields.Date(allow_none=True)


class DeleteAccountForm(FormSchema):
    password = fields.String(required=True, validate=validate.Length(max=_PASSWORD_MAX))
    confirm = fields.String(
        required=True, validate=validate.Equal("on", error=_TICK_TO_CONFIRM),
        error_messages={"required": _TICK_TO_CONFIRM, "null": _TICK_TO_CONFIRM},
    )


class FeedbackForm(FormSchema):
    brand_id = fields.String(required=True, validate=validate.Length(max=64))
    touchpoint = fields.String(required=True, validate=validate.Length(max=32))
    rating = fields.Integer(required=True, strict=False)
    nps = fields.Integer(load_default=None, allow_none=True)
    comment = fields.String(load_default="", allow_none=True, validate=validate.Length(max=4000))
    occurred_on = fields.Date(required=True)


def _profile_field(spec: Any) -> fields.Field:
    if spec.type is DataType.CHOICES:
        return fields.List(fields.String(validate=validate.Length(max=64)), allow_none=True,
                           validate=validate.Length(max=len(spec.choices)))
    if spec.type is DataType.INTEGER:
        return fields.Integer(allow_none=True)
    if spec.type is DataType.DATE:
        return fields.Date(allow_none=True)
    return fields.String(allow_none=True, validate=validate.Length(max=spec.max_length))


# Generated from the catalog; as a FormSchema it inherits unknown=RAISE and blank -> None.
ProfileForm = FormSchema.from_dict(
    {spec.key: _profile_field(spec) for spec in ATTRIBUTES}, name="ProfileForm"
)
MULTI_VALUE = frozenset(spec.key for spec in ATTRIBUTES if spec.type is DataType.CHOICES)


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


def load(schema: Schema, data: dict[str, Any]) -> dict[str, Any]:
    """``schema.load`` with its errors turned into the vault's :class:`ValidationError`."""
    try:
        return schema.load(data)
    except SchemaError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
        errors = {key: _flatten(value) for key, value in messages.items()}
        raise ValidationError(errors) from None


def _flatten(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [m for v in value.values() for m in _flatten(v)]
    if isinstance(value, list):
        return [m for v in value for m in _flatten(v)]
    text = str(value)
    return [_READABLE.get(text, text)]
