"""Small builders of desired and remote resources, and the scenario behind the golden files."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from wasync.config import Thresholds
from wasync.model import (
    Desired,
    ImageFormat,
    QrCode,
    Remote,
    RemoteQrCode,
    RemoteTemplate,
    Template,
)
from wasync.plan import AccountSettings, Plan, plan
from wasync.providers.cams.traits import CAMS_TRAITS
from wasync.providers.nxcloud.traits import NXCLOUD_TRAITS

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)  # the golden plan's "now"
CAMS_PHONE = "8615800001111"
NX_PHONE = "8618500009999"
STORE_PHONE = "8615800002222"

Spec = QrCode | Template  # a desired resource
Held = RemoteQrCode | RemoteTemplate  # a remote resource

ACCOUNTS: dict[str, AccountSettings] = {
    "shop-cams": AccountSettings(CAMS_TRAITS),
    "shop-nx": AccountSettings(NXCLOUD_TRAITS),
}


def settings(**prune: bool) -> dict[str, AccountSettings]:
    """ACCOUNTS, with prune switched on for the named accounts (shop_cams=True)."""
    out = dict(ACCOUNTS)
    for name, on in prune.items():
        account = name.replace("_", "-")
        out[account] = AccountSettings(out[account].traits, prune=on)
    return out


def qr(
    label: str,
    message: str,
    *,
    code: str | None = None,
    image: ImageFormat = "SVG",
    protect: bool = False,
    account: str = "shop-cams",
    phone: str = CAMS_PHONE,
) -> QrCode:
    return QrCode(
        account=account,
        phone=phone,
        label=label,
        prefilled_message=message,
        image=image,
        code=code,
        protect=protect,
    )


def rqr(
    code: str,
    message: str,
    *,
    image: str = "SVG",
    account: str = "shop-cams",
    phone: str = CAMS_PHONE,
) -> RemoteQrCode:
    return RemoteQrCode(
        account=account,
        phone=phone,
        code=code,
        prefilled_message=message,
        image=image,
        deep_link_url=f"https://wa.me/message/{code}",
        qr_image_url=f"https://img.example.invalid/qrdl/{code}.{image.lower() or 'svg'}",
    )


def body(text: str, *examples: str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "BODY", "text": text}
    if examples:
        out["example"] = {"body_text": [list(examples)]}
    return out


def tpl(
    name: str,
    language: str = "en_US",
    *,
    components: list[dict[str, Any]] | None = None,
    category: str = "UTILITY",
    account: str = "shop-nx",
    ttl: int | None = None,
    protect: bool = False,
) -> Template:
    phone = NX_PHONE if account == "shop-nx" else None
    return Template.model_validate(
        {
            "account": account,
            "phone": phone,
            "name": name,
            "language": language,
            "category": category,
            "components": components or [body("Your order {{1}} has shipped.", "12345")],
            "message_send_ttl_seconds": ttl,
            "protect": protect,
        }
    )


def rtpl(
    desired: Template,
    *,
    status: str = "APPROVED",
    id: str | None = None,
    **changes: Any,
) -> RemoteTemplate:
    """The remote twin of ``desired`` (same content), with ``changes`` applied on top."""
    fields: dict[str, Any] = {
        "account": desired.account,
        "phone": desired.phone,
        "id": id or f"id-{desired.name}-{desired.language}",
        "name": desired.name,
        "language": desired.language,
        "category": desired.category,
        "status": status,
        "components": tuple(desired.canonical_components()),
        "message_send_ttl_seconds": desired.message_send_ttl_seconds,
    }
    fields.update(changes)
    return RemoteTemplate(**fields)


def make_plan(
    desired: Iterable[Spec] = (),
    remote: Iterable[Held] = (),
    *,
    accounts: Mapping[str, AccountSettings] = ACCOUNTS,
    prune: bool = False,
    now: datetime | None = None,
) -> Plan:
    d, r = list(desired), list(remote)
    return plan(
        Desired(
            qr_codes=tuple(x for x in d if isinstance(x, QrCode)),
            templates=tuple(x for x in d if isinstance(x, Template)),
        ),
        Remote(
            qr_codes=tuple(x for x in r if isinstance(x, RemoteQrCode)),
            templates=tuple(x for x in r if isinstance(x, RemoteTemplate)),
        ),
        accounts=accounts,
        prune=prune,
        now=now,
    )


# --- the golden scenario: every change kind, hazard and blocked reason ------------------------


def golden_plan() -> Plan:
    buttons: dict[str, Any] = {
        "type": "BUTTONS",
        "buttons": [
            {
                "type": "URL",
                "text": "Track",
                "url": "https://shop.example/t/{{1}}",
                "example": ["https://shop.example/t/123"],
            },
            {"type": "QUICK_REPLY", "text": "Stop"},
        ],
    }
    media = {
        "type": "HEADER",
        "format": "IMAGE",
        "example": {"header_url": "https://cdn.example/sample.png"},
    }
    accounts = {
        "shop-cams": AccountSettings(CAMS_TRAITS, prune=True),
        "shop-nx": AccountSettings(
            NXCLOUD_TRAITS, prune=True, thresholds=Thresholds(max_change_share=0.3, min_resources=2)
        ),
        "brand-cams": AccountSettings(CAMS_TRAITS),
    }
    # QR codes (CAMS)
    poster = qr("poster-autumn", "Hello, I saw your poster")
    gone = qr("flyer", "Hi from the flyer", code="GONE1")
    menu = qr("menu", "Show me the menu", code="MENU1")
    moved = qr("table-card", "Book a table", code="OLD22")
    door = qr("door", "Open hours?", code="DOOR1", protect=True)
    # protected, unpinned, reworded: it matched COUNTER1 before
    counter = qr("counter", "Hi, I'm at the counter now", protect=True, phone=STORE_PHONE)
    # templates (CAMS)
    welcome = tpl(
        "welcome",
        "en",
        account="shop-cams",
        category="MARKETING",
        components=[
            {
                "type": "HEADER",
                "format": "TEXT",
                "text": "Hello {{1}}",
                "example": {"header_text": ["Ana"]},
            },
            body(
                "Your code is *{{1}}*: _10% off_ ~full price~.\nType ```HELP``` for help.",
                "WELCOME10",
            ),
            {"type": "FOOTER", "text": "Reply STOP to opt out"},
            buttons,
        ],
    )
    draft = tpl("draft_offer", "en", account="shop-cams", category="MARKETING")
    rejected = tpl("rejected_notice", "en", account="shop-cams")
    approved_cams = tpl("receipt", "en", account="shop-cams")
    pending = tpl("pending_note", "en", account="shop-cams")
    # templates (NXCloud)
    shipped = tpl(
        "order_shipped",
        "en_US",
        components=[media, body("Order {{1}} is on its way.", "1"), buttons],
    )
    recat_rejected = tpl("promo_code", "en_US", category="MARKETING")
    recat_approved = tpl("account_alert", "en_US", category="UTILITY")
    guarded = tpl("otp_login", "en_US", protect=True)
    edited_today = tpl("price_note", "en_US")

    desired: list[Spec] = [
        poster,
        gone,
        menu,
        moved,
        door,
        counter,
        welcome,
        draft,
        rejected,
        approved_cams,
        pending,
        shipped,
        recat_rejected,
        recat_approved,
        guarded,
        edited_today,
    ]
    old_body = [body("Your order {{1}} has shipped.", "12345")]
    shipped_remote = [
        {"type": "HEADER", "format": "IMAGE", "example": {"header_url": "https://cdn.nx/abc.png"}},
        body("Order {{1}} has shipped.", "1"),
        {
            **buttons,
            "buttons": [{**buttons["buttons"][0], "text": "Track it"}, buttons["buttons"][1]],
        },
    ]
    remote: list[Held] = [
        rqr("MENU1", "Menu please"),
        rqr("NEW77", "Book a table"),
        rqr("DOOR1", "When are you open?"),
        rqr("STRAY9", "Old campaign"),
        rqr("COUNTER1", "Hi, I'm at the counter", phone=STORE_PHONE),
        rqr("BRAND1", "Brand hello", account="brand-cams"),
        rtpl(draft, status="DRAFT", category="UTILITY"),
        rtpl(rejected, status="REJECTED", components=(body("Old text"),)),
        rtpl(approved_cams, components=(body("Old receipt"),)),
        rtpl(pending, status="PENDING", components=(body("Old note"),)),
        rtpl(tpl("legacy", "en", account="shop-cams"), status="APPROVED"),
        rtpl(tpl("legacy_brand", "en", account="brand-cams"), status="APPROVED"),
        rtpl(shipped, components=tuple(shipped_remote)),
        rtpl(recat_rejected, status="REJECTED", category="UTILITY"),
        rtpl(recat_approved, category="MARKETING"),
        rtpl(guarded, components=(body("Your code is {{1}}.", "1"),)),
        # approved 3 hours ago: WhatsApp's 1 edit per 24 h is spent
        rtpl(
            edited_today,
            components=(body("Prices change on {{1}}.", "Monday"),),
            updated_at=NOW - timedelta(hours=3),
        ),
        rtpl(tpl("order_shipped", "es"), components=tuple(old_body)),
        rtpl(tpl("old_promo", "en_US"), status="PAUSED"),
        rtpl(tpl("old_promo", "pt_BR"), status="APPROVED"),
    ]
    return make_plan(desired, remote, accounts=accounts, now=NOW)
