"""The provider registry: a provider's name -> its ``ProviderPlugin``.

The one module that names the built-in providers. Everything else asks it: config reads the
account models and credential fields of ``plugins()``, the spec rules and the planner get
an account's traits through ``get(account.provider)``, the session its client and sandbox,
``sandbox serve`` its choices from ``names()``.

A built-in provider is its folder, ``wasync/providers/<name>/``, whose ``__init__`` defines
``PLUGIN``; it is imported the first time it is asked for, so naming the providers costs
nothing. ``register`` adds a provider from outside the package (tests, extensions).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from wasync.errors import ConfigError

if TYPE_CHECKING:
    from wasync.config import AccountBase
    from wasync.providers.plugin import ProviderPlugin

# To add a built-in provider: its folder, its emulator under wasync/sandbox/, and its name here.
BUILTIN: tuple[str, ...] = ("cams", "nxcloud", "meta")

_loaded: dict[str, ProviderPlugin[Any]] = {}
_registered: dict[str, ProviderPlugin[Any]] = {}


def names() -> tuple[str, ...]:
    """Every provider's name: the built-in ones, then those registered, in order."""
    return (*BUILTIN, *_registered)


def get(name: str) -> ProviderPlugin[Any]:
    """The plugin of provider ``name``; ``ConfigError`` naming the known ones if none."""
    known = _registered.get(name) or _loaded.get(name)
    if known is not None:
        return known
    if name not in BUILTIN:
        raise ConfigError(f"no provider {name!r}; the providers are: {', '.join(names())}")
    module = importlib.import_module(f"{__package__}.{name}")
    plugin: ProviderPlugin[Any] = module.PLUGIN
    if plugin.name != name:
        raise AssertionError(f"{module.__name__}.PLUGIN is named {plugin.name!r}")
    _loaded[name] = plugin
    return plugin


def plugins() -> tuple[ProviderPlugin[Any], ...]:
    """Every provider's plugin, in the order of ``names()``."""
    return tuple(get(name) for name in names())


def plugin_for(account: AccountBase) -> ProviderPlugin[Any]:
    """The plugin of ``account``'s provider."""
    return get(account.provider)


def register(plugin: ProviderPlugin[Any]) -> None:
    """Add a provider that is not built in. Its name must be new."""
    if plugin.name in names():
        raise ValueError(f"a provider named {plugin.name!r} is already registered")
    _registered[plugin.name] = plugin


def unregister(name: str) -> None:
    """Remove a provider ``register`` added."""
    if name not in _registered:
        raise ValueError(f"no registered provider {name!r} (built-in ones stay)")
    del _registered[name]
