"""A session: one open connection per account in use (HTTP client, provider, rate gate).

This is where an account's settings become a working provider: the endpoint (or the embedded
sandbox), TLS and timeout settings, credentials, the rate gate every call passes through
(over the session's buckets: accounts that share a credential share its buckets), and the
retry policy every read call follows (``RetryingReads``). What differs by provider
(the client, the emulator and its fake credentials, the documented rate) comes from the
provider's plugin in the registry.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx
from starlette.types import ASGIApp

from wasync.cache import CACHE_DIR, CacheStore, UsesCache
from wasync.config import AccountBase, Config
from wasync.errors import ConfigError
from wasync.pacing.gate import Allowance, Budgets, GateClosed, RateGate, Turn, _first_of
from wasync.pacing.retry import RetryingReads, RetryPolicy
from wasync.providers import registry
from wasync.providers.base import Provider, ReadsSpecFiles
from wasync.providers.plugin import EmulatorOptions, ProviderPlugin
from wasync.sandbox.common import FaultConfig, InProcessTransport, defer_writes
from wasync.sandbox.embedded import SANDBOX_BASE_URL, SANDBOX_REVIEW_SECONDS, sandbox_state_dir
from wasync.traits import ProviderTraits


@dataclass
class Connection:
    account: AccountBase
    provider: Provider
    gate: AccountGate

    @property
    def traits(self) -> ProviderTraits:
        return self.provider.traits


class Session:
    """Opens providers lazily, closes them all on exit. Use as ``async with``."""

    def __init__(
        self,
        config: Config,
        *,
        sandbox_faults: FaultConfig | None = None,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
        policy: RetryPolicy | None = None,
        budgets: Budgets | None = None,
        sandbox_limits: bool = False,
        refresh_cache: bool = False,
        cache: bool = True,
    ) -> None:
        """``sandbox_faults`` go to every embedded sandbox; ``transports`` (tests and
        benchmarks) carry the named accounts' requests instead of the network, e.g. an
        ``InProcessTransport`` into an emulator the caller keeps a handle on. ``policy``
        retries each read call (listings, details) of every account. ``budgets`` holds the
        rate buckets (tests: on a clock of their own).

        An embedded sandbox that this session starts counts no requests per second, so its
        account is not paced either (``SandboxGate``), unless the account sets ``qps:`` or
        ``sandbox_limits`` asks for the provider's limits (tests of throttling): then the
        emulator enforces the documented rates and the client paces as for a real one.

        Providers that cache replies (``wasync.cache``) keep them in ``.wasync/cache/``
        next to wasync.yaml, written when the session closes; ``refresh_cache`` ignores
        what is there (``--refresh-cache``), ``cache=False`` keeps nothing."""
        self.config = config
        self.policy = policy or RetryPolicy()
        self._sandbox_faults = sandbox_faults
        self._sandbox_limits = sandbox_limits
        self.cache = CacheStore(config.root / CACHE_DIR if cache else None, fresh=refresh_cache)
        self._transports = dict(transports or {})
        self._connections: dict[str, Connection] = {}
        # The rate buckets, as the providers count them: accounts on one key share its own.
        self.budgets = budgets if budgets is not None else Budgets()
        self._clients: list[httpx.AsyncClient] = []
        self._sandboxes: list[InProcessTransport] = []  # the embedded ones it started

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for client in self._clients:
            with contextlib.suppress(Exception):
                await client.aclose()
        self._clients.clear()
        self._connections.clear()
        self.cache.save()

    def release_sandboxes(self) -> None:
        """Let go of the state the embedded sandboxes hold in memory, written first if it
        changed: a plan needs none of it once the remote is read (at 20,000 resources,
        ~12 MB the planner can use). A later call reads it back from its file."""
        for transport in self._sandboxes:
            transport.release()

    def calls(self) -> dict[str, int]:
        """HTTP calls made so far by each account opened."""
        return {name: conn.gate.made for name, conn in sorted(self._connections.items())}

    def connections(self, names: Iterable[str]) -> list[Connection]:
        return [self.connection(name) for name in sorted(set(names))]

    def connection(self, name: str) -> Connection:
        if name not in self._connections:
            self._connections[name] = self._open(name)
        return self._connections[name]

    def _open(self, name: str) -> Connection:
        account = self.config.accounts.get(name)
        if account is None:
            known = ", ".join(sorted(self.config.accounts)) or "none"
            raise ConfigError(f"no account {name!r} in wasync.yaml (accounts: {known})")
        plugin = registry.plugin_for(account)
        transport: httpx.AsyncBaseTransport | None
        unpaced = False
        if account.is_sandbox:
            account = plugin.sandbox_account(account)
            transport = self._transports.get(name)
            if transport is None:
                limited = self._sandbox_limits or account.qps is not None
                transport = self._emulator(plugin, account, limited=limited)
                unpaced = not limited
            base_url = SANDBOX_BASE_URL
        elif name in self._transports:
            transport, base_url = self._transports[name], account.endpoint
        else:
            _check_endpoint(account)
            transport, base_url = None, account.endpoint
        limits = plugin.limits_for(account)
        scope = (plugin.name, _counted_at(account), self.budgets.digest(plugin.secrets(account)))
        gate = (SandboxGate if unpaced else AccountGate)(limits, budgets=self.budgets, scope=scope)
        # Enough connections for the requests in flight, all kept alive between calls.
        connections = gate.in_flight_for()
        client = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            timeout=account.timeout,
            verify=True,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )
        self._clients.append(client)
        provider = plugin.client(
            account, client, gate, RetryingReads(self.policy, gate, account.name)
        )
        if isinstance(provider, ReadsSpecFiles):  # media samples named in the specs
            provider.read_files_from(self.config.root)
        if isinstance(provider, UsesCache):
            provider.use_cache(self.cache)
        return Connection(account=account, provider=provider, gate=gate)

    def _emulator(
        self, plugin: ProviderPlugin[Any], account: AccountBase, *, limited: bool
    ) -> InProcessTransport:
        """An in-process transport into this account's own emulator, state kept in
        ``.wasync/sandbox/<account>/`` next to wasync.yaml; ``limited``: the emulator
        enforces the provider's documented rates (else none)."""
        if plugin.emulator is None:
            raise ConfigError(
                f"account {account.name}: {plugin.display_name} has no sandbox; set its "
                "endpoint to the provider's https:// URL"
            )
        make = plugin.emulator
        options = EmulatorOptions(
            credentials=plugin.secrets(account),
            state_dir=sandbox_state_dir(self.config.root, account.name),
            faults=self._sandbox_faults,
            approve_after=SANDBOX_REVIEW_SECONDS,
            qps=None if limited else 0,
        )

        def build() -> ASGIApp:
            app = make(options)
            defer_writes(app)  # the state is written when the transport closes
            return app

        transport = InProcessTransport(build(), rebuild=build)
        self._sandboxes.append(transport)
        return transport


class AccountGate(RateGate):
    """An account's gate (over buckets it may share with other accounts on its key) that
    counts the calls of this account alone."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.made = 0

    @contextlib.asynccontextmanager
    async def __call__(self, api: str = "") -> AsyncIterator[Turn]:
        async with super().__call__(api) as turn:
            self.made += 1
            yield turn


class SandboxGate(AccountGate):
    """The gate of an embedded sandbox that counts no requests per second: calls are not
    paced (nobody would refuse them), only counted. Budgets per window of time (Meta's
    requests per WABA per hour) still hold: the emulator counts those."""

    # Requests in flight at once: an in-process emulator answers in turn, so more would
    # only hold more replies in memory.
    IN_FLIGHT = 16

    @contextlib.asynccontextmanager
    async def __call__(self, api: str = "") -> AsyncIterator[Turn]:
        bucket = self.bucket(api)
        allowances = self.allowances(api)
        stop = self.stop
        if stop is not None and stop.is_set():
            raise GateClosed
        if allowances:
            windows = _windows(allowances)
            await (windows if stop is None else _first_of(windows, stop))
        bucket.calls += 1
        self.made += 1
        yield Turn(bucket, allowances)

    def in_flight_for(self, latency_s: float = 0.0) -> int:
        return self.IN_FLIGHT


async def _windows(allowances: Iterable[Allowance]) -> None:
    for allowance in allowances:
        await allowance.acquire()


def _counted_at(account: AccountBase) -> str:
    """Where the provider counts an account's requests: its endpoint (an embedded sandbox is
    an emulator of the account's own, which counts only that account's)."""
    if account.is_sandbox:
        return f"{account.endpoint}:{account.name}"
    return account.endpoint.rstrip("/").lower()


def _check_endpoint(account: AccountBase) -> None:
    endpoint = account.endpoint
    if endpoint.startswith("https://"):
        return
    if endpoint.startswith("http://") and account.allow_insecure_http:
        return
    raise ConfigError(
        f"account {account.name}: endpoint {endpoint!r} must start with https:// "
        "(set allow_insecure_http: true only for a test server you run yourself)"
    )
