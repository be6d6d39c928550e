"""What every emulator shares: replies rendered with stored JSON text spliced in, and the
in-process transport."""

from __future__ import annotations

import gc
import json
import tracemalloc
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wasync.sandbox.common import InProcessTransport, JsonText, encode_json, encode_reply

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
