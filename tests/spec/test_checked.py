"""A spec file that passed every rule is not checked again while nothing the rules read has
changed; whatever changed, a problem is never hidden by an old verdict."""

from __future__ import annotations

from pathlib import Path

from wasync.spec.checked import checking_inputs
from wasync.traits import ProviderTraits

from .helpers import CONFIG, dump, folder, problems
from .test_load import BODY as TEMPLATE
from .test_named_and_samples import META_CONFIG, PNG, media

CACHE = Path(".wasync") / "cache" / "specs"


def verdicts(root: Path) -> list[Path]:
    return sorted((root / CACHE).glob("checked-*.bin"))


def test_a_file_that_passed_is_not_checked_again_until_the_accounts_change(tmp_path: Path) -> None:
    root = folder(tmp_path, {"t.yaml": dump({"templates": [TEMPLATE]})})
    assert problems(root) == [] and len(verdicts(root)) == 1
    assert problems(root) == [] and len(verdicts(root)) == 1  # the same verdict, used
    # The same text under an account whose provider keeps templates per account: the
    # phone is now wrong. The old verdict does not answer for it.
    moved = CONFIG.replace("provider: nxcloud", "provider: cams").replace(
        "appkey: test-appkey", "cust_space_id: other-space"
    )
    (root / "wasync.yaml").write_text(moved, encoding="utf-8")
    found = problems(root)
    assert found and all("shop-nx" in p for p in found), found


def test_a_file_whose_check_looked_at_a_sample_file_gets_no_verdict(tmp_path: Path) -> None:
    (tmp_path / "media").mkdir(parents=True)
    (tmp_path / "media" / "banner.png").write_bytes(PNG)
    spec = {"t.yaml": dump({"templates": [media({"header_file": "media/banner.png"})]})}
    root = folder(tmp_path, spec, META_CONFIG)
    assert problems(root) == []
    assert verdicts(root) == []
    (tmp_path / "media" / "banner.png").unlink()  # the spec did not change; its sample did
    (problem,) = problems(root)
    assert "media/banner.png: no such file in the spec folder" in problem


def test_a_file_with_a_problem_or_a_warning_gets_no_verdict(tmp_path: Path) -> None:
    bad = {**TEMPLATE, "name": "Order Shipped"}
    root = folder(tmp_path, {"t.yaml": dump({"templates": [bad]})})
    first = problems(root)
    assert first and verdicts(root) == []
    assert problems(root) == first  # checked again, found again


def test_the_inputs_differ_when_a_providers_traits_do() -> None:
    a = ProviderTraits(name="p", kinds=frozenset({"template"}), template_features=frozenset())
    b = ProviderTraits(name="p", kinds=frozenset({"template"}), template_features={"CAROUSEL"})  # type: ignore[arg-type]
    same = checking_inputs({"x": a}, ["x"], [a], {}, True)
    assert same == checking_inputs({"x": a}, ["x"], [a], {}, True)
    assert same != checking_inputs({"x": b}, ["x"], [b], {}, True)
    assert same != checking_inputs({"x": a}, ["x"], [a], {"g": ["x"]}, True)
    assert same != checking_inputs({"x": a}, ["x"], [a], {}, False)
