"""wasync.yaml: the accounts a spec folder manages, their providers and credentials.

Credentials are written as ``${VAR}`` and read from the environment at load time; they are
held as ``SecretStr`` so that no repr, log or error can show them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from wasync.errors import Location

SANDBOX = "sandbox"
CONFIG_FILE = "wasync.yaml"


class Thresholds(BaseModel):
    """octoDNS-style brakes: stop an apply that would change too much of an account."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_change_share: float = Field(
        0.30, ge=0, le=1, description="Largest share of managed resources to update+delete."
    )
    min_resources: int = Field(
        10, ge=0, description="The share applies only to accounts with at least this many."
    )


class AccountBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="The account's key in wasync.yaml; part of addresses.")
    endpoint: str = Field(
        SANDBOX, description="'sandbox' (in-process emulator) or the provider's https URL."
    )
    qps: float | None = Field(None, gt=0, description="Requests per second; default: documented.")
    prune: bool = Field(False, description="Delete remote resources that no spec names.")
    timeout: float = Field(30.0, gt=0, description="Seconds to wait for any one HTTP call.")
    allow_insecure_http: bool = Field(
        False, description="Allow an http:// endpoint (only for your own test servers)."
    )
    thresholds: Thresholds = Field(default_factory=Thresholds)

    @property
    def is_sandbox(self) -> bool:
        return self.endpoint == SANDBOX


class CamsAccount(AccountBase):
    provider: Literal["cams"]
    cust_space_id: str | None = None
    access_key_id: SecretStr | None = None
    access_key_secret: SecretStr | None = None


class NxcloudAccount(AccountBase):
    provider: Literal["nxcloud"]
    appkey: str
    access_key: SecretStr | None = None
    secret_key: SecretStr | None = None


Account = Annotated[CamsAccount | NxcloudAccount, Field(discriminator="provider")]


class Config(BaseModel):
    """A loaded wasync.yaml. ``root`` is the folder it lives in (sandbox state goes there)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    root: Path
    accounts: dict[str, Account]
    locations: dict[str, Location] = Field(
        default_factory=dict, description="Where each account is declared, by account name."
    )
