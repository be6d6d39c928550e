"""CAMS's ListChatappTemplate says when a template last changed (``LastUpdateTime``, epoch
milliseconds): the edit budgets read it; GetChatappTemplateDetail does not, so a detailed
template takes its listing's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from wasync.providers.cams import mapping

LISTED: dict[str, Any] = {
    "TemplateCode": "744c4b5c79c9432497a075bdfca3ec39",
    "TemplateName": "receipt",
    "Language": "en",
    "Category": "UTILITY",
    "AuditStatus": "pass",
    "TemplateType": "WHATSAPP",
    "Reason": "",
    "LastUpdateTime": 1_748_779_200_000,
}


def test_a_listed_template_has_its_last_update_time() -> None:
    t = mapping.template_from_list("shop-cams", LISTED)
    assert t.updated_at == datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("value", [None, "", "soon", True, 0, -5, [1], 10**30])
def test_an_absent_or_odd_time_is_unknown_not_an_error(value: Any) -> None:
    item = {**LISTED, "LastUpdateTime": value}
    assert mapping.template_from_list("shop-cams", item).updated_at is None


def test_a_detailed_template_takes_its_listing_time() -> None:
    listed = mapping.template_from_list("shop-cams", LISTED)
    data = {
        "TemplateCode": LISTED["TemplateCode"],
        "Name": "receipt",
        "Language": "en",
        "Category": "UTILITY",
        "AuditStatus": "pass",
        "Components": [{"Type": "BODY", "Text": "Thanks"}],
    }
    assert mapping.template_from_detail("shop-cams", data).updated_at is None
    assert mapping.template_from_detail("shop-cams", data, listed).updated_at == listed.updated_at
