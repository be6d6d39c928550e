"""Meta's WhatsApp Cloud API (Graph API): the message templates of a WhatsApp Business
Account and the message QR codes of its numbers, straight from the source.

``PLUGIN`` is what the registry knows of it; the client (``client.py``) and the emulator
(``wasync.sandbox.meta``) are imported only when an account needs them.
"""

from wasync.pacing.limits import RateLimits
from wasync.providers.meta.account import MetaAccount
from wasync.providers.meta.traits import APIS, META_TRAITS
from wasync.providers.plugin import Credential, ProviderPlugin, lazy_client, lazy_emulator

PLUGIN = ProviderPlugin(
    traits=META_TRAITS,
    account_model=MetaAccount,
    credentials={
        "access_token": Credential(example="${META_ACCESS_TOKEN}", sandbox="sandbox-access-token"),
    },
    # Meta documents no per-second limit for template and QR code management, only budgets
    # per WABA per hour (the traits' call_budgets, paced by the gate's windows): every API
    # shares one conservative pace per token.
    limits=RateLimits(default=10.0, apis=APIS),
    client=lazy_client("wasync.providers.meta.client", "MetaProvider"),
    emulator=lazy_emulator("wasync.sandbox.meta", {"access_token": "access_token"}),
)
