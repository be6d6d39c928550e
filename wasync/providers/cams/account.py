"""A CAMS account in wasync.yaml."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr

from wasync.config import AccountBase


class CamsAccount(AccountBase):
    provider: Literal["cams"]
    cust_space_id: str | None = None
    access_key_id: SecretStr | None = None
    access_key_secret: SecretStr | None = None
