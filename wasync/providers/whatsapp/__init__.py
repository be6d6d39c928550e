"""Meta's WhatsApp shapes, for every provider that speaks or passes them through.

Meta's WhatsApp Business Management API defines the template object, its components, and
the Graph API's conventions (the error object, cursor paging). NXCloud passes them through
almost unchanged, the Meta provider speaks them natively, and CAMS, which has PascalCase
shapes of its own, shares Meta's enumerations. A provider's own departures (NXCloud's
sample URL field, its one-app OTP form, its envelope) stay in that provider's folder.

- ``components``: template components, canonical <-> Meta's JSON (buttons, OTP,
  authentication wording, example shapes);
- ``templates``: the template object of a listing (id, status, quality, ...);
- ``graph``: the Graph API's error object and cursor paging.
"""

from wasync.traits import EditBudget

# WhatsApp's edit limit on an approved template, whoever passes the edit on (M-TM): one
# edit per 24 hours and ten per 30 days; rejected and paused templates are not limited.
APPROVED_EDIT_BUDGET = EditBudget(
    statuses=frozenset({"APPROVED"}), windows=((86_400, 1), (30 * 86_400, 10))
)


class MalformedError(ValueError):
    """A reply does not have the shape Meta documents; the message says where."""
