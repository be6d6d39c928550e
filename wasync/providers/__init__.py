"""Provider adapters. ``TRAITS`` holds each provider's planning facts by provider name."""

from wasync.providers.base import ProviderTraits
from wasync.providers.cams.traits import CAMS_TRAITS
from wasync.providers.nxcloud.traits import NXCLOUD_TRAITS

TRAITS: dict[str, ProviderTraits] = {t.name: t for t in (CAMS_TRAITS, NXCLOUD_TRAITS)}
