"""What the planner and the spec rules must know about Meta's WhatsApp Cloud API
(reference/meta-whatsapp.md)."""

from wasync.providers.whatsapp import APPROVED_EDIT_BUDGET
from wasync.traits import (
    CAROUSEL,
    NAMED_PARAMETERS,
    SAMPLE_FILE,
    CallBudget,
    ProviderTraits,
)

HOUR = 3600

# The client's API names (``qps:`` may name them), by what they call.
PHONE_NUMBERS = "phone_numbers"  # GET /{WABA_ID}/phone_numbers
LIST_TEMPLATES = "message_templates.list"  # GET /{WABA_ID}/message_templates
CREATE_TEMPLATE = "message_templates.create"  # POST /{WABA_ID}/message_templates
DELETE_TEMPLATE = "message_templates.delete"  # DELETE /{WABA_ID}/message_templates
EDIT_TEMPLATE = "template.edit"  # POST /{TEMPLATE_ID}
LIST_QR = "message_qrdls.list"  # GET /{PHONE_NUMBER_ID}/message_qrdls
CREATE_QR = "message_qrdls.create"  # POST /{PHONE_NUMBER_ID}/message_qrdls
UPDATE_QR = "message_qrdls.update"  # POST /{PHONE_NUMBER_ID}/message_qrdls with a code
DELETE_QR = "message_qrdls.delete"  # DELETE /{PHONE_NUMBER_ID}/message_qrdls/{code}
START_UPLOAD = "uploads.start"  # POST /{APP_ID}/uploads
UPLOAD = "uploads.send"  # POST /upload:{SESSION}
UPLOAD_STATUS = "uploads.status"  # GET /upload:{SESSION}

APIS = frozenset(
    {
        PHONE_NUMBERS,
        LIST_TEMPLATES,
        CREATE_TEMPLATE,
        DELETE_TEMPLATE,
        EDIT_TEMPLATE,
        LIST_QR,
        CREATE_QR,
        UPDATE_QR,
        DELETE_QR,
        START_UPLOAD,
        UPLOAD,
        UPLOAD_STATUS,
    }
)

# Meta's rate limits page: the WhatsApp Business Management API allows an app 200
# requests per WABA per rolling hour (5,000 for an active WABA with a registered number),
# GET /{WABA}/phone_numbers and GET|POST|DELETE /{WABA}/message_templates among them;
# POST /{TEMPLATE_ID} is counted too (a guess: the page lists WABA edges only). Template
# Fundamentals: at most 100 template creations per WABA per hour.
WABA_REQUESTS = CallBudget(
    name="template management requests",
    window=HOUR,
    calls=200,
    changes=frozenset({("template", "create"), ("template", "update"), ("template", "delete")}),
    apis=frozenset(
        {PHONE_NUMBERS, LIST_TEMPLATES, CREATE_TEMPLATE, DELETE_TEMPLATE, EDIT_TEMPLATE}
    ),
    per="WABA",
    counted_by="waba_id",
    setting="requests_per_hour",
    reported=True,  # X-Business-Use-Case-Usage
)
TEMPLATE_CREATIONS = CallBudget(
    name="template creations",
    window=HOUR,
    calls=100,
    changes=frozenset({("template", "create")}),
    apis=frozenset({CREATE_TEMPLATE}),
    per="WABA",
    counted_by="waba_id",
)

META_TRAITS = ProviderTraits(
    name="meta",
    display_name="Meta",
    kinds=frozenset({"qr", "template"}),
    # QR Codes and Short Links: an update changes the prefilled message; the code and its
    # short link stay (the example answers with the same code).
    qr_update_replaces_code=False,
    qr_codes_per_phone=2000,  # "cannot be associated with more than 2,000 QR codes"
    template_scope="account",  # templates belong to the WABA
    template_features=frozenset({CAROUSEL, NAMED_PARAMETERS}),
    # A media header's sample is a handle from the Resumable Upload API, not a URL.
    template_media_samples=frozenset({SAMPLE_FILE}),
    # Template management: only APPROVED, REJECTED or PAUSED templates can be edited; an
    # edit of an approved or paused one goes back to review; an approved template's
    # category cannot be edited (a paused one's: the page forbids only approved).
    template_editable_statuses=frozenset({"APPROVED", "REJECTED", "PAUSED"}),
    template_edit_rereviews=frozenset({"APPROVED", "PAUSED"}),
    template_category_editable_statuses=frozenset({"REJECTED", "PAUSED"}),
    template_edit_budget=APPROVED_EDIT_BUDGET,
    template_delete_takes_all_languages=False,  # hsm_id + name deletes one language
    # The sample goes up as an upload and comes back as Meta's CDN copy; a zero-tap
    # button's terms acceptance is not part of the OTP button Meta reads back.
    write_only_component_keys=frozenset({"header_file", "zero_tap_terms_accepted"}),
    template_ttl_read_back=True,  # message_send_ttl_seconds is a field of the template
    template_ttl_updatable=True,  # POST /{TEMPLATE_ID} takes it
    call_budgets=(WABA_REQUESTS, TEMPLATE_CREATIONS),
)
