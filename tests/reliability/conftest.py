"""Fixtures of the reliability tests: emulators on loopback sockets with distinctive keys."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .support import (
    CAMS_KEY_ID,
    CAMS_SECRET,
    NX_ACCESS_KEY,
    NX_SECRET,
    Served,
    served,
)


@pytest.fixture
def cams() -> Iterator[Served]:
    with served("cams", access_key_id=CAMS_KEY_ID, access_key_secret=CAMS_SECRET, qps=0) as server:
        yield server


@pytest.fixture
def nx() -> Iterator[Served]:
    with served(
        "nxcloud", access_key_id=NX_ACCESS_KEY, access_key_secret=NX_SECRET, qps=0
    ) as server:
        yield server
