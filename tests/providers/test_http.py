"""The HTTP base's reading of ``Retry-After`` (the clients' tests drive the rest of it)."""

from __future__ import annotations

import email.utils

import pytest

from wasync.providers.http import retry_after_seconds

NOW = 1_750_000_000.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        (" 120 ", 120.0),
        ("0.5", 0.5),  # not RFC 9110's integer, but what it means is clear
        (email.utils.formatdate(NOW + 90, usegmt=True), 90.0),
        (email.utils.formatdate(NOW - 90, usegmt=True), 0.0),  # already past: go now
        ("Sun, 15 Jun 2025 15:08:20", 1_750_000_100.0 - NOW),  # no zone: GMT, as HTTP says
        ("-5", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("inf", None),  # a wait for ever is no answer
        ("nan", None),
    ],
)
def test_retry_after_in_seconds_or_as_an_http_date(value: str | None, expected: float) -> None:
    assert retry_after_seconds(value, NOW) == expected
