"""A Meta (WhatsApp Cloud API) account in wasync.yaml: one WhatsApp Business Account."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from wasync.config import AccountBase, AccountProblem
from wasync.model import Carousel, Desired, Header, Template

GRAPH_HOST = "https://graph.facebook.com"
# The Graph API version wasync speaks unless the account says otherwise (Meta's pages of
# late 2025 and 2026 show v23.0 to v25.0; a version is served for about two years).
GRAPH_VERSION = "v25.0"
MEDIA_FORMATS = frozenset({"IMAGE", "VIDEO", "DOCUMENT"})
_VERSION = re.compile(r"v[0-9]{1,3}\.[0-9]{1,2}")
_ID = re.compile(r"[0-9]{1,20}")


class MetaAccount(AccountBase):
    provider: Literal["meta"]
    endpoint: str = Field(
        GRAPH_HOST,
        description="The Graph API host (default https://graph.facebook.com), or 'sandbox' "
        "for the built-in emulator.",
    )
    waba_id: str = Field(description="The WhatsApp Business Account ID (digits).")
    access_token: SecretStr | None = Field(
        None,
        description="A system user's access token with whatsapp_business_management, from "
        "the environment: access_token: ${META_ACCESS_TOKEN}.",
    )
    graph_version: str = Field(
        GRAPH_VERSION, description="The Graph API version to call, e.g. v25.0."
    )
    app_id: str | None = Field(
        None,
        description="The Meta app ID; needed to upload the sample of a media header "
        "(Resumable Upload API).",
    )
    requests_per_hour: int = Field(
        200,
        ge=1,
        description="Meta's budget of template management requests per WABA per hour: "
        "200, or 5000 for an active WABA with a registered number. wasync paces itself "
        "under it, and slows down further when Meta's usage header says so.",
    )

    @field_validator("waba_id", "app_id")
    @classmethod
    def _digits(cls, value: str | None) -> str | None:
        if value is not None and not _ID.fullmatch(value):
            raise ValueError("expected the numeric ID Meta shows (digits only); quote it")
        return value

    @field_validator("graph_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not _VERSION.fullmatch(value):
            raise ValueError(f"{value!r} is not a Graph API version; write it like v25.0")
        return value

    def check_use(self, desired: Desired) -> list[AccountProblem]:
        """A template with an IMAGE, VIDEO or DOCUMENT header uploads its sample with the
        Resumable Upload API, which is called on the app: ``app_id`` is then required."""
        if self.app_id or not any(has_media_header(t) for t in desired.templates):
            return []
        return [
            AccountProblem(
                "app_id",
                "required, because a template of this account has an IMAGE, VIDEO or "
                "DOCUMENT header: Meta takes its sample as an upload to your app "
                "(POST /{app-id}/uploads); add app_id: with the App ID shown at the top of "
                "your app's dashboard on developers.facebook.com",
            )
        ]


def has_media_header(template: Template) -> bool:
    """A media header in ``template`` or in one of its carousel cards."""
    for component in template.components:
        if isinstance(component, Header) and component.format in MEDIA_FORMATS:
            return True
        if isinstance(component, Carousel) and any(
            isinstance(part, Header) and part.format in MEDIA_FORMATS
            for card in component.cards
            for part in card.components
        ):
            return True
    return False
