"""Two checkouts of the same specs, one account: two applies at once (issue 18, item 5).

The spec folder's lock cannot see another copy of the specs, so the executor reads a phone's
QR codes again just before each create and adopts a code another apply made meanwhile; a
duplicate that the window between that read and the create lets through is reported by the
check after apply, with the command that deletes exactly the copies.

The other apply is played by a front to the CAMS emulator: it creates, through the
emulator's own operation, the code the other copy would make, at the moment that matters.
Everything else is real: ``wasync apply`` as a user runs it, over a loopback socket.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from cli_runner import wasync
from starlette.types import Message, Receive, Scope, Send

from wasync import manager
from wasync.apply import pins
from wasync.apply.executor import Executor, Status
from wasync.loading import load_desired
from wasync.pacing.retry import RetryPolicy
from wasync.sandbox import cams
from wasync.sandbox.common import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    InProcessTransport,
    serving,
)
from wasync.session import Session

P1, P2 = "8615800001111", "8615800002222"
SPACE = "space-h18"
KEY_ID_VAR, KEY_SECRET_VAR = "HARDENING_KEY_ID", "HARDENING_KEY_SECRET"
CREATE, LIST = "CreatePhoneMessageQrdl", "ListPhoneMessageQrdl"
FAST = RetryPolicy(attempts=8, initial=0.01, maximum=0.05, jitter=0.0, settle=0.01)


def config(endpoint: str) -> str:
    return (
        "accounts:\n  shop:\n    provider: cams\n"
        f"    endpoint: {endpoint}\n    allow_insecure_http: true\n"
        f"    cust_space_id: {SPACE}\n"
        f"    access_key_id: ${{{KEY_ID_VAR}}}\n    access_key_secret: ${{{KEY_SECRET_VAR}}}\n"
        "    qps: 200\n    timeout: 5\n"
    )


def entry(phone: str, label: str, message: str) -> str:
    return (
        f'  - account: shop\n    phone: "{phone}"\n    label: {label}\n'
        f"    prefilled_message: {message}\n    image: SVG\n"
    )


def write_folder(root: Path, endpoint: str, entries: list[str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "wasync.yaml").write_text(config(endpoint), encoding="utf-8")
    (root / "specs.yaml").write_text("qr_codes:\n" + "".join(entries), encoding="utf-8")
    return root


def pins_in(root: Path) -> dict[str, str]:
    """label -> code: as the specs pin them."""
    text = (root / "specs.yaml").read_text(encoding="utf-8")
    return dict(re.findall(r"label: (\S+)\n(?:.*\n)*?\s+code: (\S+)", text))


class OtherApply:
    """In front of the CAMS emulator: another apply, from another copy of the same specs,
    creating the code that copy wants for ``message`` at a chosen moment.

    ``in_window``: just before our create of that message reaches the emulator (after our
    read of the phone: the window). ``before_list``: just before the list call numbered
    ``n`` (from 1) is answered (after our plan, before our read)."""

    def __init__(
        self,
        app: Any,
        *,
        in_window: set[str] | None = None,
        before_list: dict[int, list[tuple[str, str]]] | None = None,
    ) -> None:
        self.app = app
        self.emulator = app.state.emulator
        self.in_window = set(in_window or ())
        self.before_list = dict(before_list or {})
        self.lists = 0
        self.made: dict[str, str] = {}  # message -> the code the other apply made

    def create(self, phone: str, message: str) -> None:
        reply = self.emulator.call(
            CREATE,
            {
                "CustSpaceId": SPACE,
                "PhoneNumber": phone,
                "PrefilledMessage": message,
                "GenerateQrImage": "SVG",
            },
        )
        self.made[message] = reply["Data"]["QrdlCode"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        params = dict(parse_qsl(scope["query_string"].decode(), keep_blank_values=True))
        params.update(parse_qsl(body.decode(), keep_blank_values=True))
        action = dict(scope["headers"]).get(b"x-acs-action", b"").decode()
        if action == CREATE and params.get("PrefilledMessage") in self.in_window:
            self.in_window.discard(params["PrefilledMessage"])
            self.create(params["PhoneNumber"], params["PrefilledMessage"])
        if action == LIST:
            self.lists += 1
            for phone, text in self.before_list.pop(self.lists, []):
                self.create(phone, text)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ID_VAR, DEFAULT_ACCESS_KEY_ID)
    monkeypatch.setenv(KEY_SECRET_VAR, DEFAULT_ACCESS_KEY_SECRET)


@pytest.fixture
def emulator() -> Any:
    return cams.create_app(qps=0)


@pytest.fixture
def url_for(emulator: Any) -> Iterator[Any]:
    """Serve ``front`` (wrapping the emulator) on a loopback socket; yields its URL."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        yield lambda front: stack.enter_context(serving(front))


def held(emulator: Any, phone: str) -> Counter[str]:
    return Counter(q["PrefilledMessage"] for q in emulator.state.emulator.qr_codes(phone, SPACE))


def codes_of(emulator: Any, phone: str) -> set[str]:
    return {q["QrdlCode"] for q in emulator.state.emulator.qr_codes(phone, SPACE)}


@pytest.mark.usefixtures("keys")
def test_a_code_another_apply_made_after_the_plan_is_adopted_and_pinned(
    tmp_path: Path, emulator: Any, url_for: Any
) -> None:
    # The plan reads P1 (list 1) and finds nothing; the other copy's apply then creates
    # "Hello a" before our apply reads the phone again (list 2).
    front = OtherApply(emulator, before_list={2: [(P1, "Hello a")]})
    root = write_folder(
        tmp_path, url_for(front), [entry(P1, "a", "Hello a"), entry(P1, "b", "Hello b")]
    )

    run = wasync("apply", root, "--auto-approve")

    assert run.exit_code == 0, run
    theirs = front.made["Hello a"]
    assert "Plan: 2 to create" in run.stdout
    assert f"qr.shop.{P1}.a: created (code {theirs}, adopted: it appeared" in run.stderr
    assert "not created again" in run.stderr
    assert f"qr.shop.{P1}.a: adopted (another apply made it meanwhile" in run.stdout
    # One create of ours (b); "Hello a" only once; the adopted code pinned like a new one.
    assert emulator.state.emulator.calls[CREATE] == 2  # the other apply's, and ours for b
    assert held(emulator, P1) == Counter({"Hello a": 1, "Hello b": 1})
    assert pins_in(root)["a"] == theirs
    assert set(pins_in(root).values()) == codes_of(emulator, P1)
    assert "Checked: a fresh plan finds nothing left to do." in run.stdout


@pytest.mark.usefixtures("keys")
def test_duplicates_the_window_let_through_fail_the_check_and_the_advice_removes_only_them(
    tmp_path: Path, emulator: Any, url_for: Any
) -> None:
    # An old code nobody claims on P1 must survive the clean-up; P2 holds only its entry's
    # code and the copy, so the advice may name the whole phone there.
    emulator.state.emulator.call(
        CREATE,
        {
            "CustSpaceId": SPACE,
            "PhoneNumber": P1,
            "PrefilledMessage": "Old poster",
            "GenerateQrImage": "PNG",
        },
    )
    (old,) = codes_of(emulator, P1)
    front = OtherApply(emulator, in_window={"Hello a", "Hello c"})
    entries = [entry(P1, "a", "Hello a"), entry(P1, "b", "Hello b"), entry(P2, "c", "Hello c")]
    root = write_folder(tmp_path, url_for(front), entries)

    run = wasync("apply", root, "--auto-approve")

    assert run.exit_code == 1, run
    assert "Apply done: 3 succeeded, 0 failed" in run.stdout
    assert "Checked: a fresh plan finds nothing left to do." not in run.stdout
    pinned = pins_in(root)
    copy_a, copy_c = front.made["Hello a"], front.made["Hello c"]
    assert codes_of(emulator, P1) == {old, pinned["a"], pinned["b"], copy_a}
    assert codes_of(emulator, P2) == {pinned["c"], copy_c}
    assert "Duplicate QR codes: 2 codes at the provider copy what an entry already has" in (
        run.stdout
    )
    assert f"qr.shop.{P1}.a: code {pinned['a']}; also {copy_a}" in run.stdout
    assert f"qr.shop.{P2}.c: code {pinned['c']}; also {copy_c}" in run.stdout
    advice = f"wasync apply --prune --target qr.shop.{P1}.{copy_a} --target qr.shop.{P2}\n"
    assert advice in run.stdout
    assert "Traceback" not in run.output

    # What it says to run deletes the two copies, and nothing pinned, nor the old code.
    cleanup = wasync(*advice.split()[1:], root, "--auto-approve")  # "apply --prune ..."
    assert cleanup.exit_code == 0, cleanup
    assert "Plan: 0 to create, 0 to update, 2 to delete." in cleanup.stdout
    assert codes_of(emulator, P1) == {old, pinned["a"], pinned["b"]}
    assert codes_of(emulator, P2) == {pinned["c"]}
    assert pins_in(root) == pinned


@pytest.mark.anyio
@pytest.mark.virtual_clock
@pytest.mark.usefixtures("keys")
async def test_two_creates_of_one_message_never_take_the_same_new_code(
    tmp_path: Path, emulator: Any
) -> None:
    # Two entries of one message and image on one phone. Each create's answer comes a
    # second after the emulator made the code: the other create, reading the phone again
    # meanwhile, would find that code and take it for its own, unless they go one at a time.
    async def slow_answers(scope: Scope, receive: Receive, send: Send) -> None:
        async def later(message: Message) -> None:
            if (
                message["type"] == "http.response.start"
                and dict(scope["headers"]).get(b"x-acs-action") == CREATE.encode()
            ):
                await asyncio.sleep(1.0)
            await send(message)

        await emulator(scope, receive, later)

    root = write_folder(
        tmp_path, "https://cams.invalid", [entry(P1, f"e{i}", "Hello twice") for i in range(2)]
    )
    config_, specs = load_desired(root, freeze=False)
    transports = {"shop": InProcessTransport(slow_answers)}
    async with Session(config_, transports=transports, policy=FAST) as session:
        planned = await manager.make_plan(session, config_, specs)
        report = await Executor(session, planned.settings).run(planned.plan, planned.remote)

    made = pins.made_codes(report, specs)
    assert [o.status for o in report.outcomes] == [Status.SUCCEEDED] * 2
    assert len({m.code for m in made}) == 2
    assert {m.code for m in made} == codes_of(emulator, P1)


@pytest.mark.anyio
@pytest.mark.usefixtures("keys")
async def test_when_the_phone_cannot_be_read_again_no_code_is_created_blind(
    tmp_path: Path, emulator: Any
) -> None:
    root = write_folder(tmp_path, "https://cams.invalid", [entry(P1, "a", "Hello a")])
    config_, specs = load_desired(root, freeze=False)
    transports = {"shop": InProcessTransport(emulator)}
    async with Session(config_, transports=transports, policy=FAST) as session:
        planned = await manager.make_plan(session, config_, specs)
        emulator.state.emulator.fail_next("Ram.PermissionDeny", action=LIST)
        report = await Executor(session, planned.settings).run(planned.plan, planned.remote)

    (outcome,) = report.outcomes
    assert outcome.status is Status.FAILED
    assert outcome.error is not None and "Ram.PermissionDeny" in str(outcome.error)
    assert emulator.state.emulator.calls[CREATE] == 0
    assert held(emulator, P1) == Counter()


def test_a_code_of_the_same_message_but_another_image_is_no_duplicate() -> None:
    # An old print of the same message in another image is a code of its own (unmanaged,
    # or pruned), not a copy: only what rule 2 would match counts, so the check does not
    # fail forever over it. A code whose image was not read back ("") is a copy.
    from wasync.model import QrCode, RemoteQrCode
    from wasync.plan.identity import duplicate_codes

    wanted = QrCode(
        account="shop", phone=P1, label="a", prefilled_message="Hi", image="SVG", code="C1"
    )

    def remote(code: str, image: str, message: str = "Hi") -> RemoteQrCode:
        return RemoteQrCode(
            account="shop", phone=P1, code=code, prefilled_message=message, image=image
        )

    codes = [remote("C1", "SVG"), remote("C2", "PNG"), remote("C3", ""), remote("C4", "SVG")]
    codes.append(remote("C5", "SVG", message="Hi there"))
    (found,) = duplicate_codes([wanted], codes)
    assert found.entry == wanted and found.code.code == "C1"
    assert [c.code for c in found.copies] == ["C3", "C4"]
