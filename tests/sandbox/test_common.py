"""What every emulator shares: replies rendered with stored JSON text spliced in, and the
in-process transport."""

from __future__ import annotations

import gc
import json
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wasync.config import Config
from wasync.model import QrCode
from wasync.providers.cams.account import CamsAccount
from wasync.sandbox.common import InProcessTransport, JsonText, encode_json, encode_reply
from wasync.session import Session

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=("Cs",))),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(json_values)
def test_spliced_text_renders_as_json_response_would(value: Any) -> None:
    as_starlette = json.dumps(
        {"data": [value, value], "paging": {"é": value}},
        ensure_ascii=False,
        allow_nan=False,
        separators=(",", ":"),
    )
    text = JsonText(encode_json(value))
    assert encode_reply({"data": [text, value], "paging": {"é": text}}) == as_starlette
    assert encode_reply({"data": [value, value], "paging": {"é": value}}) == as_starlette


@pytest.mark.anyio
async def test_a_read_reply_lets_go_of_its_body_without_the_cyclic_collector() -> None:
    """httpx ties a reply and its stream in a cycle; refreshes pause the collector and then
    freeze what is left, so a body the stream still held would stay for good."""
    size = 2_000_000

    async def big(request: Request) -> Response:
        return Response(b"x" * size)  # made while memory is traced

    app = Starlette(routes=[Route("/", big)])
    async with httpx.AsyncClient(transport=InProcessTransport(app), base_url="http://e") as http:
        gc.disable()
        tracemalloc.start()
        try:
            response = await http.send(http.build_request("GET", "/"), stream=True)
            assert len(b"".join([chunk async for chunk in response.aiter_bytes()])) == size
            await response.aclose()
            del response
            held, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            gc.enable()
    assert held < size / 2


@pytest.mark.anyio
async def test_a_released_sandbox_writes_its_state_and_reads_it_back_at_the_next_call(
    tmp_path: Path,
) -> None:
    """A plan lets its embedded sandboxes' state go once it has read the remote; should a
    call come after all, the emulator is built again from what was written."""
    account = CamsAccount.model_validate(
        {"name": "box", "provider": "cams", "endpoint": "sandbox", "cust_space_id": "space"}
    )
    state = tmp_path / ".wasync" / "sandbox" / "box" / "cams.json"
    phone = "8613800000000"

    def stored() -> int:
        return len(json.loads(state.read_text(encoding="utf-8"))["spaces"]["space"]["qr"][phone])

    def qr(i: int) -> QrCode:
        return QrCode(account="box", phone=phone, label=f"p{i}", prefilled_message=f"Hi {i}")

    async with Session(Config(root=tmp_path, accounts={"box": account})) as session:
        provider = session.connection("box").provider
        await provider.create_qr_code(qr(1))
        session.release_sandboxes()
        assert (
            len(json.loads(state.read_text(encoding="utf-8"))["spaces"]["space"]["qr"][phone]) == 1
        )
        assert [q.prefilled_message for q in await provider.list_qr_codes(phone)] == ["Hi 1"]
        await provider.create_qr_code(qr(2))
    assert stored() == 2
