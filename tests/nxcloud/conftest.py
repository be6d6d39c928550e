"""Fixtures of the NXCloud tests: an emulator with a hand-moved clock and a client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from wasync.providers.nxcloud.client import NxcloudProvider
from wasync.sandbox.nxcloud import NxcloudEmulator, create_app

from .support import FakeClock, connect


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(clock: FakeClock) -> Starlette:
    return create_app(qps=0, clock=clock)


@pytest.fixture
def emulator(app: Starlette) -> NxcloudEmulator:
    emulator: NxcloudEmulator = app.state.emulator
    return emulator


@pytest.fixture
async def provider(app: Starlette, clock: FakeClock) -> AsyncIterator[NxcloudProvider]:
    async with connect(app, clock=clock) as p:
        yield p
