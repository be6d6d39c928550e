"""A provider's documented request limits, as its plugin declares them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class RateLimits:
    """Requests per second a provider documents, per credential.

    ``default`` paces every call of an account that sets no ``qps:`` of its own;
    ``per_api`` will hold the APIs the provider counts apart (operation name -> requests
    per second). Nothing reads ``per_api`` yet: every call of an account shares one gate.
    """

    default: float
    per_api: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.default <= 0 or any(qps <= 0 for qps in self.per_api.values()):
            raise ValueError("rate limits must be positive")
