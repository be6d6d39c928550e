"""NXCloud's WhatsApp HTTP API: WhatsApp templates, per business number.

``PLUGIN`` is what the registry knows of it; the client (``client.py``) and the emulator
(``wasync.sandbox.nxcloud``) are imported only when an account needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from wasync.pacing.limits import RateLimits
from wasync.providers.nxcloud.account import NxcloudAccount
from wasync.providers.nxcloud.traits import NXCLOUD_TRAITS
from wasync.providers.plugin import Credential, EmulatorOptions, ProviderPlugin

if TYPE_CHECKING:  # annotations only: naming the plugin must not import httpx
    import httpx
    from starlette.types import ASGIApp

    from wasync.providers.base import CallGate, Provider, ReadRetry


def _client(
    account: NxcloudAccount, http: httpx.AsyncClient, gate: CallGate, reads: ReadRetry
) -> Provider:
    from wasync.providers.nxcloud.client import NxcloudProvider

    return NxcloudProvider(account, http=http, gate=gate, reads=reads)


def _emulator(options: EmulatorOptions) -> ASGIApp:
    # By name: the providers do not import the emulators (they share no code).
    emulator = importlib.import_module("wasync.sandbox.nxcloud")
    settings: dict[str, Any] = {
        "access_key_id": options.credentials["access_key"],
        "access_key_secret": options.credentials["secret_key"],
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
    client=_client,
    emulator=_emulator,
)
