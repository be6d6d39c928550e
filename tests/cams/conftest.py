"""Fixtures for the CAMS tests."""

from __future__ import annotations

import pytest

from .support import Connect, connect


@pytest.fixture(name="connect")
def connect_fixture() -> Connect:
    """``async with connect(app, ...) as provider``: the real client, over HTTP, into ``app``
    in this process (or to ``base_url`` over a socket when ``app`` is None)."""
    return connect
