"""Provider adapters, one folder each, and the registry that maps a provider's name to its
plugin (``registry``, ``plugin``). Nothing outside a provider's folder and the registry
names a provider."""
