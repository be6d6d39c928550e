"""The Provider protocol: what every provider adapter offers (its facts, ``ProviderTraits``,
live in ``wasync.traits``).

Providers are thin adapters: they turn canonical resources into wire requests and wire
replies back into canonical resources. They hold no planning logic, no retries and no rate
limiting: each HTTP call goes through the ``CallGate`` the session hands in, named by its
API, which owns the buckets the provider counts (``wasync.pacing.gate``); retries are the
executor's, and reach read calls through the ``ReadRetry`` it hands in. A provider raises
``ProviderError`` (with the right ``ErrorClass``) for every failed call and never anything
else for a provider problem.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

from wasync.model import QrCode, RemoteQrCode, RemoteTemplate, Template
from wasync.traits import ProviderTraits

if TYPE_CHECKING:
    from wasync.pacing.gate import Turn

T = TypeVar("T")


class CallGate(Protocol):
    """Entered around every HTTP request a provider makes, with the API it calls (rate
    limiting lives here, keyed as the provider counts). What it yields, when not None, is
    told how the answer went (``wasync.pacing.gate.Turn``: a refusal for rate slows that
    API's bucket)."""

    def __call__(self, api: str = ...) -> AbstractAsyncContextManager[Turn | None]: ...


class ReadRetry(Protocol):
    """Runs one read request (safe to repeat), retrying it as the executor's policy allows.

    A provider passes each read HTTP call through it, one call at a time: a listing of a
    hundred pages that meets one timeout repeats that page, not the hundred."""

    async def __call__(self, call: Callable[[], Awaitable[T]]) -> T: ...


async def no_retry(call: Callable[[], Awaitable[T]]) -> T:
    """The ``ReadRetry`` of a provider used on its own: each read is tried once."""
    return await call()


@runtime_checkable
class Provider(Protocol):
    """One account at one provider. Every method is one logical operation; list methods may
    make several HTTP calls (pages, details), each through the gate."""

    traits: ProviderTraits
    account: str

    async def list_qr_codes(self, phone: str) -> list[RemoteQrCode]:
        """Every QR code of ``phone``, in the provider's order."""
        ...

    async def create_qr_code(self, qr: QrCode) -> RemoteQrCode:
        """Create a QR code; the result carries the new code."""
        ...

    async def update_qr_code(self, current: RemoteQrCode, desired: QrCode) -> RemoteQrCode:
        """Change ``current`` to ``desired``; the result carries the code now in force
        (a new one where ``traits.qr_update_replaces_code``)."""
        ...

    async def delete_qr_code(self, current: RemoteQrCode) -> None: ...

    async def list_templates(
        self, phones: Collection[str], detail_for: Collection[tuple[str, str]] | None = None
    ) -> list[RemoteTemplate]:
        """Every template of the account (of each phone in ``phones`` for phone-scoped
        providers). ``detail_for`` names the (name, language) pairs whose components are
        needed; others may come back with ``detailed=False`` when the listing lacks
        components. ``None`` means all."""
        ...

    async def find_template(
        self, phone: str | None, name: str, language: str
    ) -> RemoteTemplate | None:
        """The one template ``name`` in ``language`` (on ``phone`` for phone-scoped
        providers), detailed, or None. Reads as little as the API allows: the executor calls
        it to learn whether a write whose answer was lost took effect."""
        ...

    async def create_template(self, template: Template) -> RemoteTemplate: ...

    async def update_template(
        self, current: RemoteTemplate, desired: Template
    ) -> RemoteTemplate: ...

    async def delete_template(self, current: RemoteTemplate) -> None:
        """Delete ``current``. Where ``traits.template_delete_takes_all_languages``, every
        language of its name goes too; the planner accounts for that."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class ReadsSpecFiles(Protocol):
    """A provider that sends files the specs name (a media header's sample, uploaded):
    the session tells it the spec folder (the one holding wasync.yaml) their paths are
    relative to, before any call."""

    def read_files_from(self, folder: Path) -> None: ...
