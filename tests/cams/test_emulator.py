"""The emulator on its own: its independent verifier against the official vectors, the V1
and GET paths, the gateway's refusals, and the service's validation codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest

from wasync.sandbox.cams import create_app
from wasync.sandbox.cams_auth import GatewayError, NonceBook, Verifier, rfc3986
from wasync.sandbox.common import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    InProcessTransport,
)

pytestmark = pytest.mark.anyio

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _epoch(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


# --- the verifier against published vectors ------------------------------------------------


def test_verifier_accepts_the_official_v3_vector() -> None:
    verifier = Verifier(
        {"YourAccessKeyId": "YourAccessKeySecret"}, clock=lambda: _epoch("2023-10-26T10:22:32Z")
    )
    headers = {
        "host": "ecs.cn-shanghai.aliyuncs.com",
        "x-acs-action": "RunInstances",
        "x-acs-version": "2014-05-26",
        "x-acs-date": "2023-10-26T10:22:32Z",
        "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
        "x-acs-content-sha256": EMPTY_SHA256,
        "authorization": "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;"
        "x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
        "Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0",
    }
    query = [
        ("ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"),
        ("RegionId", "cn-shanghai"),
    ]
    call = verifier.verify(method="POST", headers=headers, query=query, form=[], body=b"")
    assert call.access_key_id == "YourAccessKeyId" and call.style == "v3"
    # One changed byte anywhere in the signed material is refused.
    tampered = [("ImageId", "win2019"), ("RegionId", "cn-shanghai")]
    with pytest.raises(GatewayError) as err:
        verifier.verify(method="POST", headers=headers, query=tampered, form=[], body=b"")
    assert err.value.code == "SignatureDoesNotMatch" and err.value.status == 400


def test_verifier_checks_exactly_the_signed_headers() -> None:
    def verifier() -> Verifier:
        return Verifier(
            {"YourAccessKeyId": "YourAccessKeySecret"},
            clock=lambda: _epoch("2023-10-26T10:22:32Z"),
        )

    headers = {
        "host": "ecs.cn-shanghai.aliyuncs.com",
        "x-acs-action": "RunInstances",
        "x-acs-version": "2014-05-26",
        "x-acs-date": "2023-10-26T10:22:32Z",
        "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
        "x-acs-content-sha256": EMPTY_SHA256,
        "authorization": "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;"
        "x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
        "Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0",
    }
    query = [
        ("ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"),
        ("RegionId", "cn-shanghai"),
    ]
    # Headers outside SignedHeaders may be anything.
    verifier().verify(
        method="POST", headers={**headers, "user-agent": "any/1.0"}, query=query, form=[], body=b""
    )
    # A signed one may not change.
    with pytest.raises(GatewayError) as err:
        verifier().verify(
            method="POST",
            headers={**headers, "host": "evil.example"},
            query=query,
            form=[],
            body=b"",
        )
    assert err.value.code == "SignatureDoesNotMatch"


V1_OFFICIAL = [
    ("AccessKeyId", "testid"),
    ("Action", "DescribeDedicatedHosts"),
    ("Format", "JSON"),
    ("RegionId", "cn-beijing"),
    ("SignatureMethod", "HMAC-SHA1"),
    ("SignatureNonce", "edb2b34af0af9a6d14deaf7c1a5315eb"),
    ("SignatureVersion", "1.0"),
    ("Timestamp", "2023-03-13T08:34:30Z"),
    ("Version", "2014-05-26"),
]


def test_verifier_accepts_the_official_v1_vector() -> None:
    verifier = Verifier({"testid": "testsecret"}, clock=lambda: _epoch("2023-03-13T08:34:30Z"))
    query = [*V1_OFFICIAL, ("Signature", "9NaGiOspFP5UPcwX8Iwt2YJXXuk=")]
    call = verifier.verify(method="GET", headers={}, query=query, form=[], body=b"")
    assert call.style == "v1"
    with pytest.raises(GatewayError) as err:  # the method is part of what is signed
        verifier.verify(method="POST", headers={}, query=query, form=[], body=b"")
    assert err.value.code == "SignatureDoesNotMatch"


def test_verifier_accepts_the_cams_v1_vector_with_form_parameters() -> None:
    verifier = Verifier({"testid": "testsecret"}, clock=lambda: _epoch("2025-01-01T00:00:00Z"))
    common = [
        ("AccessKeyId", "testid"),
        ("Action", "CreatePhoneMessageQrdl"),
        ("Format", "json"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", "0123456789abcdef0123456789abcdef"),
        ("SignatureVersion", "1.0"),
        ("Timestamp", "2025-01-01T00:00:00Z"),
        ("Version", "2020-06-06"),
        ("Signature", "o3RUhKdrPaiMJ+Glyn5lq06xHY4="),
    ]
    business = [
        ("CustSpaceId", "cams-test01"),
        ("GenerateQrImage", "PNG"),
        ("PhoneNumber", "8613800000000"),
        ("PrefilledMessage", "Hello world! 你好*~"),
    ]
    # V1 signs query and form parameters alike, wherever they travel.
    verifier.verify(method="POST", headers={}, query=common, form=business, body=b"")


def test_rfc3986_leaves_only_unreserved_characters() -> None:
    assert rfc3986("a-Z_0.~ *!/+你") == "a-Z_0.~%20%2A%21%2F%2B%E4%BD%A0"


def test_nonce_memory_forgets_what_the_window_would_refuse_anyway() -> None:
    book = NonceBook(window=900)
    assert book.claim("k", "n1", request_time=0, now=0)
    assert not book.claim("k", "n1", request_time=0, now=10)
    assert book.claim("other-key", "n1", request_time=0, now=10)
    for i in range(100):
        book.claim("k", f"x{i}", request_time=100, now=100)
    assert book.claim("k", "late", request_time=2000, now=2000)
    assert len(book) == 1  # everything older than the window is gone


# --- the HTTP gateway, driven with hand-made requests --------------------------------------


def _v1_signed(params: dict[str, str], method: str, secret: str) -> dict[str, str]:
    """A V1 request signed here in the test, from the reference's recipe."""
    canonical = "&".join(
        f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in sorted(params.items())
    )
    to_sign = f"{method}&%2F&{quote(canonical, safe='~')}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return {**params, "Signature": base64.b64encode(digest).decode()}


def _v1_params(action: str, **business: str) -> dict[str, str]:
    return {
        "AccessKeyId": DEFAULT_ACCESS_KEY_ID,
        "Action": action,
        "Format": "JSON",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": hashlib.md5(repr(business).encode() + action.encode()).hexdigest(),
        "SignatureVersion": "1.0",
        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Version": "2020-06-06",
        **business,
    }


async def _send(app: Any, method: str, **kw: Any) -> httpx.Response:
    async with httpx.AsyncClient(
        base_url="http://cams.sandbox", transport=InProcessTransport(app)
    ) as http:
        return await http.request(method, "/", **kw)


async def test_v1_get_request_with_query_parameters() -> None:
    app = create_app(qps=0)
    params = _v1_signed(
        _v1_params(
            "CreatePhoneMessageQrdl",
            PhoneNumber="8613800000000",
            GenerateQrImage="PNG",
            PrefilledMessage="Hi there + more",
        ),
        "GET",
        DEFAULT_ACCESS_KEY_SECRET,
    )
    reply = await _send(app, "GET", params=params)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["Code"] == "OK" and body["RequestId"]
    assert body["Data"]["PrefilledMessage"] == "Hi there + more"
    assert "Success" not in body  # QR replies have none (SDK models)


async def test_v1_form_body_with_true_as_python_spells_it() -> None:
    app = create_app(qps=0)
    form = {
        "CustSpaceId": "cams-test01",
        "Name": "welcome",
        "Language": "en",
        "Category": "MARKETING",
        "TemplateType": "WHATSAPP",
        "AllowCategoryChange": "True",
        "CategoryChangePaused": "True",
        "Components": json.dumps(
            [{"Buttons": [], "Cards": [], "Text": "Welcome {{1}}", "Type": "BODY"}],
            separators=(",", ":"),
        ),
        "Example": '{"1":"Bob"}',
    }
    common = _v1_params("CreateChatappTemplate")
    signed = _v1_signed({**common, **form}, "POST", DEFAULT_ACCESS_KEY_SECRET)
    query = {k: v for k, v in signed.items() if k not in form}
    reply = await _send(
        app,
        "POST",
        params=query,
        content=urlencode(sorted(form.items())),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["Success"] is True
    [stored] = app.state.emulator.templates()
    assert stored["CategoryChangePaused"] is True
    assert stored["Components"] == [{"Type": "BODY", "Text": "Welcome {{1}}"}]
    assert stored["Example"] == {"1": "Bob"}


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"Version": "2017-01-01"}, 400, "InvalidVersion"),
        ({"Action": "RunInstances"}, 404, "InvalidApi.NotFound"),
        ({"AccessKeyId": "nobody"}, 404, "InvalidAccessKeyId.NotFound"),
        ({"Timestamp": "2001-01-01T00:00:00Z"}, 400, "InvalidTimeStamp.Expired"),
        ({"Timestamp": "yesterday"}, 400, "InvalidTimeStamp.Format"),
        ({"SignatureMethod": "HMAC-SHA256"}, 400, "IncompleteSignature"),
    ],
)
async def test_gateway_refusals_have_the_real_shape(
    change: dict[str, str], status: int, code: str
) -> None:
    app = create_app(qps=0)
    params = _v1_signed(
        {**_v1_params("ListPhoneMessageQrdl", PhoneNumber="8613800000000"), **change},
        "GET",
        DEFAULT_ACCESS_KEY_SECRET,
    )
    reply = await _send(app, "GET", params=params)
    assert reply.status_code == status
    body = reply.json()
    assert body["Code"] == code
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert body["RequestId"] in body["Recommend"]


async def test_an_unsigned_request_is_refused() -> None:
    reply = await _send(
        create_app(qps=0),
        "POST",
        headers={"x-acs-action": "ListPhoneMessageQrdl", "x-acs-version": "2020-06-06"},
    )
    assert reply.status_code == 400 and reply.json()["Code"] == "IncompleteSignature"


async def test_other_methods_are_refused() -> None:
    reply = await _send(create_app(qps=0), "DELETE")
    assert reply.status_code == 400 and reply.json()["Code"] == "UnsupportedHTTPMethod"


def _v3_headers(action: str, *, signed: str, body: bytes = b"") -> dict[str, str]:
    return {
        "x-acs-action": action,
        "x-acs-version": "2020-06-06",
        "x-acs-date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": "0" * 32,
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        "authorization": f"ACS3-HMAC-SHA256 Credential={DEFAULT_ACCESS_KEY_ID},"
        f"SignedHeaders={signed},Signature={'0' * 64}",
    }


async def test_v3_must_sign_the_required_headers() -> None:
    headers = _v3_headers("ListPhoneMessageQrdl", signed="host;x-acs-action;x-acs-date")
    reply = await _send(create_app(qps=0), "POST", headers=headers)
    body = reply.json()
    assert body["Code"] == "IncompleteSignature"
    assert "x-acs-signature-nonce" in body["Message"]


async def test_v3_payload_hash_must_match_the_body() -> None:
    signed = "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
    headers = _v3_headers("ListPhoneMessageQrdl", signed=signed)
    reply = await _send(create_app(qps=0), "POST", headers=headers, content=b"PhoneNumber=1")
    body = reply.json()
    assert body["Code"] == "SignatureDoesNotMatch" and "x-acs-content-sha256" in body["Message"]


SPACE = "cams-test01"


# --- the service's own validation (through the service object) ------------------------------


def _create(app: Any, **params: Any) -> dict[str, Any]:
    from wasync.sandbox.cams_wire import ApiError

    base = {
        "CustSpaceId": SPACE,
        "Name": "t1",
        "Language": "en",
        "Category": "UTILITY",
        "TemplateType": "WHATSAPP",
        "Components": [{"Type": "BODY", "Text": "Hello"}],
    }
    try:
        return app.state.emulator.call("CreateChatappTemplate", {**base, **params})  # type: ignore[no-any-return]
    except ApiError as exc:
        return {"Code": exc.code, "Status": exc.status}


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"TemplateType": "SMS"}, "InvalidParameter.TemplateTypeNotSupport"),
        ({"Language": "english"}, "InvalidParameter.LanguageNotSupport"),
        (
            {"Components": [{"Type": "FOOTER", "Text": "Hi {{1}}"}]},
            "InvalidParameter.FooterHaveVariable",
        ),
        (
            {"Components": [{"Type": "HEADER", "Text": "{{1}} {{2}}"}]},
            "InvalidParameter.HeaderMoreVarable",
        ),
        (
            {"Components": [{"Type": "HEADER", "Format": "AUDIO"}]},
            "InvalidParameter.HeaderTypeNotSupport",
        ),
        (
            {
                "Components": [
                    {"Type": "BUTTONS", "Buttons": [{"Type": "QUICK_REPLY", "Text": "{{1}}"}]}
                ]
            },
            "InvalidParameter.ButtonTextHaveVariable",
        ),
        (
            {
                "Components": [
                    {
                        "Type": "BUTTONS",
                        "Buttons": [{"Type": "URL", "Text": "Go", "Url": "https://x/{{1}}/{{2}}"}],
                    }
                ]
            },
            "InvalidParameter.UrlMoreVarable",
        ),
        ({"Components": [{"Type": "BODY", "Text": "x" * 1025}]}, "InvalidParameter.MessageInvalid"),
        ({"Components": [{"Type": "STICKER"}]}, "InvalidParameter.MessageInvalid"),
        ({"Components": []}, "InvalidParameter.MessageInvalid"),
        ({"Name": None}, "MissingName"),
        # Required by the current API metadata for Create, Modify and GetDetail.
        ({"CustSpaceId": None}, "MissingCustSpaceId"),
    ],
)
def test_template_validation_codes(params: dict[str, Any], code: str) -> None:
    assert _create(create_app(qps=0), **params)["Code"] == code


def test_the_sdks_empty_lists_are_accepted_and_not_echoed() -> None:
    app = create_app(qps=0)
    components = [
        {"Buttons": [], "Cards": [], "Text": "Hi {{1}}", "Type": "BODY"},
        {
            "Buttons": [{"SupportedApps": [], "Text": "Yes", "Type": "QUICK_REPLY"}],
            "Cards": [],
            "Type": "BUTTONS",
        },
    ]
    created = _create(app, Components=components)
    code = created["Data"]["TemplateCode"]
    detail = app.state.emulator.call(
        "GetChatappTemplateDetail", {"CustSpaceId": SPACE, "TemplateCode": code, "Language": "en"}
    )
    assert detail["Data"]["Components"] == [
        {"Type": "BODY", "Text": "Hi {{1}}"},
        {"Type": "BUTTONS", "Buttons": [{"Type": "QUICK_REPLY", "Text": "Yes"}]},
    ]
    assert detail["Data"]["Name"] == "t1"


def test_limited_time_offer_reads_back_as_has_expiration_in_lower_camel_case() -> None:
    app = create_app(qps=0)
    created = _create(
        app,
        Category="MARKETING",
        Components=[
            {"Type": "LIMITED_TIME_OFFER", "Text": "Deal", "HasExpiration": "true"},
            {"Type": "BODY", "Text": "Buy"},
        ],
    )
    detail = app.state.emulator.call(
        "GetChatappTemplateDetail",
        {"CustSpaceId": SPACE, "TemplateCode": created["Data"]["TemplateCode"], "Language": "en"},
    )
    assert detail["Data"]["Components"][0] == {
        "Type": "LIMITED_TIME_OFFER",
        "Text": "Deal",
        "hasExpiration": True,
    }


@pytest.mark.parametrize(
    ("page", "ok"),
    [
        ({"Index": 1, "Size": 100}, True),
        ({"index": 2, "size": 5}, True),
        ({"Index": 0, "Size": 10}, False),
        ({"Index": 1, "Size": 101}, False),
        ({"Index": "one", "Size": 10}, False),
        ([1, 10], False),
    ],
)
def test_page_bounds(page: Any, ok: bool) -> None:
    from wasync.sandbox.cams_wire import ApiError

    emulator = create_app(qps=0).state.emulator
    try:
        reply = emulator.call("ListChatappTemplate", {"Page": page})
    except ApiError as exc:
        assert not ok and exc.code == "InvalidParameter.PageInvalid"
    else:
        assert ok and reply["Total"] == 0 and reply["ListTemplate"] == []


def test_delete_without_a_language_takes_every_language() -> None:
    app = create_app(qps=0)
    first = _create(app, Language="en")["Data"]["TemplateCode"]
    _create(app, Language="zh_CN")
    app.state.emulator.call("DeleteChatappTemplate", {"CustSpaceId": SPACE, "TemplateCode": first})
    assert app.state.emulator.templates() == []


def test_delete_with_a_language_needs_the_template_type() -> None:
    app = create_app(qps=0)
    code = _create(app)["Data"]["TemplateCode"]
    from wasync.sandbox.cams_wire import ApiError

    with pytest.raises(ApiError) as err:
        app.state.emulator.call(
            "DeleteChatappTemplate", {"CustSpaceId": SPACE, "TemplateCode": code, "Language": "en"}
        )
    assert err.value.code == "MissingTemplateType" and err.value.status == 400


def test_a_rejected_template_goes_back_to_review_when_modified() -> None:
    app = create_app(qps=0, approve_after=30, clock=lambda: 1000.0)
    emulator = app.state.emulator
    code = _create(app)["Data"]["TemplateCode"]
    emulator.set_template_status(code, "en", "REJECTED", "TAG_CONTENT_MISMATCH")
    [tpl] = emulator.templates()
    assert tpl["AuditStatus"] == "fail" and tpl["Reason"] == "TAG_CONTENT_MISMATCH"
    emulator.call(
        "ModifyChatappTemplate",
        {
            "CustSpaceId": SPACE,
            "TemplateCode": code,
            "Language": "en",
            "Components": [{"Type": "BODY", "Text": "New"}],
        },
    )
    [tpl] = emulator.templates()
    assert tpl["AuditStatus"] == "auditing" and tpl["ReviewDue"] == 1030.0
    with pytest.raises(ValueError, match="unknown status"):
        emulator.set_template_status(code, "en", "LIVE")


async def test_qr_codes_list_the_same_after_a_restart_and_from_an_old_state_file(
    tmp_path: Path,
) -> None:
    """QR codes are kept as their encoded text and spliced into listings: the reply must be
    what json.dumps renders for the same data, the same after a restart, and a state file
    from before (codes decoded) must load to it and be written back compact."""
    phone = "8613800000000"

    async def call(app: Any, action: str, **business: str) -> httpx.Response:
        params = _v1_signed(_v1_params(action, **business), "GET", DEFAULT_ACCESS_KEY_SECRET)
        reply = await _send(app, "GET", params=params)
        assert reply.status_code == 200, reply.text
        return reply

    def listed(reply: httpx.Response) -> bytes:
        assert (
            reply.content
            == json.dumps(reply.json(), ensure_ascii=False, separators=(",", ":")).encode()
        )
        return reply.content.partition(b',"Code"')[2]  # all but the RequestId

    first = create_app(qps=0, state_dir=tmp_path)
    for message in ("Hi there", '你好 "</b>\\ é'):
        await call(
            first,
            "CreatePhoneMessageQrdl",
            PhoneNumber=phone,
            GenerateQrImage="SVG",
            PrefilledMessage=message,
        )
    before = listed(await call(first, "ListPhoneMessageQrdl", PhoneNumber=phone))
    restarted = create_app(qps=0, state_dir=tmp_path)
    assert listed(await call(restarted, "ListPhoneMessageQrdl", PhoneNumber=phone)) == before

    state = tmp_path / "cams.json"
    old = json.loads(state.read_text(encoding="utf-8"))
    codes = old["spaces"][""]["qr"][phone]
    codes[:] = [json.loads(q) for q in codes]
    state.write_text(json.dumps(old, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    migrated = create_app(qps=0, state_dir=tmp_path)
    reply = await call(migrated, "ListPhoneMessageQrdl", PhoneNumber=phone)
    assert reply.json()["Data"] == json.loads(b'{"Code"' + before)["Data"]
    first_code = codes[0]["QrdlCode"]
    updated = await call(
        migrated,
        "UpdatePhoneMessageQrdl",
        PhoneNumber=phone,
        QrdlCode=first_code,
        GenerateQrImage="PNG",
        PrefilledMessage="Edited",
    )
    new_code = updated.json()["Data"]["QrdlCode"].strip()
    migrated.state.flush_state()
    kept = json.loads(state.read_text(encoding="utf-8"))["spaces"][""]["qr"][phone]
    assert all(isinstance(q, str) for q in kept)  # written back in the compact form
    assert [json.loads(q)["QrdlCode"] for q in kept] == [new_code, codes[1]["QrdlCode"]]


def test_template_components_read_the_same_from_an_old_state_file(tmp_path: Path) -> None:
    """Components are kept as their encoded text; a state file from before (decoded) loads
    to the same detail reply, and is written back compact."""
    from wasync.sandbox.cams_service import CamsEmulator
    from wasync.sandbox.common import JsonState

    def emulator() -> CamsEmulator:
        return CamsEmulator(clock=lambda: 1.0e9, state=JsonState(tmp_path, "cams"))

    components = [
        {"Type": "BODY", "Text": '你好 {{1}} "</b>'},
        {"Type": "BUTTONS", "Buttons": [{"Type": "QUICK_REPLY", "Text": "Yes"}]},
    ]
    key = {"CustSpaceId": "s", "Language": "zh_CN", "TemplateCode": ""}
    made = emulator().call(
        "CreateChatappTemplate",
        {
            **key,
            "Name": "hi",
            "Category": "MARKETING",
            "TemplateType": "WHATSAPP",
            "Components": components,
        },
    )
    key["TemplateCode"] = made["Data"]["TemplateCode"]
    detail = emulator().call("GetChatappTemplateDetail", key)
    assert detail["Data"]["Components"] == components

    state = tmp_path / "cams.json"
    old = json.loads(state.read_text(encoding="utf-8"))
    for tpl in old["spaces"]["s"]["templates"]:
        tpl["Components"] = json.loads(tpl["Components"])
    state.write_text(json.dumps(old, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    migrated = emulator()
    assert migrated.call("GetChatappTemplateDetail", key) == detail
    migrated.flush()
    (kept,) = json.loads(state.read_text(encoding="utf-8"))["spaces"]["s"]["templates"]
    assert isinstance(kept["Components"], str)
