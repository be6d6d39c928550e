"""Buckets keyed as the providers count: per-API limits, sharing between accounts on one
key, and the slow-down on a throttling answer (AIMD). Pacing is checked on a virtual clock,
so no assertion depends on how busy the machine is."""

from __future__ import annotations

import asyncio
import itertools
import math
from pathlib import Path

import pytest
from cams.support import connect
from pydantic import SecretStr

from wasync.config import Config
from wasync.errors import ErrorClass, ProviderError
from wasync.model import QrCode
from wasync.pacing import gate
from wasync.pacing.gate import HEADROOM, Bucket, BucketKey, Budgets, RateGate
from wasync.pacing.limits import SHARED, RateLimits
from wasync.providers import registry
from wasync.providers.cams.account import CamsAccount
from wasync.providers.nxcloud.account import NxcloudAccount
from wasync.sandbox import cams
from wasync.session import Session

pytestmark = pytest.mark.anyio
CAMS = registry.get("cams").limits


class VirtualTime:
    """A clock and a sleep that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def let_through(bucket: Bucket, n: int, time: VirtualTime) -> list[float]:
    times = []
    for _ in range(n):
        await bucket.acquire()
        times.append(time.now)
    return times


# --- RateLimits ----------------------------------------------------------------------------


def test_cams_declares_its_documented_limit_for_each_api() -> None:
    assert CAMS.rate("CreateChatappTemplate") == CAMS.rate("ModifyChatappTemplate") == 50.0
    for api in ("CreatePhoneMessageQrdl", "ListChatappTemplate", "DeleteChatappTemplate"):
        assert CAMS.rate(api) == 5.0 and CAMS.scope(api) == api
    nx = registry.get("nxcloud").limits  # none documented: one budget every API shares
    assert nx.scope("createTemplate") == nx.scope("getTemplate") == SHARED
    assert nx.total() == 5.0 and CAMS.total() == 7 * 5.0 + 2 * 50.0


def test_qps_overrides_every_api_or_the_apis_it_names() -> None:
    every = CAMS.overridden(2)
    assert {every.rate(api) for api in CAMS.apis} == {2.0}
    assert every.scope("ListChatappTemplate") == "ListChatappTemplate"  # still counted apart
    some = CAMS.overridden({"CreateChatappTemplate": 20})
    assert some.rate("CreateChatappTemplate") == 20.0 and some.rate("ListChatappTemplate") == 5.0
    nx = registry.get("nxcloud").limits.overridden({"createTemplate": 1})
    assert nx.scope("createTemplate") == "createTemplate" and nx.scope("getTemplate") == SHARED
    assert CAMS.overridden(None) is CAMS
    with pytest.raises(ValueError, match="positive"):
        RateLimits(default=0)


# --- one bucket ----------------------------------------------------------------------------


async def test_requests_go_evenly_a_little_under_the_limit() -> None:
    time = VirtualTime()
    bucket = Bucket(5.0, clock=time, sleep=time.sleep)
    times = await let_through(bucket, 6, time)
    assert times[0] == 0.0  # an idle bucket lets the first request go at once
    gaps = {round(b - a, 9) for a, b in itertools.pairwise(times)}
    assert gaps == {round(1 / (5.0 * HEADROOM), 9)}
    assert bucket.calls == 6


async def test_a_throttle_halves_the_rate_then_it_climbs_back_slowly() -> None:
    time = VirtualTime()
    bucket = Bucket(10.0, clock=time, sleep=time.sleep)
    ceiling = 10.0 * HEADROOM
    assert bucket.rate() == ceiling
    bucket.throttled()
    assert bucket.rate() == pytest.approx(ceiling * gate.DECREASE)
    bucket.throttled()  # the other requests in flight met the same overload: one cut
    assert bucket.rate() == pytest.approx(ceiling * gate.DECREASE)
    assert bucket.throttles == 2
    # Back quickly (RECOVER of the limit per second) to just under the refused rate ...
    knee = ceiling * gate.BELOW_REFUSED
    to_knee = (knee - ceiling * gate.DECREASE) / (gate.RECOVER * 10.0)
    time.now = to_knee / 2
    assert bucket.rate() == pytest.approx(ceiling * gate.DECREASE + gate.RECOVER * 10 * time.now)
    time.now = to_knee
    assert bucket.rate() == pytest.approx(knee)
    # ... then slowly (PROBE per second) to where it was refused, and on to the ceiling.
    time.now = to_knee + 1.0
    assert bucket.rate() == pytest.approx(knee + gate.PROBE * 10.0)
    time.now = to_knee + (ceiling - knee) / (gate.PROBE * 10.0) + 1
    assert bucket.rate() == ceiling


async def test_a_second_throttle_later_cuts_again_from_where_it_is() -> None:
    time = VirtualTime()
    bucket = Bucket(10.0, clock=time, sleep=time.sleep)
    bucket.throttled()
    time.now = 2.0  # past the cool-down
    before = bucket.rate()
    bucket.throttled()
    assert bucket.rate() == pytest.approx(before * gate.DECREASE)
    for _ in range(20):  # never below the floor, however often
        time.now += 2.0
        bucket.throttled()
    assert bucket.rate() >= 10.0 * gate.FLOOR


async def test_a_slow_down_applies_to_requests_already_waiting() -> None:
    time = VirtualTime()
    bucket = Bucket(10.0, clock=time, sleep=time.sleep)
    seen: list[float] = []

    async def one() -> None:
        await bucket.acquire()
        seen.append(time.now)
        if len(seen) == 2:
            bucket.throttled()  # the answer to the second says: too fast

    await asyncio.gather(*(one() for _ in range(4)))
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(seen)]
    fast, slow = 1 / (10 * HEADROOM), 1 / (10 * HEADROOM * gate.DECREASE)
    assert gaps[0] == round(fast, 6)
    assert gaps[1] == round(slow, 6) and gaps[2] > fast  # the queued ones wait longer


# --- budgets shared between accounts ------------------------------------------------------------


def test_the_same_key_gets_the_same_bucket_and_the_lower_limit_holds() -> None:
    budgets = Budgets()
    key = BucketKey("cams", "https://cams.example", budgets.digest({"k": "v"}), "ListX")
    first = budgets.bucket(key, 5.0)
    assert budgets.bucket(key, 2.0) is first and first.limit == 2.0
    assert budgets.bucket(key, 9.0).limit == 2.0
    assert budgets.digest({"k": "v"}) != budgets.digest({"k": "w"})
    # The digest is keyed by the budgets' own secret: it says nothing of the credentials.
    assert Budgets().digest({"k": "v"}) != budgets.digest({"k": "v"})


def cams_account(name: str, key: str = "LTAI-shared", **more: object) -> CamsAccount:
    return CamsAccount.model_validate(
        {
            "name": name,
            "provider": "cams",
            "endpoint": "https://cams.ap-southeast-1.aliyuncs.com",
            "cust_space_id": f"space-{name}",
            "access_key_id": SecretStr(key),
            "access_key_secret": SecretStr("the-secret"),
            **more,
        }
    )


def test_accounts_on_one_key_and_endpoint_share_its_buckets(tmp_path: Path) -> None:
    accounts = {
        "a": cams_account("a"),
        "b": cams_account("b", qps={"ListChatappTemplate": 2}),
        "other-key": cams_account("other-key", key="LTAI-other"),
        "box-1": cams_account("box-1").model_copy(update={"endpoint": "sandbox"}),
        "box-2": cams_account("box-2").model_copy(update={"endpoint": "sandbox"}),
        "nx": NxcloudAccount(
            name="nx",
            provider="nxcloud",
            appkey="k",
            access_key=SecretStr("LTAI-shared"),
            secret_key=SecretStr("the-secret"),
        ),
    }
    session = Session(Config(root=tmp_path, accounts=accounts))
    gates = {name: session.connection(name).gate for name in accounts}
    qr, lists, create = "CreatePhoneMessageQrdl", "ListChatappTemplate", "CreateChatappTemplate"
    assert gates["a"].bucket(qr) is gates["b"].bucket(qr)
    assert gates["a"].bucket(lists) is gates["b"].bucket(lists)
    assert gates["a"].bucket(lists).limit == 2.0  # b's qps: the more careful setting holds
    assert gates["a"].bucket(create).limit == 50.0 and gates["a"].bucket(qr).limit == 5.0
    assert gates["a"].bucket(create) is not gates["a"].bucket(qr)  # each API apart
    assert gates["other-key"].bucket(qr) is not gates["a"].bucket(qr)
    # Each embedded sandbox is an emulator of its own account, which counts only it.
    assert gates["box-1"].bucket(qr) is not gates["box-2"].bucket(qr)
    assert gates["nx"].bucket("createTemplate") is gates["nx"].bucket("getTemplate")
    cams_gates = [g for name, g in gates.items() if name != "nx"]
    assert all(gates["nx"].bucket("getTemplate") is not g.bucket(qr) for g in cams_gates)
    # Enough in flight to keep every bucket of the account busy.
    assert gates["a"].in_flight_for(1.0) == math.ceil(135 * HEADROOM) + 2


# --- the HTTP base reports a throttling answer to the call's bucket ---------------------------


async def test_a_throttling_answer_slows_that_apis_bucket_only() -> None:
    frozen = 1_750_000_000.0
    # The emulator's clock stands still: its bucket of 2 creates never refills.
    app = cams.create_app(qps={"CreatePhoneMessageQrdl": 2}, clock=lambda: frozen)
    rate_gate = RateGate(CAMS)
    qr = QrCode(account="shop-cams", phone="8613800000000", label="p", prefilled_message="Hi")
    async with connect(app, gate=rate_gate, clock=lambda: frozen) as provider:
        await provider.create_qr_code(qr)
        await provider.create_qr_code(qr)
        with pytest.raises(ProviderError) as refused:
            await provider.create_qr_code(qr)
        await provider.list_qr_codes(qr.phone)  # another API: its own bucket, untouched
    assert refused.value.error_class is ErrorClass.THROTTLED
    creates = rate_gate.bucket("CreatePhoneMessageQrdl")
    assert creates.throttles == 1
    assert creates.rate() < creates.ceiling
    lists = rate_gate.bucket("ListPhoneMessageQrdl")
    assert lists.throttles == 0 and lists.rate() == lists.ceiling
    assert app.state.rate_limit.refused_by == {"CreatePhoneMessageQrdl": 1}
