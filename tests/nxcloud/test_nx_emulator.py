"""The emulator at the HTTP level: NXCloud's documented requests, envelopes and paging."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from wasync.providers.nxcloud.signing import sign
from wasync.sandbox.common import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    InProcessTransport,
)
from wasync.sandbox.nxcloud import MAX_PAGE_LIMIT, create_app

from .support import APPKEY, PHONE, FakeClock, connect, make_template

pytestmark = pytest.mark.anyio
COMMON = {"appkey": APPKEY, "business_phone": PHONE, "messaging_product": "whatsapp"}


@pytest.fixture
def app() -> Starlette:
    """On the real clock, as the requests here are signed with it."""
    return create_app(qps=0)


async def call(
    app: Starlette,
    action: str,
    body: dict[str, Any] | None = None,
    *,
    path: str | None = None,
    **header_changes: str,
) -> httpx.Response:
    """A request signed by hand, the way the documentation describes."""
    raw = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
    ts = str(int(time.time() * 1000))
    headers = {
        "accessKey": DEFAULT_ACCESS_KEY_ID,
        "ts": ts,
        "bizType": "2",
        "action": action,
        "sign": sign(
            access_key=DEFAULT_ACCESS_KEY_ID,
            secret=DEFAULT_ACCESS_KEY_SECRET,
            action=action,
            biz_type="2",
            ts=ts,
            body=raw,
        ),
        "Content-Type": "application/json",
        **header_changes,
    }
    async with httpx.AsyncClient(transport=InProcessTransport(app), base_url="http://nx") as http:
        return await http.post(f"/api/wa/{path or action}", content=raw, headers=headers)


async def ok(app: Starlette, action: str, body: dict[str, Any], **kw: Any) -> Any:
    response = await call(app, action, body, **kw)
    assert response.status_code == 200
    reply = response.json()
    assert reply["code"] == 0, reply
    assert reply["message"] == "请求成功"  # the current page's words
    return reply["data"]


async def code_of(app: Starlette, action: str, body: dict[str, Any], **kw: Any) -> tuple[int, str]:
    reply = (await call(app, action, body, **kw)).json()
    return reply["code"], reply["message"]


def create_body(name: str, components: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {
        **COMMON,
        "category": "MARKETING",
        "language": "en_US",
        "name": name,
        **fields,
        "components": components,
    }


RICH = [
    {"type": "HEADER", "format": "TEXT", "text": "ni{{1}}hao", "example": {"header_text": "AA"}},
    {"type": "BODY", "text": "hello{{1}}world{{2}}hahah", "example": {"body_text": [["BB", "CC"]]}},
    {"type": "FOOTER", "text": "I am footer"},
    {
        "type": "BUTTONS",
        "buttons": [{"type": "QUICK_REPLY", "text": "Yes"}, {"type": "QUICK_REPLY", "text": "No"}],
    },
]


async def test_the_documented_rich_example_is_read_back_in_array_form(app: Starlette) -> None:
    created = await ok(app, "createTemplate", create_body("rich", RICH))
    page = await ok(app, "getTemplate", {**COMMON, "name": "rich"})
    (info,) = page["data"]
    assert info["id"] == created["id"] and info["id"].isdigit() and len(info["id"]) == 16
    assert set(info) == {
        "id",
        "category",
        "language",
        "name",
        "status",
        "components",
        "rejected_reason",
        "quality_score",
    }
    assert (info["status"], info["rejected_reason"], info["quality_score"]) == (
        "PENDING",
        "NONE",
        {"score": "UNKNOWN"},
    )
    assert info["components"][0]["example"] == {"header_text": ["AA"]}
    assert info["components"][1:] == RICH[1:]


async def test_the_documented_authentication_examples(app: Starlette) -> None:
    copy_code = [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "FOOTER", "code_expiration_minutes": 5},
        {
            "type": "BUTTONS",
            "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy Code"}],
        },
    ]
    one_tap = {
        "type": "OTP",
        "otp_type": "ONE_TAP",
        "text": "Copy Code2",
        "autofill_text": "Autofill2",
        "package_name": "com.example.myapplication",
        "signature_hash": "K8a%2FAINcGX7",
    }
    for name, components in (
        ("otp_copy", copy_code),
        ("otp_tap", [*copy_code[:2], {"type": "BUTTONS", "buttons": [one_tap]}]),
    ):
        await ok(app, "createTemplate", create_body(name, components, category="AUTHENTICATION"))
    page = await ok(app, "getTemplate", {**COMMON})
    copy_info, tap_info = page["data"]
    body, footer, buttons = copy_info["components"]
    assert body["text"] == (
        "*{{1}}* is your verification code. For your security, do not share this code."
    )
    assert footer["text"] == "This code expires in 5 minutes."
    (button,) = buttons["buttons"]
    assert button["type"] == "URL" and button["text"] == "Copy Code"
    assert button["url"] == (
        "https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code_expiration_minutes=5"
        "&code=otp{{1}}"
    )
    (tap,) = tap_info["components"][2]["buttons"]
    assert (
        "otp_type=ONE_TAP&cta_display_name=Autofill2&package_name=com.example.myapplication"
        in (tap["url"])
    )


async def test_unknown_fields_are_stored_and_echoed(app: Starlette) -> None:
    components = [{"type": "BODY", "text": "Hi", "new_thing": {"a": [1]}}]
    await ok(app, "createTemplate", create_body("lenient", components))
    page = await ok(app, "getTemplate", {**COMMON})
    assert page["data"][0]["components"] == components


async def test_createtemplateasync_takes_either_action_header(app: Starlette) -> None:
    for i, action in enumerate(("createTemplateAsync", "createTemplate")):
        body = create_body(f"async_{i}", [{"type": "BODY", "text": "Hi"}])
        await ok(app, action, body, path="createTemplateAsync")
    body = create_body("x", [{"type": "BODY", "text": "Hi"}])
    assert await code_of(app, "getTemplate", body, path="createTemplateAsync") == (
        1002,
        "Parameter error",
    )


@pytest.mark.parametrize(
    ("changes", "code", "message"),
    [
        ({"ts": "1655710885"}, 1004, "Timestamp has expired"),  # seconds, not milliseconds
        ({"ts": "soon"}, 1004, "Timestamp has expired"),
        ({"bizType": "1"}, 1002, "Parameter error"),
        ({"accessKey": "nobody"}, 1005, "Insufficient permissions"),
        ({"sign": "A" * 32}, 1003, "Invalid signature"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 1003, "Invalid signature"),
        ({"algorithm": "sha256"}, 1003, "Invalid signature"),  # signed with md5
    ],
)
async def test_authentication_answers(
    app: Starlette, changes: dict[str, str], code: int, message: str
) -> None:
    response = await call(app, "getTemplate", COMMON, **changes)
    assert response.status_code == 200
    assert response.json() == {"code": code, "data": None, "message": message}


async def test_unknown_paths_are_not_found(app: Starlette) -> None:
    assert (await call(app, "sendTemplate", COMMON)).status_code == 404


async def test_parameters_are_checked(app: Starlette) -> None:
    assert await code_of(app, "getTemplate", {**COMMON, "business_phone": "+86 185"}) == (
        9002,
        "商户手机号错误",
    )
    assert await code_of(app, "getTemplate", {**COMMON, "messaging_product": "sms"}) == (
        9000,
        "Parameter exception: messaging_product must be whatsapp",
    )
    assert await code_of(app, "getTemplate", {**COMMON, "limit": 0}) == (
        9000,
        "Parameter exception: limit must be a positive whole number",
    )
    assert await code_of(app, "getTemplate", {**COMMON, "after": "not-ours"}) == (
        9000,
        "Parameter exception: after is not a cursor from a previous page",
    )
    body = create_body("bad", [{"type": "STICKER"}])
    assert await code_of(app, "createTemplate", body) == (
        9000,
        "Parameter exception: components[0].type must be HEADER, BODY, FOOTER, BUTTONS or CAROUSEL",
    )
    reply = (await call(app, "createTemplate", create_body("Bad-Name", RICH))).json()
    assert reply["code"] == 9099
    assert reply["data"]["error"]["error_user_title"] == "Invalid template name"


async def test_paging_by_cursors_both_ways() -> None:
    app = create_app(qps=0, page_cap=0)  # the emulator's own page sizes, whatever the run's cap
    for i in range(45):
        await ok(app, "createTemplate", create_body(f"t_{i:02d}", [{"type": "BODY", "text": "x"}]))
    first = await ok(app, "getTemplate", {**COMMON})
    assert [t["name"] for t in first["data"]] == [f"t_{i:02d}" for i in range(20)]  # default 20
    assert "next" in first["paging"] and "previous" not in first["paging"]
    after = first["paging"]["cursors"]["after"]
    second = await ok(app, "getTemplate", {**COMMON, "after": after})
    assert second["data"][0]["name"] == "t_20"
    assert {"next", "previous"} <= set(second["paging"])
    third = await ok(app, "getTemplate", {**COMMON, "after": second["paging"]["cursors"]["after"]})
    assert [t["name"] for t in third["data"]] == [f"t_{i}" for i in range(40, 45)]
    assert "next" not in third["paging"]
    back = await ok(app, "getTemplate", {**COMMON, "before": third["paging"]["cursors"]["before"]})
    assert back["data"] == second["data"]
    assert f"after={after}" in first["paging"]["next"]


async def test_limit_is_capped() -> None:
    app = create_app(qps=0, page_cap=0)
    for i in range(MAX_PAGE_LIMIT + 1):
        await ok(app, "createTemplate", create_body(f"t_{i}", [{"type": "BODY", "text": "x"}]))
    page = await ok(app, "getTemplate", {**COMMON, "limit": "1000"})
    assert len(page["data"]) == MAX_PAGE_LIMIT and "next" in page["paging"]


async def test_a_page_cap_shortens_every_page_and_keeps_the_cursors() -> None:
    app = create_app(qps=0, page_cap=7)
    for i in range(10):
        await ok(app, "createTemplate", create_body(f"t_{i}", [{"type": "BODY", "text": "x"}]))
    first = await ok(app, "getTemplate", {**COMMON, "limit": 100})
    assert len(first["data"]) == 7 and "next" in first["paging"]
    after = first["paging"]["cursors"]["after"]
    second = await ok(app, "getTemplate", {**COMMON, "limit": 100, "after": after})
    assert [t["name"] for t in second["data"]] == ["t_7", "t_8", "t_9"]
    assert "next" not in second["paging"]


async def test_name_filter_gives_every_language_and_empty_pages_have_no_paging(
    app: Starlette,
) -> None:
    for language in ("en_US", "zh_CN"):
        body = create_body("hello", [{"type": "BODY", "text": "x"}], language=language)
        await ok(app, "createTemplate", body)
    await ok(app, "createTemplate", create_body("hello_world", [{"type": "BODY", "text": "x"}]))
    page = await ok(app, "getTemplate", {**COMMON, "name": "hello"})
    assert [(t["name"], t["language"]) for t in page["data"]] == [
        ("hello", "en_US"),
        ("hello", "zh_CN"),
    ]
    assert await ok(app, "getTemplate", {**COMMON, "name": "nothing"}) == {"data": []}


async def test_upload_then_create_with_the_handle(app: Starlette) -> None:
    ts = str(int(time.time() * 1000))
    headers = {
        "accessKey": DEFAULT_ACCESS_KEY_ID,
        "ts": ts,
        "bizType": "2",
        "action": "uploadTemplateFile",
        "sign": sign(
            access_key=DEFAULT_ACCESS_KEY_ID,
            secret=DEFAULT_ACCESS_KEY_SECRET,
            action="uploadTemplateFile",
            biz_type="2",
            ts=ts,
        ),
    }
    form = {"business_phone": PHONE, "messaging_product": "whatsapp", "type": "image/jpeg"}
    async with httpx.AsyncClient(transport=InProcessTransport(app), base_url="http://nx") as http:
        response = await http.post(
            "/api/wa/uploadTemplateFile",
            headers=headers,
            data=form,
            files={"file": ("a.jpg", b"\xff\xd8 jpeg bytes", "image/jpeg")},
        )
        bad = await http.post(
            "/api/wa/uploadTemplateFile",
            headers=headers,
            data={**form, "type": "image/gif"},
            files={"file": ("a.gif", b"GIF89a", "image/gif")},
        )
    handle = response.json()["data"]["id"]
    assert handle.startswith("4:")
    assert bad.json()["code"] == 9000
    header = {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": handle}}
    await ok(app, "createTemplate", create_body("img", [header, {"type": "BODY", "text": "x"}]))
    (info,) = (await ok(app, "getTemplate", {**COMMON}))["data"]
    assert info["components"][0]["example"]["header_handle"][0].startswith("https://")
    header["example"] = {"header_handle": "4:not-from-here"}
    reply = (await call(app, "createTemplate", create_body("img2", [header]))).json()
    assert (reply["code"], reply["data"]["error"]["error_user_title"]) == (
        9099,
        "Invalid media handle",
    )


async def test_the_rate_limit_is_per_access_key() -> None:
    app = create_app(qps=2)
    codes = [(await call(app, "getTemplate", COMMON)).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    response = await call(app, "getTemplate", COMMON)
    assert response.headers["Retry-After"] == "1"
    assert response.json() == {"code": -1, "data": None, "message": "Too many requests"}


async def test_state_persists_across_restarts(tmp_path: Path, clock: FakeClock) -> None:
    first = create_app(qps=0, clock=clock, state_dir=tmp_path)
    async with connect(first, clock=clock) as provider:
        created = await provider.create_template(make_template())
    assert (tmp_path / "nxcloud.json").exists()
    second = create_app(qps=0, clock=clock, state_dir=tmp_path)
    async with connect(second, clock=clock) as provider:
        (listed,) = await provider.list_templates([PHONE])
        again = await provider.create_template(make_template(name="other"))
    assert listed.id == created.id
    assert int(again.id) > int(created.id)


async def test_the_review_endpoint(app: Starlette) -> None:
    async with connect(app) as provider:
        await provider.create_template(make_template())
        async with httpx.AsyncClient(
            transport=InProcessTransport(app), base_url="http://nx"
        ) as http:
            review = {"phone": PHONE, "name": "order_shipped", "language": "en_US"}
            done = await http.post(
                "/_sandbox/review", json={**review, "status": "rejected", "reason": "PROMOTIONAL"}
            )
            missing = await http.post(
                "/_sandbox/review", json={**review, "name": "nope", "status": "APPROVED"}
            )
            wrong = await http.post("/_sandbox/review", json={**review, "status": "GREAT"})
            garbage = await http.post("/_sandbox/review", content=b"{")
        (listed,) = await provider.list_templates([PHONE])
    assert done.status_code == 200 and done.json()["template"]["status"] == "REJECTED"
    assert (listed.status, listed.reason) == ("REJECTED", "PROMOTIONAL")
    assert missing.status_code == 404 and "no template nope (en_US)" in missing.json()["error"]
    assert wrong.status_code == 400 and "unknown status 'GREAT'" in wrong.json()["error"]
    assert garbage.status_code == 400


async def test_listings_are_rendered_as_json_and_survive_a_restart_and_an_old_state_file(
    tmp_path: Path,
) -> None:
    """Stored components are kept as encoded text and spliced into listings: the reply must
    be what JSONResponse renders for the same data (non-ASCII as is), the same again after a
    restart, and a state file from before (components decoded) must load to it."""
    first = create_app(qps=0, page_cap=0, state_dir=tmp_path)
    odd = [{"type": "BODY", "text": '你好 {{1}} "</b>\\ é', "example": {"body_text": ["蓝"]}}]
    await ok(first, "createTemplate", create_body("rich", RICH))
    await ok(first, "createTemplate", create_body("odd", odd, language="zh_CN"))
    listed = (await call(first, "getTemplate", {**COMMON})).content
    rendered = json.dumps(json.loads(listed), ensure_ascii=False, separators=(",", ":"))
    assert listed == rendered.encode()
    assert json.loads(listed)["data"]["data"][1]["components"][0]["text"] == odd[0]["text"]

    state = tmp_path / "nxcloud.json"
    assert (
        await call(create_app(qps=0, page_cap=0, state_dir=tmp_path), "getTemplate", {**COMMON})
    ).content == listed

    old = json.loads(state.read_text(encoding="utf-8"))
    for record in old["phones"][PHONE].values():
        record["components"] = json.loads(record["components"])
        record["approved_edits"] = []
    state.write_text(json.dumps(old, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    migrated = create_app(qps=0, page_cap=0, state_dir=tmp_path)
    reply = await call(migrated, "getTemplate", {**COMMON})
    assert reply.json() == json.loads(listed)
    migrated.state.flush_state()
    (stored, _) = json.loads(state.read_text(encoding="utf-8"))["phones"][PHONE].values()
    assert isinstance(stored["components"], str)  # written back in the compact form
