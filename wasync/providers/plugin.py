"""What a provider is, in one object: ``ProviderPlugin``.

Each provider's folder defines one ``PLUGIN`` (``wasync/providers/<name>/__init__.py``) and
the registry (``wasync.providers.registry``) maps the provider's name to it. Everything
else asks the registry: wasync.yaml's account model and credential fields, the spec rules'
and planner's traits, the session's client and sandbox, ``sandbox serve``, the documented
limits. Like pre-commit's table of languages: a plugin is data plus a few factories.

A plugin module stays cheap to import: its factories name their client and emulator modules
(``lazy_client``, ``lazy_emulator``) and import them when first called, so ``wasync
validate`` never loads an HTTP client and the providers never import the emulators
(``wasync.sandbox``, which share no code with the clients).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

from pydantic import SecretStr

from wasync.config import AccountBase
from wasync.pacing.limits import RateLimits, Window
from wasync.traits import CallBudget, ProviderTraits

if TYPE_CHECKING:  # for annotations only: validate must not pay for importing httpx
    import httpx
    from starlette.types import ASGIApp

    from wasync.providers.base import CallGate, Provider, ReadRetry

A = TypeVar("A", bound=AccountBase)


@dataclass(frozen=True)
class Credential:
    """One credential field of a provider's account (a ``SecretStr`` field of its model)."""

    example: str  # how wasync.yaml should write it: "${NXCLOUD_ACCESS_KEY}"
    sandbox: str  # the value the emulator accepts (published, fake) when the account has none


@dataclass(frozen=True)
class EmulatorOptions:
    """How to run a provider's emulator (``endpoint: sandbox``, ``wasync sandbox serve``)."""

    credentials: Mapping[str, str]  # credential field -> the value the emulator accepts
    state_dir: Path | None = None  # None: state in memory
    # A ``wasync.sandbox.common.FaultConfig`` or None; opaque here, because the providers do
    # not import the emulators (an emulator shares no code with its client).
    faults: Any = None
    approve_after: float | None = None  # seconds until a template under review passes
    qps: float | None = None  # the emulator's own rate limit; None: the documented one
    page_cap: int | None = None  # at most this many items a listing page; None: the API's


ClientFactory: TypeAlias = "Callable[[A, httpx.AsyncClient, CallGate, ReadRetry], Provider]"
EmulatorFactory: TypeAlias = "Callable[[EmulatorOptions], ASGIApp]"


@dataclass(frozen=True)
class ProviderPlugin(Generic[A]):
    """Everything wasync needs to know to use one provider.

    - ``traits``: name, display name, resource kinds and the facts the planner and the spec
      rules need (``wasync.traits``);
    - ``account_model``: the pydantic model of a wasync.yaml account on this provider, a
      subclass of ``AccountBase`` whose ``provider`` is ``Literal[<name>]``;
    - ``credentials``: its secret fields (``SecretStr | None`` in the model), each with the
      example that error messages show and the sandbox's fake value;
    - ``limits``: the documented request rates (``wasync.pacing.RateLimits``);
    - ``client``: ``(account, http, gate, reads) -> Provider``; ``http`` has the base URL,
      transport and timeout set; every call goes through ``gate``, every read through
      ``reads``;
    - ``emulator``: ``EmulatorOptions -> ASGI app``, a faithful emulator of the API, or None
      when the provider has no sandbox.
    """

    traits: ProviderTraits
    account_model: type[A]
    credentials: Mapping[str, Credential]
    limits: RateLimits
    client: ClientFactory[A]
    emulator: EmulatorFactory | None = None

    def __post_init__(self) -> None:
        fields = self.account_model.model_fields
        provider = fields["provider"].annotation
        if getattr(provider, "__args__", None) != (self.name,):
            raise ValueError(
                f"{self.account_model.__name__}.provider must be Literal[{self.name!r}]"
            )
        unknown = [name for name in self.credentials if name not in fields]
        if unknown:
            raise ValueError(
                f"{self.account_model.__name__} has no field {', '.join(unknown)} "
                "for the credentials the plugin lists"
            )

    @property
    def name(self) -> str:
        return self.traits.name

    @property
    def display_name(self) -> str:
        return self.traits.display_name

    @property
    def api_names(self) -> frozenset[str]:
        """The APIs the client calls (``limits.apis``): what a ``qps:`` map may name."""
        return self.limits.apis

    def call_budgets(self, account: A) -> tuple[CallBudget, ...]:
        """The traits' budgets of calls per window, as they hold for ``account``: a budget
        with a ``setting`` takes its size from that field of the account where it is set."""
        out = []
        for budget in self.traits.call_budgets:
            value = getattr(account, budget.setting, None) if budget.setting else None
            out.append(replace(budget, calls=int(value)) if isinstance(value, int) else budget)
        return tuple(out)

    def limits_for(self, account: A) -> RateLimits:
        """The limits ``account``'s calls are paced by: the documented rates under its
        ``qps:``, and a window for each budget of calls (``call_budgets``), counted per the
        account field the budget names (e.g. a WABA) or else per credential."""
        windows = []
        for budget in self.call_budgets(account):
            key = ""
            if budget.counted_by:
                key = f"{budget.per} {getattr(account, budget.counted_by, '')}"
            windows.append(
                Window(
                    name=budget.name,
                    seconds=float(budget.window),
                    calls=budget.calls,
                    apis=budget.apis,
                    key=key,
                    reported=budget.reported,
                    label=budget.describe(),
                )
            )
        limits = self.limits.overridden(account.qps)
        return limits.with_windows(windows) if windows else limits

    def sandbox_account(self, account: A) -> A:
        """``account`` with the emulator's fake value in each credential it leaves empty."""
        missing = {
            name: SecretStr(credential.sandbox)
            for name, credential in self.credentials.items()
            if getattr(account, name) is None
        }
        return account.model_copy(update=missing) if missing else account

    def secrets(self, account: A) -> dict[str, str]:
        """The credentials ``account`` holds, by field (those it leaves empty left out)."""
        values: dict[str, str] = {}
        for name in self.credentials:
            value = getattr(account, name)
            if isinstance(value, SecretStr):
                values[name] = value.get_secret_value()
            elif isinstance(value, str):
                values[name] = value
        return values


def lazy_client(module: str, name: str) -> ClientFactory[Any]:
    """A client factory for the ``HttpProvider`` subclass ``module.name``, imported when the
    first client is made: ``name(account, http=..., gate=..., reads=...)``."""

    def client(
        account: AccountBase, http: httpx.AsyncClient, gate: CallGate, reads: ReadRetry
    ) -> Provider:
        provider: Provider = getattr(importlib.import_module(module), name)(
            account, http=http, gate=gate, reads=reads
        )
        return provider

    return client


def lazy_emulator(module: str, credentials: Mapping[str, str]) -> EmulatorFactory:
    """An emulator factory for ``module.create_app``, imported when the first emulator is
    made. ``credentials`` maps each of ``create_app``'s credential arguments to the
    plugin's credential field that holds its value (``{"access_key_id": "access_key"}``)."""

    def emulator(options: EmulatorOptions) -> ASGIApp:
        settings: dict[str, Any] = {
            argument: options.credentials[field] for argument, field in credentials.items()
        }
        settings.update(
            state_dir=options.state_dir, faults=options.faults, approve_after=options.approve_after
        )
        if options.qps is not None:  # else the emulator's own default: the documented rate
            settings["qps"] = options.qps
        if options.page_cap is not None:  # else the API's own page sizes
            settings["page_cap"] = options.page_cap
        app: ASGIApp = importlib.import_module(module).create_app(**settings)
        return app

    return emulator
