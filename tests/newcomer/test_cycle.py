"""The example specs on a fresh clone: validate, plan, apply, plan again, with no account
and no environment variable (the embedded sandbox)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_runner import wasync

from .support import copy_specs


def test_example_specs_validate_offline(tmp_path: Path) -> None:
    specs = copy_specs(tmp_path / "specs")
    result = wasync("validate", specs)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{specs}: 11 templates, 8 QR codes in 5 files: valid")


@pytest.mark.slow  # apply is paced at the providers' 5 requests per second: ~4 s
def test_plan_apply_plan_converges_with_no_credentials(tmp_path: Path) -> None:
    assert not [k for k in os.environ if k.startswith(("ALIBABA_CLOUD_", "NXCLOUD_", "META_"))]
    specs = copy_specs(tmp_path / "specs")

    first = wasync("plan", specs, "--detailed-exitcode")
    assert first.exit_code == 2, first.output
    assert "Plan: 19 to create, 0 to update, 0 to delete." in first.stdout

    applied = wasync("apply", specs, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "Apply done: 19 succeeded, 0 failed, 0 skipped" in applied.stdout

    again = wasync("plan", specs, "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes. The remote matches the specs." in again.stdout
    # The state lives next to wasync.yaml, one folder per account.
    state = specs / ".wasync" / "sandbox"
    assert sorted(p.name for p in state.iterdir()) == ["shop-cams", "shop-meta", "shop-nx"]


def test_example_specs_cover_every_category_and_shape() -> None:
    """The issue's list: accounts on every provider, QR codes for a few campaigns, and
    templates of every category, including an image-header marketing template with
    buttons, an order update, an OTP and a carousel."""
    from wasync.loading import load_desired

    from .support import SPECS

    config, specs = load_desired(SPECS, freeze=False)
    assert {a.provider for a in config.accounts.values()} == {"cams", "nxcloud", "meta"}
    assert all(a.is_sandbox for a in config.accounts.values())
    assert len({q.phone for q in specs.desired.qr_codes}) >= 3
    by_category = {t.category for t in specs.desired.templates}
    assert by_category == {"MARKETING", "UTILITY", "AUTHENTICATION"}
    kinds = {
        (t.category, c.type, getattr(c, "format", None))
        for t in specs.desired.templates
        for c in t.components
    }
    assert ("MARKETING", "HEADER", "IMAGE") in kinds
    assert ("MARKETING", "BUTTONS", None) in kinds
    assert ("MARKETING", "CAROUSEL", None) in kinds
    assert ("UTILITY", "BODY", None) in kinds
    assert any(
        b.type == "OTP"
        for t in specs.desired.templates
        if t.category == "AUTHENTICATION"
        for c in t.components
        if c.type == "BUTTONS"
        for b in c.buttons
    )
