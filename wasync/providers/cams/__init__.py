"""Alibaba Cloud CAMS (Chat App Message Service): message QR codes and WhatsApp templates.

``PLUGIN`` is what the registry knows of it; the client (``client.py``) and the emulator
(``wasync.sandbox.cams``) are imported only when an account needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from wasync.pacing.limits import RateLimits
from wasync.providers.cams.account import CamsAccount
from wasync.providers.cams.traits import CAMS_TRAITS
from wasync.providers.plugin import Credential, EmulatorOptions, ProviderPlugin

if TYPE_CHECKING:  # annotations only: naming the plugin must not import httpx
    import httpx
    from starlette.types import ASGIApp

    from wasync.providers.base import CallGate, Provider, ReadRetry


def _client(
    account: CamsAccount, http: httpx.AsyncClient, gate: CallGate, reads: ReadRetry
) -> Provider:
    from wasync.providers.cams.client import CamsProvider

    return CamsProvider(account, http=http, gate=gate, reads=reads)


def _emulator(options: EmulatorOptions) -> ASGIApp:
    # By name: the providers do not import the emulators (they share no code).
    emulator = importlib.import_module("wasync.sandbox.cams")
    settings: dict[str, Any] = {
        "access_key_id": options.credentials["access_key_id"],
        "access_key_secret": options.credentials["access_key_secret"],
        "state_dir": options.state_dir,
        "faults": options.faults,
        "approve_after": options.approve_after,
    }
    if options.qps is not None:
        settings["qps"] = options.qps
    if options.page_cap is not None:
        settings["page_cap"] = options.page_cap
    app: ASGIApp = emulator.create_app(**settings)
    return app


PLUGIN = ProviderPlugin(
    traits=CAMS_TRAITS,
    account_model=CamsAccount,
    credentials={
        "access_key_id": Credential(
            example="${ALIBABA_CLOUD_ACCESS_KEY_ID}", sandbox="sandbox-access-key-id"
        ),
        "access_key_secret": Credential(
            example="${ALIBABA_CLOUD_ACCESS_KEY_SECRET}", sandbox="sandbox-access-key-secret"
        ),
    },
    # Per Alibaba Cloud account (the AccessKey's owner), region and API (reference/cams.md
    # §2, §3.4): 5/s for each QR code API; 50/s to create or modify a template; 5/s to
    # list, read or delete one.
    limits=RateLimits(
        default=5.0,
        per_api={
            "CreatePhoneMessageQrdl": 5.0,
            "UpdatePhoneMessageQrdl": 5.0,
            "ListPhoneMessageQrdl": 5.0,
            "DeletePhoneMessageQrdl": 5.0,
            "CreateChatappTemplate": 50.0,
            "ModifyChatappTemplate": 50.0,
            "ListChatappTemplate": 5.0,
            "GetChatappTemplateDetail": 5.0,
            "DeleteChatappTemplate": 5.0,
        },
    ),
    client=_client,
    emulator=_emulator,
)
