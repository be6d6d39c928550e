"""The embedded sandbox waits for nobody and writes its state once per command; a served
emulator writes a moment after changes and when it stops; listings see every change."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from cams.support import connect

from wasync.config import Config
from wasync.model import QrCode
from wasync.providers.cams.account import CamsAccount
from wasync.sandbox import cams
from wasync.sandbox.common import defer_writes, serving
from wasync.session import SandboxGate, Session

pytestmark = pytest.mark.anyio
PHONE = "8613800000000"
SPACE = "cams-sandbox-space"


def sandbox_config(root: Path, **more: object) -> Config:
    account = CamsAccount.model_validate(
        {"name": "box", "provider": "cams", "endpoint": "sandbox", "cust_space_id": SPACE, **more}
    )
    return Config(root=root, accounts={"box": account})


def qr(i: int) -> QrCode:
    return QrCode(account="box", phone=PHONE, label=f"p{i}", prefilled_message=f"Hi {i}")


async def create_through_session(session: Session, n: int) -> float:
    """Create ``n`` QR codes at once; the loop time they took."""
    provider = session.connection("box").provider
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*(provider.create_qr_code(qr(i)) for i in range(n)))
    return loop.time() - started


@pytest.mark.virtual_clock
async def test_an_embedded_sandbox_is_not_paced_and_its_state_is_written_at_close(
    tmp_path: Path,
) -> None:
    async with Session(sandbox_config(tmp_path)) as session:
        took = await create_through_session(session, 12)  # CAMS allows 5 a second
        gate = session.connection("box").gate
        assert isinstance(gate, SandboxGate)
        assert gate.calls == 12  # counted, not paced
        state = tmp_path / ".wasync" / "sandbox" / "box" / "cams.json"
    assert took < 0.1
    # Written when the session closed: the next command's emulator finds all twelve.
    saved = json.loads(state.read_text(encoding="utf-8"))
    assert len(saved["spaces"][SPACE]["qr"][PHONE]) == 12
    async with Session(sandbox_config(tmp_path)) as session:
        listed = await session.connection("box").provider.list_qr_codes(PHONE)
    assert sorted(q.prefilled_message for q in listed) == sorted(f"Hi {i}" for i in range(12))


@pytest.mark.virtual_clock
@pytest.mark.parametrize("how", ["qps", "sandbox_limits"])
async def test_an_embedded_sandbox_is_paced_when_asked(tmp_path: Path, how: str) -> None:
    config = sandbox_config(tmp_path, **({"qps": 5} if how == "qps" else {}))
    async with Session(config, sandbox_limits=how == "sandbox_limits") as session:
        took = await create_through_session(session, 4)
        assert not isinstance(session.connection("box").gate, SandboxGate)
    assert took >= 3 / 5  # four calls at under 5 a second: three gaps


async def test_deferred_writes_happen_once_at_close_not_per_change(tmp_path: Path) -> None:
    app = cams.create_app(state_dir=tmp_path, qps=0)
    defer_writes(app, 3600.0)  # no timer fires during the test: only closing writes
    store = app.state.state_file
    async with connect(app) as provider:
        for i in range(30):
            await provider.create_qr_code(qr(i).model_copy(update={"account": "shop-cams"}))
        assert store.writes == 0 and not (tmp_path / "cams.json").exists()
        # Another emulator of this process on the same folder sees the changes (the first
        # one writes them before the second one reads).
        other = cams.create_app(state_dir=tmp_path, qps=0)
        assert len(other.state.emulator.qr_codes(PHONE)) == 30
    async with connect(app) as provider:  # a second command: nothing changed, no write
        await provider.list_qr_codes(PHONE)
    assert store.writes == 1


async def test_a_served_emulator_writes_a_moment_after_changes(tmp_path: Path) -> None:
    app = cams.create_app(state_dir=tmp_path, qps=0)
    defer_writes(app, 0.05)
    store = app.state.state_file
    with serving(app) as url:
        async with connect(None, base_url=url) as provider:
            for i in range(5):
                await provider.create_qr_code(qr(i).model_copy(update={"account": "shop-cams"}))
            for _ in range(200):  # the timer's write, without stopping the server
                if store.writes:
                    break
                await asyncio.sleep(0.01)
            assert store.writes >= 1
            assert len(json.loads((tmp_path / "cams.json").read_text())["spaces"]) == 1


def test_listings_see_changes_after_pages_were_served() -> None:
    clock = [1_750_000_000.0]
    emulator = cams.create_app(approve_after=10, clock=lambda: clock[0]).state.emulator

    def create(name: str) -> None:
        emulator.call(
            "CreateChatappTemplate",
            {
                "CustSpaceId": SPACE,
                "Name": name,
                "Language": "en",
                "Category": "UTILITY",
                "TemplateType": "WHATSAPP",
                "Components": [{"Type": "BODY", "Text": "Hello"}],
            },
        )

    def listed(status: str | None = None) -> list[str]:
        params = {"CustSpaceId": SPACE, "Page": {"Index": 1, "Size": 2}}
        if status:
            params["AuditStatus"] = status
        first = emulator.call("ListChatappTemplate", params)
        second = emulator.call("ListChatappTemplate", {**params, "Page": {"Index": 2, "Size": 2}})
        return [t["TemplateName"] for t in first["ListTemplate"] + second["ListTemplate"]]

    for name in ("a", "b", "c"):
        create(name)
    assert listed("auditing") == ["a", "b", "c"] and listed("pass") == []
    create("d")  # a change after a listing: the next one sees it
    assert listed() == ["a", "b", "c", "d"]
    clock[0] += 11  # the reviews come due: the statuses and the filtered pages follow
    assert listed("auditing") == [] and listed("pass") == ["a", "b", "c", "d"]
    emulator.call("DeleteChatappTemplate", {"CustSpaceId": SPACE, "TemplateName": "b"})
    assert listed() == ["a", "c", "d"]
    detail = emulator.call(
        "GetChatappTemplateDetail", {"CustSpaceId": SPACE, "TemplateName": "c", "Language": "en"}
    )
    assert detail["Data"]["AuditStatus"] == "pass"
