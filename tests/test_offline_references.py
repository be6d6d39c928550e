"""Offline validation leaves an unset ``${VAR}`` as written; that text is no secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasync.loading import load_desired
from wasync.log import redact


def test_an_unset_reference_is_not_masked_afterwards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WASYNC_TEST_UNSET_KEY", raising=False)
    (tmp_path / "wasync.yaml").write_text(
        "accounts:\n"
        "  shop:\n"
        "    provider: cams\n"
        "    endpoint: https://cams.ap-southeast-1.aliyuncs.com\n"
        "    access_key_id: ${WASYNC_TEST_UNSET_KEY}\n"
        "    access_key_secret: literal-secret-value\n"
        "    cust_space_id: cs-1\n",
        encoding="utf-8",
    )
    load_desired(tmp_path, resolve_env=False)
    assert redact("see ${WASYNC_TEST_UNSET_KEY}") == "see ${WASYNC_TEST_UNSET_KEY}"
    assert "literal-secret-value" not in redact("leak: literal-secret-value")
