"""A provider's documented request limits, as its plugin declares them, and an account's
``qps:`` over them: requests per second per API, and budgets of requests per window of
time (``Window``: Meta's template management requests per WABA per hour)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

SHARED = "*"  # the scope of the APIs a provider does not count apart: one bucket for all


@dataclass(frozen=True)
class Window:
    """At most ``calls`` requests per rolling ``seconds``, whatever their rate.

    ``apis`` are the calls that count (empty: every call); ``key`` is what the provider
    counts per (e.g. ``waba_id=1234``: accounts with the same key share the window; empty:
    the credential, as a bucket is); ``reported``: the provider's usage reports (a usage
    header) measure this window. ``label`` says what it is in messages."""

    name: str
    seconds: float
    calls: int
    apis: frozenset[str] = frozenset()
    key: str = ""
    reported: bool = False
    label: str = ""

    def __post_init__(self) -> None:
        if self.seconds <= 0 or self.calls < 1:
            raise ValueError("a window needs a positive length and at least one call")

    def counts(self, api: str) -> bool:
        return not self.apis or api in self.apis


@dataclass(frozen=True)
class RateLimits:
    """Requests per second a provider allows each credential, API by API.

    ``per_api`` holds the APIs the provider counts apart (operation name -> requests per
    second): each gets a bucket of its own. Every other API shares one bucket paced at
    ``default``. ``apis`` names every API the client calls, so that a ``qps:`` map in
    wasync.yaml can be checked (``per_api``'s names count too).
    """

    default: float
    per_api: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    apis: frozenset[str] = frozenset()
    windows: tuple[Window, ...] = ()  # budgets per window of time, on top of the rates

    def __post_init__(self) -> None:
        if self.default <= 0 or any(qps <= 0 for qps in self.per_api.values()):
            raise ValueError("rate limits must be positive")
        object.__setattr__(self, "per_api", MappingProxyType(dict(self.per_api)))
        object.__setattr__(self, "apis", frozenset(self.apis) | frozenset(self.per_api))

    def scope(self, api: str) -> str:
        """The bucket ``api`` is counted in: its own name, or ``SHARED``."""
        return api if api in self.per_api else SHARED

    def rate(self, api: str) -> float:
        """Requests per second allowed for ``api``'s bucket."""
        return self.per_api.get(api, self.default)

    def total(self) -> float:
        """The most an account can send per second, every bucket busy at once."""
        shared = not self.apis or not self.apis <= self.per_api.keys()
        return sum(self.per_api.values()) + (self.default if shared else 0.0)

    def overridden(self, qps: float | Mapping[str, float] | None) -> RateLimits:
        """These limits under an account's ``qps:``: a number sets every API's rate (the
        buckets stay as the provider counts them); a map sets the APIs it names, each
        then counted apart; None changes nothing."""
        if qps is None:
            return self
        if isinstance(qps, Mapping):
            return RateLimits(self.default, {**self.per_api, **qps}, self.apis, self.windows)
        return RateLimits(
            float(qps), dict.fromkeys(self.per_api, float(qps)), self.apis, self.windows
        )

    def with_windows(self, windows: Iterable[Window]) -> RateLimits:
        """These limits with ``windows`` in place of the declared ones."""
        return replace(self, windows=tuple(windows))

    def windows_for(self, api: str) -> tuple[Window, ...]:
        """The windows ``api`` counts in."""
        return tuple(w for w in self.windows if w.counts(api))
