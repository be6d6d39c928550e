"""Spec files: loading with positions (``yaml``, ``load``), models (``wasync.model``),
WhatsApp's rules (``rules``), and the JSON Schema for editors (``schema``).

This package knows neither wasync.yaml's loader nor any provider: ``load.read_specs`` takes
the traits of each account's provider. ``wasync.loading.load_desired`` reads wasync.yaml and
the specs together, as ``validate``, ``plan`` and ``apply`` do.
"""

CONFIG_FILE = "wasync.yaml"  # in the spec folder: the accounts, not a spec file

__all__ = ["CONFIG_FILE"]
