"""What the planner must know about NXCloud (reference/nxcloud.md; Meta's rules upstream)."""

from wasync.providers.whatsapp import APPROVED_EDIT_BUDGET
from wasync.traits import CAROUSEL, ProviderTraits

NXCLOUD_TRAITS = ProviderTraits(
    name="nxcloud",
    display_name="NXCloud",
    kinds=frozenset({"template"}),  # NXCloud has no QR code API
    template_scope="phone",  # every call names the business_phone
    # The updateTemplate page's component table has `cards` for type CAROUSEL.
    template_features=frozenset({CAROUSEL}),
    # Meta: editable when APPROVED, REJECTED or PAUSED; PENDING cannot be edited.
    template_editable_statuses=frozenset({"APPROVED", "REJECTED", "PAUSED"}),
    # An edit of an approved or paused template goes back to review (1/24 h, 10/30 days).
    template_edit_rereviews=frozenset({"APPROVED", "PAUSED"}),
    template_category_editable_statuses=frozenset({"REJECTED"}),
    template_edit_budget=APPROVED_EDIT_BUDGET,  # WhatsApp's, upstream
    template_delete_takes_all_languages=True,  # deleteTemplate takes a name only
    # Media samples go up as URLs and come back as Meta's CDN links; a zero-tap button's
    # terms acceptance is sent once and not part of the OTP button Meta reads back.
    # getTemplate's documented fields have no TTL: it can be set, never compared.
    template_ttl_read_back=False,
    # updateTemplate's page lists no message_send_ttl_seconds: only createTemplate sets it.
    template_ttl_updatable=False,
    write_only_component_keys=frozenset({"header_url", "zero_tap_terms_accepted"}),
)
