"""The client's V3 signer against the official vector and the CAMS vectors of reference §5.1."""

from __future__ import annotations

import hashlib
import re

import pytest

from wasync.providers.cams import signing

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _official_headers() -> dict[str, str]:
    return {
        "host": "ecs.cn-shanghai.aliyuncs.com",
        "x-acs-action": "RunInstances",
        "x-acs-version": "2014-05-26",
        "x-acs-date": "2023-10-26T10:22:32Z",
        "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
        "x-acs-content-sha256": EMPTY_SHA256,
    }


OFFICIAL_QUERY = {
    "ImageId": "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
    "RegionId": "cn-shanghai",
}


def test_official_v3_vector_canonical_request_hash() -> None:
    headers = _official_headers()
    canonical = signing.canonical_request(
        method="POST",
        path="/",
        query=OFFICIAL_QUERY,
        headers=headers,
        signed_headers=headers,
        payload_hash=EMPTY_SHA256,
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    assert digest == "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
    # The header block ends with its own newline, so a blank line follows it.
    assert "x-acs-version:2014-05-26\n\nhost;x-acs-action" in canonical


def test_official_v3_vector_authorization() -> None:
    auth = signing.authorization(
        access_key_id="YourAccessKeyId",
        access_key_secret="YourAccessKeySecret",
        method="POST",
        path="/",
        query=OFFICIAL_QUERY,
        headers=_official_headers(),
    )
    assert auth == (
        "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,"
        "SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;"
        "x-acs-signature-nonce;x-acs-version,"
        "Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
    )


CAMS_QUERY = {
    "CustSpaceId": "cams-test01",
    "GenerateQrImage": "PNG",
    "PhoneNumber": "8613800000000",
    "PrefilledMessage": "Hello world! 你好*~",
}


def _cams_headers() -> dict[str, str]:
    return {
        "host": "cams.ap-southeast-1.aliyuncs.com",
        "x-acs-action": "CreatePhoneMessageQrdl",
        "x-acs-version": "2020-06-06",
        "x-acs-date": "2025-01-01T00:00:00Z",
        "x-acs-signature-nonce": "0123456789abcdef0123456789abcdef",
        "x-acs-content-sha256": EMPTY_SHA256,
    }


def _signature_of(auth: str) -> str:
    match = re.search(r"Signature=([0-9a-f]{64})$", auth)
    assert match, auth
    return match.group(1)


def test_cams_canonical_query_encodes_per_rfc3986() -> None:
    assert signing.canonical_query(CAMS_QUERY) == (
        "CustSpaceId=cams-test01&GenerateQrImage=PNG&PhoneNumber=8613800000000"
        "&PrefilledMessage=Hello%20world%21%20%E4%BD%A0%E5%A5%BD%2A~"
    )


def test_cams_vector_six_headers() -> None:
    headers = _cams_headers()
    canonical = signing.canonical_request(
        method="POST",
        path="/",
        query=CAMS_QUERY,
        headers=headers,
        signed_headers=headers,
        payload_hash=EMPTY_SHA256,
    )
    assert (
        hashlib.sha256(canonical.encode()).hexdigest()
        == "842e5599415e9d3003d2d2499a66100e74ed6e10b5a1e27113d64725cbd0f3f3"
    )
    auth = signing.authorization(
        access_key_id="testid",
        access_key_secret="testsecret",
        method="POST",
        path="/",
        query=CAMS_QUERY,
        headers=headers,
    )
    assert _signature_of(auth) == "f8e45e89645799f1ea57a974bf8dc9abe931fe5f71191e151706b8ffb62eb708"


def test_cams_vector_nine_headers_as_the_sdk_signs() -> None:
    headers = {
        **_cams_headers(),
        "accept": "application/json",
        "user-agent": "AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2",
        "x-acs-credentials-provider": "static_ak",
    }
    auth = signing.authorization(
        access_key_id="testid",
        access_key_secret="testsecret",
        method="POST",
        path="/",
        query=CAMS_QUERY,
        headers=headers,
    )
    assert _signature_of(auth) == "e0763e55bd78d9fb69b05019bcc86df6ddf407ab2966f9d9ab56e649555e340e"
    assert "SignedHeaders=accept;host;user-agent;x-acs-action;" in auth


def test_header_names_are_lowered_and_values_trimmed() -> None:
    shouting = {name.upper(): f"  {value} " for name, value in _cams_headers().items()}
    shouting["X-ACS-CONTENT-SHA256"] = EMPTY_SHA256
    auth = signing.authorization(
        access_key_id="testid",
        access_key_secret="testsecret",
        method="post",
        path="/",
        query=CAMS_QUERY,
        headers=shouting,
    )
    assert _signature_of(auth) == "f8e45e89645799f1ea57a974bf8dc9abe931fe5f71191e151706b8ffb62eb708"


def test_refuses_to_sign_without_a_required_header() -> None:
    headers = _cams_headers()
    del headers["x-acs-signature-nonce"]
    with pytest.raises(ValueError, match="x-acs-signature-nonce"):
        signing.authorization(
            access_key_id="a",
            access_key_secret="b",
            method="POST",
            path="/",
            query={},
            headers=headers,
        )


def test_refuses_a_payload_hash_that_does_not_match_the_body() -> None:
    with pytest.raises(ValueError, match="does not match"):
        signing.authorization(
            access_key_id="a",
            access_key_secret="b",
            method="POST",
            path="/",
            query={},
            headers=_cams_headers(),
            body=b"Name=x",
        )


def test_empty_query_gives_an_empty_line() -> None:
    headers = _cams_headers()
    canonical = signing.canonical_request(
        method="POST",
        path="/",
        query={},
        headers=headers,
        signed_headers=headers,
        payload_hash=EMPTY_SHA256,
    )
    assert canonical.split("\n")[2] == ""
