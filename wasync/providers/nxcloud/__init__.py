"""NXCloud's WhatsApp HTTP API: WhatsApp templates, per business number.

``PLUGIN`` is what the registry knows of it; the client (``client.py``) and the emulator
(``wasync.sandbox.nxcloud``) are imported only when an account needs them.
"""

from wasync.pacing.limits import RateLimits
from wasync.providers.nxcloud.account import NxcloudAccount
from wasync.providers.nxcloud.traits import NXCLOUD_TRAITS
from wasync.providers.plugin import Credential, ProviderPlugin, lazy_client, lazy_emulator

PLUGIN = ProviderPlugin(
    traits=NXCLOUD_TRAITS,
    account_model=NxcloudAccount,
    credentials={
        "access_key": Credential(example="${NXCLOUD_ACCESS_KEY}", sandbox="sandbox-access-key-id"),
        "secret_key": Credential(
            example="${NXCLOUD_SECRET_KEY}", sandbox="sandbox-access-key-secret"
        ),
    },
    # None documented: one conservative budget that every API shares, per access key;
    # configurable per account (qps:, a number or per API).
    limits=RateLimits(
        default=5.0,
        apis=frozenset({"createTemplate", "updateTemplate", "getTemplate", "deleteTemplate"}),
    ),
    client=lazy_client("wasync.providers.nxcloud.client", "NxcloudProvider"),
    emulator=lazy_emulator(
        "wasync.sandbox.nxcloud", {"access_key_id": "access_key", "access_key_secret": "secret_key"}
    ),
)
