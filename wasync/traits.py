"""What the spec rules and the planner know of a provider: pure data, no I/O.

Each provider declares its ``ProviderTraits`` in its own folder and hands them to the
registry with its plugin (``wasync.providers.plugin``). Everything below the providers (the
spec rules, the planner, its safety messages) reads a provider's name, display name and
abilities from here, so none of it names a provider.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from wasync.model import Kind

CAROUSEL = "carousel"  # a template feature: the API takes a CAROUSEL component
# a template feature: parameter_format NAMED ({{first_name}} variables, named examples)
NAMED_PARAMETERS = "named_parameters"

# How a provider takes a media header's sample (``template_media_samples``).
SAMPLE_URL = "url"  # example.header_url: a public URL the provider fetches
SAMPLE_FILE = "file"  # example.header_file: a file of the spec folder, uploaded by the client

# Kinds of example a provider may lack a documented field for (``guessed_examples``).
HEADER_EXAMPLE = "header_text"  # the example of a text header's {{1}}
URL_BUTTON_EXAMPLE = "url_button"  # the full example URL of a dynamic URL button
CARD_EXAMPLES = "card"  # the examples inside carousel cards (body, header, URL buttons)


@dataclass(frozen=True)
class EditBudget:
    """How many edits a template takes per window of time, in the statuses it counts
    (WhatsApp: an approved template takes 1 edit per 24 h and 10 per 30 days).

    The planner checks what one remote timestamp can tell (a window that allows a single
    edit, against the time the provider last changed the template) and blocks such an
    edit at plan time instead of letting apply discover the refusal; the rest is said in
    the re-review hazard."""

    statuses: frozenset[str]  # statuses whose edits count (e.g. APPROVED)
    windows: tuple[tuple[int, int], ...]  # (seconds, edits allowed within them), shortest first
    owner: str = "WhatsApp"  # who sets the budget, as people say it

    def describe(self) -> str:
        """``1 edit per 24 h and 10 per 30 days``."""
        parts = []
        for i, (seconds, edits) in enumerate(self.windows):
            noun = ("edit" if edits == 1 else "edits") if i == 0 else ""
            parts.append(" ".join(p for p in (str(edits), noun, "per", _span(seconds)) if p))
        return " and ".join(parts)

    def single_edit_window(self) -> int | None:
        """The shortest window that allows one edit only, in seconds (None: none does)."""
        return next((seconds for seconds, edits in self.windows if edits == 1), None)


@dataclass(frozen=True)
class CallBudget:
    """Calls a provider allows an account per window of time, whatever their rate (Meta:
    template management requests per WABA per rolling hour; template creations too).

    The planner counts the changes it plans against it, and says when an apply will take
    longer than one window (``changes``: the (kind, action) pairs that cost one call each).
    The session paces the client's calls against it (``apis``: the calls that count), and
    the provider's usage reports (``reported``) slow them down before it is spent."""

    name: str  # what is counted, as people say it: "template management requests"
    window: int  # seconds
    calls: int  # allowed within a window, by default
    changes: frozenset[tuple[str, str]] = frozenset()  # (kind, action) a change costs
    apis: frozenset[str] = frozenset()  # the client's API names that count
    per: str = "account"  # what the provider counts per, as people say it: "WABA"
    counted_by: str | None = None  # the account field holding it (None: the credential)
    setting: str | None = None  # an account field that overrides ``calls``
    reported: bool = False  # the provider's usage reports measure this budget

    def describe(self) -> str:
        """``200 template management requests per WABA an hour``."""
        return f"{self.calls:,} {self.name} per {self.per} {_per_window(self.window)}"


def _per_window(seconds: int) -> str:
    if seconds == 3600:
        return "an hour"
    if seconds == 86_400:
        return "a day"
    return f"per {_span(seconds)}"


def _span(seconds: int) -> str:
    if seconds % 86400 == 0 and seconds > 86400:
        return f"{seconds // 86400} days"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds} s"


@dataclass(frozen=True)
class ProviderTraits:
    """Facts about a provider that the spec rules and the planner need."""

    name: str  # the `provider:` of wasync.yaml
    kinds: frozenset[Kind]  # resource kinds the provider manages
    display_name: str = ""  # as people write it ("CAMS", "NXCloud"); default: ``name``
    # QR codes
    qr_update_replaces_code: bool = False  # an update retires the printed code
    qr_codes_per_phone: int | None = None  # the most codes one number may hold, if limited
    # templates
    template_scope: str = "account"  # "account" (one set per account) or "phone" (per number)
    # optional parts of WhatsApp's template shapes the provider's API takes (``CAROUSEL``)
    template_features: frozenset[str] = frozenset()
    # how the API takes a media header's sample: SAMPLE_URL, SAMPLE_FILE
    template_media_samples: frozenset[str] = frozenset({SAMPLE_URL})
    template_editable_statuses: frozenset[str] = frozenset()  # statuses where edit is allowed
    template_edit_rereviews: frozenset[str] = frozenset()  # statuses where an edit re-reviews
    template_category_editable_statuses: frozenset[str] = frozenset()
    # edits allowed per window of time, where the provider or WhatsApp limits them
    template_edit_budget: EditBudget | None = None
    # a delete by name removes every language of that name
    template_delete_takes_all_languages: bool = False
    # component keys the provider accepts but does not read back; left out of comparisons
    write_only_component_keys: frozenset[str] = field(default_factory=frozenset)
    # whether the template listing returns message_send_ttl_seconds (else write-only)
    template_ttl_read_back: bool = True
    # whether an update can change message_send_ttl_seconds (else only a create sets it)
    template_ttl_updatable: bool = True
    # Examples the provider documents no wire field for, which wasync sends in a form of its
    # own guessing (docs/provider-fidelity.md): ``validate`` warns where a spec uses one.
    # Pairs of a kind (HEADER_EXAMPLE, URL_BUTTON_EXAMPLE, CARD_EXAMPLES) and the wire form.
    guessed_examples: tuple[tuple[str, str], ...] = ()
    # calls allowed per window of time, whatever their rate (see ``CallBudget``)
    call_budgets: tuple[CallBudget, ...] = ()

    def __post_init__(self) -> None:
        if not self.display_name:
            object.__setattr__(self, "display_name", self.name)


def display_names(providers: Iterable[ProviderTraits]) -> str:
    """``CAMS`` or ``CAMS, NXCloud``: the display names of ``providers``, by provider name."""
    return ", ".join(t.display_name for t in sorted(providers, key=lambda t: t.name))
