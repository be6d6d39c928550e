"""Fixtures of the apply tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from wasync.sandbox.common import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET, serving

from .cli_support import KEY_ID_VAR, KEY_SECRET_VAR, Served
from .support import emulators


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """Both emulators on loopback sockets (uvicorn threads), no rate limit of their own."""
    monkeypatch.setenv(KEY_ID_VAR, DEFAULT_ACCESS_KEY_ID)
    monkeypatch.setenv(KEY_SECRET_VAR, DEFAULT_ACCESS_KEY_SECRET)
    emus = emulators()
    with ExitStack() as stack:
        cams_url = stack.enter_context(serving(emus.cams))
        nx_url = stack.enter_context(serving(emus.nx))
        yield Served(emus, cams_url, nx_url)
