"""What the planner must know about CAMS (reference/cams.md)."""

from wasync.providers.whatsapp import APPROVED_EDIT_BUDGET
from wasync.traits import (
    CARD_EXAMPLES,
    CAROUSEL,
    HEADER_EXAMPLE,
    URL_BUTTON_EXAMPLE,
    ProviderTraits,
)

CAMS_TRAITS = ProviderTraits(
    name="cams",
    display_name="CAMS",
    kinds=frozenset({"qr", "template"}),
    # CAMS documents that users can no longer scan the original code after an update.
    qr_update_replaces_code=True,
    template_scope="account",  # templates belong to the CustSpaceId, not to a number
    template_features=frozenset({CAROUSEL}),  # CreateChatappTemplate documents `Cards`
    # "Only unreviewed or rejected templates can be modified" (ModifyChatappTemplate).
    template_editable_statuses=frozenset({"DRAFT", "REJECTED"}),
    template_edit_rereviews=frozenset({"REJECTED"}),
    template_category_editable_statuses=frozenset(),  # "cannot be modified" for WhatsApp
    template_edit_budget=APPROVED_EDIT_BUDGET,  # WhatsApp's, upstream
    template_delete_takes_all_languages=False,  # Delete takes a Language
    # A media sample goes up as the header's Url and may come back as CAMS's own copy;
    # CAMS has no field for Meta's zero-tap terms flag (see providers/cams/mapping.py).
    write_only_component_keys=frozenset({"header_url", "zero_tap_terms_accepted"}),
    # CAMS documents the Example map's keys for body variables only ({"1": "Bob"}); the
    # keys of these are wasync's own (providers/cams/mapping.py, docs/provider-fidelity.md).
    guessed_examples=(
        (HEADER_EXAMPLE, "the Example key header.1"),
        (URL_BUTTON_EXAMPLE, "the Example key button.<b>.1"),
        (
            CARD_EXAMPLES,
            "the Example keys card.<c>.body.<n>, card.<c>.header.1, card.<c>.button.<b>.1",
        ),
    ),
)
