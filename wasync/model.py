"""Canonical resources shared by the spec loader, the providers and the planner.

The spec files speak this shape (snake_case keys, Meta's component vocabulary); each provider
maps it to and from its wire format, and the planner compares the canonical form only.

Desired resources (``QrCode``, ``Template``) are strict pydantic models: unknown keys are errors.
Remote resources (``RemoteQrCode``, ``RemoteTemplate``) are plain frozen values in the same
vocabulary, lenient enough to hold whatever a provider returns (legacy categories, component
kinds wasync does not model).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

Category = Literal["MARKETING", "UTILITY", "AUTHENTICATION"]
ImageFormat = Literal["SVG", "PNG"]
ParameterFormat = Literal["POSITIONAL", "NAMED"]
OtpType = Literal["COPY_CODE", "ONE_TAP", "ZERO_TAP"]  # Meta's otp_type
Kind = Literal["qr", "template"]
JsonDict: TypeAlias = dict[str, Any]


class Strict(BaseModel):
    """Base of every spec model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def model_post_init(self, context: Any, /) -> None:
        # Every instance has a set of the fields its entry gave: 30 MiB of the 60 MiB that
        # 20,000 resources take. Frozen models never change theirs (pydantic copies it
        # before it changes a copy's), so equal sets are one shared set.
        given = self.__pydantic_fields_set__
        _set_fields(self, "__pydantic_fields_set__", _shared_set(tuple(given), given))


# By the fields' order in the set: equal sets built the same way share it (others are
# only kept apart, never mixed up). Bound once: this runs for every model of every entry.
_shared_set = dict[tuple[str, ...], set[str]]().setdefault
_set_fields = object.__setattr__


# --- template components -------------------------------------------------------------------


class NamedExample(Strict):
    """The example value of one named variable (``parameter_format: NAMED``)."""

    param_name: str = Field(description="The variable's name, as in {{first_name}}.")
    example: str = Field(description="Its example value.")


class HeaderExample(Strict):
    header_text: list[str] | None = Field(
        None, description="Example value of the header's {{1}} variable, as a one-item list."
    )
    header_text_named_params: list[NamedExample] | None = Field(
        None, description="parameter_format NAMED: the example of the header's named variable."
    )
    header_url: str | None = Field(
        None,
        description="Public URL of a sample image, video or document for a media header. "
        "Sent on create and update; not compared, since providers return their own copy.",
    )
    header_file: str | None = Field(
        None,
        description="A sample image, video or document for a media header, as a file in the "
        "spec folder (path relative to the folder holding wasync.yaml), for providers that "
        "take an uploaded sample. Uploaded on create and update; not compared.",
    )


class Header(Strict):
    type: Literal["HEADER"]
    format: Literal["TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION"] = "TEXT"
    text: str | None = Field(None, description="Header text (format TEXT); at most 60 chars.")
    example: HeaderExample | None = None


class BodyExample(Strict):
    body_text: list[list[str]] | None = Field(
        None, description="Example values of {{1}}..{{N}}, as one list inside a list: [[v1, v2]]."
    )
    body_text_named_params: list[NamedExample] | None = Field(
        None,
        description="parameter_format NAMED: the example of each named variable, "
        "[{param_name: first_name, example: Ana}, ...].",
    )


class Body(Strict):
    type: Literal["BODY"]
    text: str | None = Field(None, description="Body text; at most 1024 chars. Omit for OTP.")
    example: BodyExample | None = None
    add_security_recommendation: bool | None = Field(
        None, description="AUTHENTICATION only: add 'For your security, do not share this code.'"
    )


class Footer(Strict):
    type: Literal["FOOTER"]
    text: str | None = Field(None, description="Footer text; at most 60 chars, no variables.")
    code_expiration_minutes: int | None = Field(
        None, description="AUTHENTICATION only: code expiry warning, 1..90 minutes."
    )


class QuickReplyButton(Strict):
    type: Literal["QUICK_REPLY"]
    text: str


class UrlButton(Strict):
    type: Literal["URL"]
    text: str
    url: str = Field(description="At most 2000 chars; one trailing {{1}} makes it dynamic.")
    example: list[str] | None = Field(None, description="Full example URL when dynamic.")


class PhoneNumberButton(Strict):
    type: Literal["PHONE_NUMBER"]
    text: str
    phone_number: str


class CopyCodeButton(Strict):
    type: Literal["COPY_CODE"]
    example: str = Field(description="The offer code to copy; at most 15 chars.")


class SupportedApp(Strict):
    package_name: str
    signature_hash: str


class OtpButton(Strict):
    type: Literal["OTP"]
    otp_type: OtpType
    text: str | None = None
    autofill_text: str | None = None
    supported_apps: list[SupportedApp] | None = None
    zero_tap_terms_accepted: bool | None = None


class FlowButton(Strict):
    type: Literal["FLOW"]
    text: str
    flow_id: str | None = None
    flow_name: str | None = None
    flow_json: str | None = None
    flow_action: Literal["NAVIGATE", "DATA_EXCHANGE"] | None = None
    navigate_screen: str | None = None


Button = Annotated[
    QuickReplyButton | UrlButton | PhoneNumberButton | CopyCodeButton | OtpButton | FlowButton,
    Field(discriminator="type"),
]


class Buttons(Strict):
    type: Literal["BUTTONS"]
    buttons: list[Button]


CardComponent = Annotated[Header | Body | Buttons, Field(discriminator="type")]


class Card(Strict):
    components: list[CardComponent]


class Carousel(Strict):
    type: Literal["CAROUSEL"]
    cards: list[Card]


Component = Annotated[Header | Body | Footer | Buttons | Carousel, Field(discriminator="type")]


# --- desired resources ---------------------------------------------------------------------


class QrCode(Strict):
    """A message QR code that should exist on a business phone number."""

    # What a spec entry may hold besides the fields (``wasync.spec.fanout``).
    ENTRY_KEYS: ClassVar[tuple[str, ...]] = ("overrides",)

    account: str
    phone: str = Field(description="Business number: country code then number, digits only.")
    label: str = Field(description="Your name for this code; part of its address.")
    prefilled_message: str = Field(description="Text the chat opens with; at most 140 chars.")
    image: ImageFormat = Field("SVG", description="Format of the generated image.")
    code: str | None = Field(
        None, description="Pin this entry to an existing remote code (QrdlCode)."
    )
    protect: bool = Field(False, description="Refuse deletion and code-breaking updates.")

    @property
    def address(self) -> str:
        return qr_address(self.account, self.phone, self.label)


class Template(Strict):
    """A message template that should exist, identified by name and language."""

    ENTRY_KEYS: ClassVar[tuple[str, ...]] = ("overrides", "translations")

    account: str
    phone: str | None = Field(
        None,
        description="Business number the template lives on, for providers that keep templates "
        "per number; leave it out where templates belong to the account.",
    )
    name: str
    language: str
    category: Category
    parameter_format: ParameterFormat | None = Field(
        None,
        description="How variables are written: POSITIONAL ({{1}}, the default) or NAMED "
        "({{first_name}}, where the provider takes it).",
    )
    components: list[Component]
    message_send_ttl_seconds: int | None = None
    protect: bool = Field(False, description="Refuse deletion and breaking updates.")

    @property
    def named(self) -> bool:
        """Variables are written by name (``parameter_format: NAMED``)."""
        return self.parameter_format == "NAMED"

    @property
    def address(self) -> str:
        return template_address(self.account, self.phone, self.name, self.language)

    def canonical_components(self) -> list[JsonDict]:
        """``canonical_components(self.components)``, the components dumped in one call."""
        dumped = _components_adapter().dump_python(self.components, mode="json", exclude_none=True)
        return [_named_in_order(_prune_dict(c)) for c in dumped]


@functools.cache
def _components_adapter() -> TypeAdapter[list[Component]]:
    """Built on first use: the schema costs a few milliseconds, wasted on commands that
    compare no template."""
    return TypeAdapter(list[Component])


# --- remote resources ----------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteQrCode:
    account: str
    phone: str
    code: str
    prefilled_message: str
    image: str
    deep_link_url: str = ""
    qr_image_url: str = ""

    @property
    def address(self) -> str:
        """Unmanaged codes have no label: the code stands in for it."""
        return qr_address(self.account, self.phone, self.code)


@dataclass(frozen=True)
class RemoteTemplate:
    account: str
    phone: str | None
    id: str  # the provider's id (CAMS TemplateCode, NXCloud id)
    name: str
    language: str
    category: str  # may be a legacy value such as OTP
    status: str  # canonical upper case: APPROVED, PENDING, REJECTED, PAUSED, DISABLED, ...
    components: tuple[JsonDict, ...] = ()  # canonical dicts, as canonical_components() makes
    message_send_ttl_seconds: int | None = None
    reason: str | None = None  # rejection reason, when the provider gives one
    # False when the listing had no component detail (not fetched because not managed)
    detailed: bool = True
    # When the provider last changed the template (an edit, or a review decision), where
    # its listing says (timezone-aware); None where it does not. Edit budgets use it.
    updated_at: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return template_address(self.account, self.phone, self.name, self.language)


# --- addresses and canonical forms ---------------------------------------------------------


def qr_address(account: str, phone: str, label: str) -> str:
    return f"qr.{account}.{phone}.{label}"


def qr_phone_address(account: str, phone: str) -> str:
    """``qr.<account>.<phone>``: the QR codes of one number, as a group."""
    return f"qr.{account}.{phone}"


def template_address(account: str, phone: str | None, name: str, language: str) -> str:
    """``template.<account>[.<phone>].<name>.<language>``: the phone part only where the
    provider scopes templates by number."""
    parts = ["template", account, *([phone] if phone else []), name, language]
    return ".".join(parts)


def address_of(kind: str, raw: Any) -> str | None:
    """The address of a spec entry as written (``None`` when its identity fields are not
    all there): how an entry in a file is found again."""
    if not isinstance(raw, Mapping):
        return None
    account, phone = raw.get("account"), raw.get("phone")
    if not isinstance(account, str):
        return None
    if kind == "qr_codes":
        label = raw.get("label")
        if isinstance(phone, str) and isinstance(label, str):
            return qr_address(account, phone, label)
        return None
    name, language = raw.get("name"), raw.get("language")
    if isinstance(name, str) and isinstance(language, str):
        return template_address(account, phone if isinstance(phone, str) else None, name, language)
    return None


def canonical_components(components: Iterable[BaseModel | Mapping[str, Any]]) -> list[JsonDict]:
    """The comparable form of components: plain JSON, absent and empty values dropped.

    Providers build remote components through this too, so an unset optional field and a
    provider's ``false``/``[]``/``""`` for it compare equal; named examples, which WhatsApp
    takes in any order, are in the order of their names.
    """
    out: list[JsonDict] = []
    for c in components:
        # exclude_none: the fields left unset go in the dump itself, not in _prune
        raw = c.model_dump(mode="json", exclude_none=True) if isinstance(c, BaseModel) else c
        out.append(_named_in_order(_prune_dict(raw)))
    return out


NAMED_EXAMPLES = ("header_text_named_params", "body_text_named_params")


def _named_in_order(component: JsonDict) -> JsonDict:
    example = component.get("example")
    if isinstance(example, dict) and any(k in example for k in NAMED_EXAMPLES):
        for key in NAMED_EXAMPLES:
            given = example.get(key)
            if isinstance(given, list) and all(isinstance(e, dict) for e in given):
                example[key] = sorted(given, key=lambda e: str(e.get("param_name", "")))
    cards = component.get("cards") if component.get("type") == "CAROUSEL" else None
    if isinstance(cards, list):
        for card in cards:
            parts = card.get("components") if isinstance(card, dict) else None
            if isinstance(parts, list):
                card["components"] = [
                    _named_in_order(p) if isinstance(p, dict) else p for p in parts
                ]
    return component


_SCALARS = (str, int, float, bool, type(None))
_EMPTIES = (str, list, dict)


def _prune_dict(value: Mapping[str, Any]) -> JsonDict:
    """A new mapping without its empty values (``_is_empty``), pruned all the way down.

    Runs on every component of every template, desired and remote: one pass, exact type
    checks first (JSON from a reply or a model dump), the slow abstract ones only after."""
    out: JsonDict = {}
    for k, given in value.items():
        kind = type(given)
        if kind is dict:
            v: Any = _prune_dict(given)
            if not v:
                continue
        elif kind is list:
            v = [x if type(x) in _SCALARS else _prune(x) for x in given]
            if not v:
                continue
        elif kind in _SCALARS:
            if given is None or given is False or (kind is str and not given):
                continue
            v = given
        else:
            v = _prune(given)
            if _is_empty(v):
                continue
        out[k] = v
    return out


def _prune(value: Any) -> Any:
    kind = type(value)
    if kind in _SCALARS:  # most values: skip the slow abstract-type checks below
        return value
    if kind is dict or isinstance(value, Mapping):
        return _prune_dict(value)
    if kind is list or (isinstance(value, Sequence) and not isinstance(value, str)):
        return [_prune(v) for v in value]
    return value


def _is_empty(value: Any) -> bool:
    return value is None or value is False or (not value and isinstance(value, _EMPTIES))


# --- whole states --------------------------------------------------------------------------


@dataclass(frozen=True)
class Desired:
    """Everything the specs say should exist."""

    qr_codes: tuple[QrCode, ...] = ()
    templates: tuple[Template, ...] = ()


@dataclass(frozen=True)
class Remote:
    """Everything the providers hold today, for the accounts in use."""

    qr_codes: tuple[RemoteQrCode, ...] = ()
    templates: tuple[RemoteTemplate, ...] = ()
