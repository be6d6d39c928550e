"""An NXCloud account in wasync.yaml."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr

from wasync.config import AccountBase


class NxcloudAccount(AccountBase):
    provider: Literal["nxcloud"]
    appkey: str
    access_key: SecretStr | None = None
    secret_key: SecretStr | None = None
