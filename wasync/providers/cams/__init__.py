"""Alibaba Cloud CAMS (Chat App Message Service): message QR codes and WhatsApp templates.

``PLUGIN`` is what the registry knows of it; the client (``client.py``) and the emulator
(``wasync.sandbox.cams``) are imported only when an account needs them.
"""

from wasync.pacing.limits import RateLimits
from wasync.providers.cams.account import CamsAccount
from wasync.providers.cams.traits import CAMS_TRAITS
from wasync.providers.plugin import Credential, ProviderPlugin, lazy_client, lazy_emulator

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
    client=lazy_client("wasync.providers.cams.client", "CamsProvider"),
    emulator=lazy_emulator(
        "wasync.sandbox.cams",
        {"access_key_id": "access_key_id", "access_key_secret": "access_key_secret"},
    ),
)
