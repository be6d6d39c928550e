"""Fixtures of the Meta tests: a Graph emulator on a hand-moved clock and a client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from wasync.providers.meta.client import MetaProvider
from wasync.sandbox.meta import MetaWorld, create_app

from .support import FakeClock, connect


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(clock: FakeClock) -> Starlette:
    return create_app(clock=clock, approve_after=60)


@pytest.fixture
def world(app: Starlette) -> MetaWorld:
    world: MetaWorld = app.state.world
    return world


@pytest.fixture
async def provider(app: Starlette, clock: FakeClock) -> AsyncIterator[MetaProvider]:
    async with connect(app, clock=clock) as p:
        yield p
