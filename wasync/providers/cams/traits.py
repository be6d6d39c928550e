"""What the planner must know about CAMS (reference/cams.md)."""

from wasync.providers.base import ProviderTraits

CAMS_TRAITS = ProviderTraits(
    name="cams",
    kinds=frozenset({"qr", "template"}),
    default_qps=5.0,  # 5/s per user for QR operations and template list/get/delete
    # CAMS documents that users can no longer scan the original code after an update.
    qr_update_replaces_code=True,
    template_scope="account",  # templates belong to the CustSpaceId, not to a number
    # "Only unreviewed or rejected templates can be modified" (ModifyChatappTemplate).
    template_editable_statuses=frozenset({"DRAFT", "REJECTED"}),
    template_edit_rereviews=frozenset({"REJECTED"}),
    template_category_editable_statuses=frozenset(),  # "cannot be modified" for WhatsApp
    template_delete_takes_all_languages=False,  # Delete takes a Language
    # A media sample goes up as the header's Url and may come back as CAMS's own copy;
    # CAMS has no field for Meta's zero-tap terms flag (see providers/cams/mapping.py).
    write_only_component_keys=frozenset({"header_url", "zero_tap_terms_accepted"}),
)
