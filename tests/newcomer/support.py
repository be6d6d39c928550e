"""Shared by the newcomer tests: copies of the example specs, and the embedded sandbox's
emulators opened directly on a spec folder's state."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from wasync.sandbox import cams, nxcloud
from wasync.sandbox.embedded import sandbox_state_dir

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "specs"
CAMS_SPACE = "cams-sandbox-space"  # specs/wasync.yaml
NX_APPKEY = "sandbox-appkey"
NX_PHONE = "8618500009999"
QR_PHONES = ("8615800001111", "8615800002222", "8615800003333")


def copy_specs(dest: Path, *, state: bool = False) -> Path:
    """A copy of the example spec folder (without its sandbox state unless ``state``)."""
    ignore = None if state else shutil.ignore_patterns(".wasync")
    shutil.copytree(SPECS, dest, ignore=ignore)
    return dest


def cams_emulator(root: Path, account: str = "shop-cams") -> Any:
    """The CAMS emulator of a sandbox account, on the same state files the embedded
    sandbox uses: what it creates, the next plan or import reads."""
    app = cams.create_app(state_dir=sandbox_state_dir(root, account))
    return app.state.emulator


def nx_emulator(root: Path, account: str = "shop-nx") -> Any:
    app = nxcloud.create_app(state_dir=sandbox_state_dir(root, account))
    return app.state.emulator


def cams_qr(root: Path, phone: str, message: str, image: str = "SVG") -> str:
    """Create a QR code straight in the emulator (as someone using the console would)."""
    reply = cams_emulator(root).call(
        "CreatePhoneMessageQrdl",
        {
            "PhoneNumber": phone,
            "GenerateQrImage": image,
            "PrefilledMessage": message,
            "CustSpaceId": CAMS_SPACE,
        },
    )
    return str(reply["Data"]["QrdlCode"])


def cams_template(root: Path, name: str, components: list[dict[str, Any]], **extra: Any) -> None:
    cams_emulator(root).call(
        "CreateChatappTemplate",
        {
            "Name": name,
            "Language": "en",
            "Category": "MARKETING",
            "TemplateType": "WHATSAPP",
            "Components": components,
            "CustSpaceId": CAMS_SPACE,
            **extra,
        },
    )


def nx_template(root: Path, name: str, category: str, components: list[dict[str, Any]]) -> str:
    reply = nx_emulator(root).create_template(
        {
            "appkey": NX_APPKEY,
            "business_phone": NX_PHONE,
            "messaging_product": "whatsapp",
            "name": name,
            "language": "en_US",
            "category": category,
            "components": components,
        }
    )
    return str(reply["id"])


def nx_recategorise(root: Path, template_id: str, category: str) -> None:
    """Give a stored NXCloud template a category the API no longer accepts (such as the
    legacy OTP): what an account holds when its templates predate Meta's three."""
    path = sandbox_state_dir(root, "shop-nx") / "nxcloud.json"
    state = json.loads(path.read_text(encoding="utf-8"))
    state["phones"][NX_PHONE][template_id]["category"] = category
    path.write_text(json.dumps(state), encoding="utf-8")
