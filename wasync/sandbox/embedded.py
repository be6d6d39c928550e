"""``endpoint: sandbox``: the provider's emulator, in this process, behind the real client.

Requests go through the real client, its signing and httpx, into the emulator over an
in-process ASGI transport; state lives in ``.wasync/sandbox/<account>/`` next to wasync.yaml,
so plan, apply, plan works on a fresh clone with no account and no environment variable.
"""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

from pydantic import SecretStr
from starlette.types import ASGIApp

from wasync.config import Account, CamsAccount, NxcloudAccount
from wasync.sandbox.common import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    FaultConfig,
    InProcessTransport,
)

SANDBOX_DIR = Path(".wasync") / "sandbox"
SANDBOX_BASE_URL = "https://sandbox.wasync.invalid"  # never resolved: the transport serves it
# Templates in the sandbox pass review this many seconds after submission, so the review
# lifecycle (and the edits it blocks) shows up without waiting for a human.
SANDBOX_REVIEW_SECONDS = 10.0


def sandbox_state_dir(root: Path, account: str) -> Path:
    return root / SANDBOX_DIR / account


def with_sandbox_credentials(account: Account) -> Account:
    """The emulator's published fake credentials, where the account gives none."""
    fake_id, fake_secret = SecretStr(DEFAULT_ACCESS_KEY_ID), SecretStr(DEFAULT_ACCESS_KEY_SECRET)
    if isinstance(account, CamsAccount):
        return account.model_copy(
            update={
                "access_key_id": account.access_key_id or fake_id,
                "access_key_secret": account.access_key_secret or fake_secret,
            }
        )
    assert isinstance(account, NxcloudAccount)
    return account.model_copy(
        update={
            "access_key": account.access_key or fake_id,
            "secret_key": account.secret_key or fake_secret,
        }
    )


def embedded_transport(
    account: Account, root: Path, faults: FaultConfig | None = None
) -> InProcessTransport:
    """An in-process transport into this account's own emulator, with persisted state."""
    creds = with_sandbox_credentials(account)
    if isinstance(creds, CamsAccount):
        key_id, secret = creds.access_key_id, creds.access_key_secret
    else:
        key_id, secret = creds.access_key, creds.secret_key
    assert key_id is not None and secret is not None
    module = importlib.import_module(f"wasync.sandbox.{account.provider}")
    app: ASGIApp = module.create_app(
        access_key_id=key_id.get_secret_value(),
        access_key_secret=secret.get_secret_value(),
        state_dir=sandbox_state_dir(root, account.name),
        faults=faults,
        approve_after=SANDBOX_REVIEW_SECONDS,
    )
    return InProcessTransport(app)


def reset_sandbox(root: Path) -> list[str]:
    """Delete the embedded sandbox state under ``root``; returns the accounts cleared."""
    folder = root / SANDBOX_DIR
    if not folder.is_dir():
        return []
    cleared = sorted(p.name for p in folder.iterdir() if p.is_dir())
    shutil.rmtree(folder)
    return cleared
