"""A CAMS account in wasync.yaml."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr

from wasync.config import AccountBase, AccountProblem
from wasync.model import Desired


class CamsAccount(AccountBase):
    provider: Literal["cams"]
    cust_space_id: str | None = None
    access_key_id: SecretStr | None = None
    access_key_secret: SecretStr | None = None

    def check_use(self, desired: Desired) -> list[AccountProblem]:
        """CreateChatappTemplate, ModifyChatappTemplate and GetChatappTemplateDetail require
        CustSpaceId (the current API metadata): an account with templates needs one."""
        if not desired.templates or self.cust_space_id:
            return []
        return [
            AccountProblem(
                "cust_space_id",
                "required, because this account manages templates: CAMS's template calls "
                "(CreateChatappTemplate, ModifyChatappTemplate, GetChatappTemplateDetail) "
                "need CustSpaceId; add cust_space_id: with the Space ID of your ISV "
                "sub-customer or the instance ID of your direct-customer account, shown on "
                "the Channel Management page of the CAMS console",
            )
        ]
