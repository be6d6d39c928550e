"""CAMS template details come from .wasync/cache/ while a template's LastUpdateTime stands
still: a second plan of an unchanged account makes list calls only; a change is always
read again; a damaged cache is rebuilt; --refresh-cache ignores it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cli_runner import wasync

from wasync.config import Config
from wasync.model import RemoteTemplate
from wasync.plan.render.json import SCHEMA
from wasync.providers.cams.account import CamsAccount
from wasync.sandbox import cams
from wasync.sandbox.common import InProcessTransport
from wasync.session import Session

from .support import SPACE

pytestmark = pytest.mark.anyio
KEY_ID, SECRET = "LTAI-cache-test-key", "cache-test-secret-value"


class Clock:
    """Moves a millisecond at each reading: every change gets a LastUpdateTime of its own
    (the signatures' time stays within CAMS's 15 minutes)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Config, Any]]:
    app = cams.create_app(access_key_id=KEY_ID, access_key_secret=SECRET, qps=0, clock=Clock())
    account = CamsAccount.model_validate(
        {
            "name": "shop",
            "provider": "cams",
            "endpoint": "https://cams.ap-southeast-1.aliyuncs.com",
            "cust_space_id": SPACE,
            "access_key_id": KEY_ID,
            "access_key_secret": SECRET,
            "qps": 1000,
        }
    )
    emulator = app.state.emulator
    for name in ("alpha", "beta", "gamma"):
        emulator.call("CreateChatappTemplate", template_params(name, f"Hello from {name}"))
    yield Config(root=tmp_path, accounts={"shop": account}), app


def template_params(name: str, text: str) -> dict[str, Any]:
    return {
        "CustSpaceId": SPACE,
        "Name": name,
        "Language": "en",
        "Category": "UTILITY",
        "TemplateType": "WHATSAPP",
        "Components": [{"Type": "BODY", "Text": text}],
    }


async def read(world: tuple[Config, Any], **options: Any) -> tuple[dict[str, str], int]:
    """Every template's body text, and the calls it took, in a session of its own."""
    config, app = world
    transports = {"shop": InProcessTransport(app)}
    async with Session(config, transports=transports, **options) as session:
        listed = await session.connection("shop").provider.list_templates([], None)
        calls = session.calls()["shop"]
    return {t.name: body(t) for t in listed}, calls


def body(template: RemoteTemplate) -> str:
    return next(str(c["text"]) for c in template.components if c["type"] == "BODY")


def cache_files(root: Path) -> list[Path]:
    return sorted((root / ".wasync" / "cache").glob("*.json"))


async def test_a_second_read_makes_list_calls_only_and_a_change_is_read_again(
    world: tuple[Config, Any],
) -> None:
    config, app = world
    first, calls = await read(world)
    assert first == {n: f"Hello from {n}" for n in ("alpha", "beta", "gamma")}
    assert calls == 1 + 3  # one page, three details
    second, calls = await read(world)
    assert (second, calls) == (first, 1)  # the listing only

    emulator = app.state.emulator
    code = next(t["TemplateCode"] for t in emulator.templates() if t["Name"] == "beta")
    emulator.set_template_status(code, "en", "REJECTED")  # modify needs a rejected one
    emulator.call(
        "ModifyChatappTemplate",
        {**template_params("beta", "Changed remotely"), "TemplateCode": code},
    )
    third, calls = await read(world)
    assert third == {**first, "beta": "Changed remotely"}
    assert calls == 1 + 1  # only the changed template's detail
    # A review decision moves LastUpdateTime too: the status is never stale.
    emulator.set_template_status(code, "en", "APPROVED")
    config_, app_ = world
    async with Session(config_, transports={"shop": InProcessTransport(app_)}) as session:
        listed = await session.connection("shop").provider.list_templates([], None)
        assert {t.name: t.status for t in listed}["beta"] == "APPROVED"
        assert session.calls()["shop"] == 2

    # The cache holds no credential, and only what the remote still holds.
    (path,) = cache_files(config.root)
    text = path.read_text(encoding="utf-8")
    assert KEY_ID not in text and SECRET not in text and KEY_ID not in path.name
    assert len(json.loads(text)["entries"]) == 3


@pytest.mark.parametrize(
    "damage",
    ["not json {", '{"format": 99, "kind": "cams template details", "entries": {}}', "[1, 2]"],
)
async def test_a_damaged_or_foreign_cache_is_ignored_and_rebuilt(
    world: tuple[Config, Any], damage: str
) -> None:
    config, _ = world
    first, _ = await read(world)
    (path,) = cache_files(config.root)
    path.write_text(damage, encoding="utf-8")
    again, calls = await read(world)
    assert (again, calls) == (first, 1 + 3)
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == 1  # rebuilt
    assert (await read(world))[1] == 1


async def test_a_wrong_entry_is_not_believed(world: tuple[Config, Any]) -> None:
    """An entry whose status disagrees with the listing (a cache written by hand, or by a
    buggy version) is read again, not shown."""
    config, _ = world
    first, _ = await read(world)
    (path,) = cache_files(config.root)
    data = json.loads(path.read_text(encoding="utf-8"))
    for entry in data["entries"].values():
        entry["AuditStatus"] = "pass"  # the listing says auditing
        entry["Components"] = [{"Type": "BODY", "Text": "forged"}]
    path.write_text(json.dumps(data), encoding="utf-8")
    again, calls = await read(world)
    assert (again, calls) == (first, 1 + 3)


async def test_refresh_cache_ignores_the_cache(world: tuple[Config, Any]) -> None:
    await read(world)
    assert (await read(world, refresh_cache=True))[1] == 1 + 3
    assert (await read(world))[1] == 1  # and the rewritten cache serves the next one


SPEC = """templates:
  - account: shop
    name: order_shipped
    language: en
    category: UTILITY
    components:
      - type: BODY
        text: "Your order {{1}} has shipped."
        example: {body_text: [["A-1"]]}
"""


def test_plan_prints_the_calls_per_account(tmp_path: Path) -> None:
    (tmp_path / "wasync.yaml").write_text(
        "accounts:\n  shop:\n    provider: cams\n    endpoint: sandbox\n"
        f"    cust_space_id: {SPACE}\n",
        encoding="utf-8",
    )
    (tmp_path / "templates.yaml").write_text(SPEC, encoding="utf-8")
    applied = wasync("apply", tmp_path, "--auto-approve")
    assert applied.exit_code == 0, applied
    planned = wasync("plan", tmp_path, "--verbose")
    assert planned.exit_code == 0, planned
    assert "Provider calls: shop 1" in planned.stderr  # the listing; the detail is cached
    fresh = wasync("plan", tmp_path, "--format", "json", "--refresh-cache", "--verbose")
    data = json.loads(fresh.stdout)
    jsonschema.validate(data, json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert data["provider_calls"] == {"shop": 2}
