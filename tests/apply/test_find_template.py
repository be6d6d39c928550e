"""``find_template``: how the executor reads one template back after a lost answer, with as
few calls as the API allows however many templates the account holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasync.model import Template

from .support import NX_PHONE, emulators, session_for, template, write_specs

pytestmark = pytest.mark.anyio


def make(i: int, account: str, *, name: str | None = None, language: str = "en_US") -> Template:
    entry = template(i, account=account)
    entry["name"] = name or entry["name"]
    entry["language"] = language
    return Template.model_validate(entry)


async def test_cams_finds_one_template_with_one_listing_page_and_one_detail(
    tmp_path: Path,
) -> None:
    emus = emulators()
    async with session_for(write_specs(tmp_path), emus) as (_, _, session):
        cams = session.connection("shop-cams").provider
        # More templates than a listing page holds, and names the Name filter also matches.
        for i in range(120):
            await cams.create_template(make(i, "shop-cams"))
        await cams.create_template(make(0, "shop-cams", name="order_update", language="en_US"))
        await cams.create_template(make(0, "shop-cams", name="order_update", language="es"))
        calls = emus.cams.state.emulator.calls
        before = calls.copy()

        found = await cams.find_template(None, "order_update", "es")
        missing = await cams.find_template(None, "order_update", "pt_BR")

    assert found is not None
    assert (found.name, found.language, found.detailed) == ("order_update", "es", True)
    assert found.components == tuple(make(0, "shop-cams").canonical_components())
    assert missing is None
    used = calls - before
    assert used == {"ListChatappTemplate": 2, "GetChatappTemplateDetail": 1}


async def test_nxcloud_finds_one_template_by_name_on_its_phone(tmp_path: Path) -> None:
    emus = emulators()
    async with session_for(write_specs(tmp_path), emus) as (_, _, session):
        nx = session.connection("shop-nx").provider
        for i in range(3):
            await nx.create_template(make(i, "shop-nx"))
        await nx.create_template(make(1, "shop-nx", language="es"))

        found = await nx.find_template(NX_PHONE, "order_update_001", "es")
        other_phone = await nx.find_template("8613900001111", "order_update_001", "es")
        missing = await nx.find_template(NX_PHONE, "order_update_002", "es")

    assert found is not None
    assert (found.name, found.language, found.phone) == ("order_update_001", "es", NX_PHONE)
    assert found.components == tuple(make(1, "shop-nx").canonical_components())
    assert other_phone is None
    assert missing is None
