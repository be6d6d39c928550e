"""The signing rule against the worked examples of NXCloud's documentation (reference §2.3)."""

from __future__ import annotations

import json

import pytest

from wasync.providers.nxcloud.signing import sign, string_to_sign

AK, SECRET, TS = "fme2na3kdi3ki", "abciiiko2k3", "1655710885431"
PAYLOAD = {"name": "牛小信", "id": 10001}


def doc_sign(body: str | None, *, action: str = "send", biz_type: str = "1", **kw: str) -> str:
    return sign(
        access_key=AK, secret=SECRET, action=action, biz_type=biz_type, ts=TS, body=body, **kw
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Java / C# demo and the "调用示例" section: key order as written, compact.
        ('{"name":"牛小信","id":10001}', "87c3560d3331ae23f1021e2025722354"),
        # PHP (JSON_UNESCAPED_UNICODE) and Go (json.Marshal): sorted keys, compact.
        ('{"id":10001,"name":"牛小信"}', "7750759da06333f20d0640be09355e34"),
        # The Python demo's printed comment: default json.dumps separators.
        ('{"id": 10001, "name": "牛小信"}', "d0c24a9886c629330d7f3f2056c65bc2"),
    ],
)
def test_documented_examples(body: str, expected: str) -> None:
    assert doc_sign(body) == expected
    assert doc_sign(body.encode("utf-8")) == expected  # bytes and text sign alike


def test_the_bytes_sent_are_what_is_signed() -> None:
    """json.dumps' defaults (ensure_ascii, spaced separators) give other bytes, another sign."""
    escaped = json.dumps(dict(sorted(PAYLOAD.items())))
    assert "\\u725b" in escaped
    assert doc_sign(escaped) == "c47d659c2eb708071aabe0f588728c6c"


@pytest.mark.parametrize("body", [None, "", b""])
def test_no_body_leaves_the_body_part_out(body: str | bytes | None) -> None:
    assert doc_sign(body) == "884afe159e39b6c88a0d6102ca97d704"
    assert string_to_sign(
        access_key=AK, action="send", biz_type="1", ts=TS, body=body, secret=SECRET
    ) == b"accessKey=fme2na3kdi3ki&action=send&bizType=1&ts=1655710885431&accessSecret=" + (
        SECRET.encode()
    )


def test_multipart_upload_signs_without_body() -> None:
    got = doc_sign(None, action="uploadTemplateFile", biz_type="2")
    assert got == "b5fbec7995a4c611a72cddbd0667a9fe"


def test_sha256_on_the_java_example() -> None:
    got = doc_sign('{"name":"牛小信","id":10001}', algorithm="sha256")
    assert got == "e0eec2c99ef80f269a82795e2223f618ebfc0616c8b6c8c7d438021ec38ad0eb"


def test_unknown_algorithm_is_refused_without_showing_the_secret() -> None:
    with pytest.raises(ValueError, match="sha1") as info:
        doc_sign("{}", algorithm="sha1")
    assert SECRET not in str(info.value)
