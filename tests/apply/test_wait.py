"""`apply --wait`: after an apply, wait until each template it submitted leaves review, and
report each verdict with the provider's reason; the sandbox's review hook
(`sandbox:reject` in a template's text) makes a rejection happen on demand.

The waits run on the virtual clock (a 10 s review takes no real time), against both
emulators through the real clients; one test runs the command as a user does."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_runner import wasync
from starlette.types import Receive, Scope, Send

from wasync.apply.review import Reviews, wait_for_review
from wasync.errors import ProviderError
from wasync.loading import load_desired
from wasync.model import Template
from wasync.pacing.retry import RetryPolicy
from wasync.sandbox import cams, nxcloud
from wasync.sandbox.cams_service import CamsEmulator
from wasync.sandbox.nxcloud_state import NxcloudEmulator
from wasync.session import Session

from .support import FAST, NX_PHONE, SPACE, Emulators, template, write_specs

pytestmark = pytest.mark.anyio

REVIEW = 10.0  # the embedded sandbox's review time


def rejected(i: int, account: str, marker: str = "sandbox:reject") -> dict[str, Any]:
    return template(i, account=account, body=f"Order {{{{1}}}} of {{{{2}}}} is late. {marker}")


# --- the sandbox's review hook, in each emulator ------------------------------------------


def test_cams_review_rejects_a_template_whose_text_holds_the_marker() -> None:
    now = [1000.0]
    emulator = CamsEmulator(clock=lambda: now[0], approve_after=REVIEW)
    for name, text in [
        ("fine", "Hello"),
        ("bad", "Hi sandbox:reject"),
        ("promo", "sandbox:reject:PROMOTIONAL now"),
    ]:
        emulator.call(
            "CreateChatappTemplate",
            {
                "Name": name, "Language": "en", "Category": "UTILITY", "TemplateType": "WHATSAPP",
                "CustSpaceId": SPACE, "Components": [{"Type": "BODY", "Text": text}],
            },
        )  # fmt: skip
    assert {t["AuditStatus"] for t in emulator.templates()} == {"auditing"}
    now[0] += REVIEW
    listed = emulator.call(
        "ListChatappTemplate", {"CustSpaceId": SPACE, "TemplateType": "WHATSAPP"}
    )
    verdicts = {t["TemplateName"]: (t["AuditStatus"], t["Reason"]) for t in listed["ListTemplate"]}
    assert verdicts == {
        "fine": ("pass", ""),
        "bad": ("fail", "INVALID_FORMAT"),
        "promo": ("fail", "PROMOTIONAL"),
    }


def test_nxcloud_review_rejects_a_template_whose_text_holds_the_marker() -> None:
    now = [1000.0]
    emulator = NxcloudEmulator(clock=lambda: now[0], approve_after=REVIEW)
    for name, text in [
        ("fine", "Hello"),
        ("bad", "Hi sandbox:reject"),
        ("promo", "sandbox:reject:PROMOTIONAL now"),
    ]:
        emulator.create_template(
            {
                "appkey": "k", "business_phone": NX_PHONE, "messaging_product": "whatsapp",
                "name": name, "language": "en_US", "category": "UTILITY",
                "components": [{"type": "BODY", "text": text}],
            }
        )  # fmt: skip
    assert {t["status"] for t in emulator.templates(NX_PHONE)} == {"PENDING"}
    now[0] += REVIEW
    verdicts = {
        t["name"]: (t["status"], t["rejected_reason"]) for t in emulator.templates(NX_PHONE)
    }
    assert verdicts == {
        "fine": ("APPROVED", "NONE"),
        "bad": ("REJECTED", "INVALID_FORMAT"),
        "promo": ("REJECTED", "PROMOTIONAL"),
    }


# --- waiting, on the virtual clock ---------------------------------------------------------


class Listings:
    """An ASGI front that counts each emulator's template listings, and its other calls."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.others: Counter[str] = Counter()

    def front(self, account: str, app: Any, is_listing: Callable[[Scope], bool]) -> Any:
        async def counted(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                (self.calls if is_listing(scope) else self.others)[account] += 1
            await app(scope, receive, send)

        return counted


def is_cams_listing(scope: Scope) -> bool:
    return (b"x-acs-action", b"ListChatappTemplate") in scope["headers"]


def is_nx_listing(scope: Scope) -> bool:
    return bool(scope["path"] == "/api/wa/getTemplate")


class Lines:
    def __init__(self) -> None:
        self.polls: list[tuple[int, float]] = []
        self.failures: list[str] = []

    def polled(self, waiting: int, total: int, elapsed: float, within: float) -> None:
        self.polls.append((waiting, elapsed))

    def poll_failed(self, account: str, error: ProviderError) -> None:
        self.failures.append(f"{account}: {error.code}")


def virtual_emulators(approve_after: float | None) -> Emulators:
    """Both emulators on the test's clock: the loop's virtual time, from the real now (the
    clients sign with the real time, which the emulators check)."""
    loop = asyncio.get_running_loop()
    start, origin = time.time(), loop.time()

    def clock() -> float:
        return start + loop.time() - origin

    return Emulators(
        cams=cams.create_app(qps=0, clock=clock, approve_after=approve_after),
        nx=nxcloud.create_app(qps=0, clock=clock, approve_after=approve_after),
    )


async def submit_and_wait(
    root: Path, emus: Emulators, *, within: float, policy: RetryPolicy = FAST, **kw: Any
) -> tuple[Reviews, Listings, Lines, float]:
    """Create the folder's templates through the real clients, then wait for review."""
    listings = Listings()
    emus.fronts = {
        "shop-cams": listings.front("shop-cams", emus.cams, is_cams_listing),
        "shop-nx": listings.front("shop-nx", emus.nx, is_nx_listing),
    }
    config, specs = load_desired(root)
    templates: list[Template] = list(specs.desired.templates)
    lines = Lines()
    async with Session(config, transports=emus.transports, policy=policy) as session:
        for t in templates:
            await session.connection(t.account).provider.create_template(t)
        listings.others.clear()  # the creates: from here on, the wait's own calls
        loop = asyncio.get_running_loop()
        started = loop.time()
        reviews = await wait_for_review(session, templates, within=within, progress=lines, **kw)
    return reviews, listings, lines, loop.time() - started


@pytest.mark.virtual_clock
async def test_the_wait_reports_each_verdict_with_the_providers_reason(tmp_path: Path) -> None:
    specs = [
        template(1, account="shop-cams"),
        rejected(2, "shop-cams", "sandbox:reject:TAG_CONTENT_MISMATCH"),
        template(3, account="shop-nx"),
        rejected(4, "shop-nx", "sandbox:reject:PROMOTIONAL"),
        template(5, account="shop-nx"),
    ]
    root = write_specs(tmp_path, templates=specs)
    reviews, listings, lines, elapsed = await submit_and_wait(
        root, virtual_emulators(REVIEW), within=900
    )

    verdicts = [(v.address, v.status, v.reason) for v in reviews.verdicts]
    assert verdicts == [
        ("template.shop-cams.order_update_001.en_US", "APPROVED", None),
        ("template.shop-cams.order_update_002.en_US", "REJECTED", "TAG_CONTENT_MISMATCH"),
        (f"template.shop-nx.{NX_PHONE}.order_update_003.en_US", "APPROVED", None),
        (f"template.shop-nx.{NX_PHONE}.order_update_004.en_US", "REJECTED", "PROMOTIONAL"),
        (f"template.shop-nx.{NX_PHONE}.order_update_005.en_US", "APPROVED", None),
    ]
    assert reviews.waiting == [] and not reviews.stopped
    assert [len(reviews.not_approved)] == [2]
    # Polls 2, 3 and 5 s apart: the third, 10 s in, finds the reviews over.
    assert elapsed == pytest.approx(REVIEW)
    assert lines.polls == [(5, 0.0), (5, 2.0), (5, 5.0), (0, pytest.approx(REVIEW))]
    # One listing per account per poll, however many of its templates are in review, and
    # no other call (CAMS lists the status and reason without a detail call per template).
    assert listings.calls == {"shop-cams": 3, "shop-nx": 3}
    assert listings.others == {}


@pytest.mark.virtual_clock
async def test_an_account_whose_templates_are_decided_is_not_read_again(tmp_path: Path) -> None:
    root = write_specs(tmp_path, templates=[template(1, account="shop-cams"), template(2)])
    emus = virtual_emulators(None)  # no review ends by itself: the test decides them
    nx = emus.nx.state.emulator

    async def decide_nx_after_4_seconds() -> None:
        await asyncio.sleep(4)
        nx.review(NX_PHONE, "order_update_002", "en_US", "REJECTED", "ABUSIVE_CONTENT")

    decider = asyncio.ensure_future(decide_nx_after_4_seconds())
    reviews, listings, _, elapsed = await submit_and_wait(root, emus, within=60)
    await decider

    assert [(v.address, v.status, v.reason) for v in reviews.verdicts] == [
        (f"template.shop-nx.{NX_PHONE}.order_update_002.en_US", "REJECTED", "ABUSIVE_CONTENT")
    ]
    assert [t.address for t in reviews.waiting] == ["template.shop-cams.order_update_001.en_US"]
    assert elapsed == 60  # the time allowed, to the second: the last poll is at the end
    # Polls at 2, 5, 10, 20, 35, 60 s (the last one cut short to end on time).
    assert listings.calls == {"shop-cams": 6, "shop-nx": 2}


@pytest.mark.virtual_clock
async def test_a_failed_poll_is_reported_and_the_next_one_tries_again(tmp_path: Path) -> None:
    root = write_specs(tmp_path, templates=[template(1)])
    emus = virtual_emulators(REVIEW)
    # The first listing is throttled; with no retries left to the read, the poll fails.
    emus.nx.state.emulator.fail_next("getTemplate", code=429, http_status=429)
    once = RetryPolicy(attempts=1)
    reviews, _, lines, _ = await submit_and_wait(root, emus, within=900, policy=once)

    assert lines.failures == ["shop-nx: HTTP 429"]
    assert [(v.status) for v in reviews.verdicts] == ["APPROVED"]


@pytest.mark.virtual_clock
async def test_a_stop_ends_the_wait_with_what_is_known(tmp_path: Path) -> None:
    root = write_specs(tmp_path, templates=[template(1)])
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(3.5, stop.set)
    reviews, _, _, elapsed = await submit_and_wait(
        root, virtual_emulators(REVIEW), within=900, stop=stop
    )
    assert reviews.stopped and [t.name for t in reviews.waiting] == ["order_update_001"]
    assert elapsed == pytest.approx(3.5)


# --- the command ---------------------------------------------------------------------------


@pytest.fixture
def quick_sandbox_review(monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded sandbox reviews in 0.3 s instead of 10, and the wait polls every 0.1 s:
    the command as a user runs it, without its real-time waits."""
    monkeypatch.setattr("wasync.session.SANDBOX_REVIEW_SECONDS", 0.3)
    monkeypatch.setattr("wasync.apply.review.POLL_SECONDS", (0.1,))


@pytest.mark.usefixtures("quick_sandbox_review")
def test_apply_wait_reports_an_approval_and_a_rejection_and_exits_1(tmp_path: Path) -> None:
    marked = [rejected(1, "shop-cams", "sandbox:reject:PROMOTIONAL"), template(2)]
    root = write_specs(tmp_path, templates=marked)

    run = wasync("apply", root, "--auto-approve", "--wait")

    assert run.exit_code == 1, run
    assert "Apply done: 2 succeeded, 0 failed" in run.stdout
    review = run.stdout.split("\nReview (")[1]
    assert review.splitlines()[1:] == [
        "  template.shop-cams.order_update_001.en_US: rejected: PROMOTIONAL",
        f"  template.shop-nx.{NX_PHONE}.order_update_002.en_US: approved",
        "Review ended: 1 approved, 1 rejected.",
    ]
    assert "Waiting for review: 2 of 2 templates in review (0 s of 900 s)" in run.stderr
    assert run.stderr.rstrip().endswith(
        "1 template was not approved (reasons above): fix the spec as the reason says and "
        "apply again (a rejected template can be edited)."
    )

    # Fixed: the rejected template is edited, goes back to review, and passes.
    write_specs(tmp_path, templates=[template(1, account="shop-cams"), template(2)])
    again = wasync("apply", root, "--auto-approve", "--wait", "--wait-timeout", "30")
    assert again.exit_code == 0, again
    assert "template.shop-cams.order_update_001.en_US: updated" in again.stderr
    assert again.stdout.rstrip().endswith(
        "  template.shop-cams.order_update_001.en_US: approved\n"
        "Review ended: 1 approved, 0 rejected."
    )


@pytest.mark.usefixtures("quick_sandbox_review")
def test_apply_wait_gives_up_when_the_time_is_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("wasync.session.SANDBOX_REVIEW_SECONDS", 3600.0)
    root = write_specs(tmp_path, templates=[template(1)])
    run = wasync("apply", root, "--auto-approve", "--wait", "--wait-timeout", "0.3")
    assert run.exit_code == 1, run
    assert f"  template.shop-nx.{NX_PHONE}.order_update_001.en_US: still in review" in run.stdout
    assert "Review not over: 0 approved, 0 rejected, 1 still in review." in run.stdout
    assert (
        "1 template was still in review when 0.3 s passed; wasync plan shows their status "
        "later, or wait longer with --wait-timeout." in run.stderr
    )


def test_apply_wait_with_nothing_submitted_has_nothing_to_wait_for(tmp_path: Path) -> None:
    root = write_specs(tmp_path, templates=[])
    run = wasync("apply", root, "--auto-approve", "--wait")
    assert run.exit_code == 0, run
    assert run.stdout.endswith("No changes. The remote matches the specs.\n")


def test_a_wait_timeout_without_wait_is_refused(tmp_path: Path) -> None:
    root = write_specs(tmp_path, templates=[template(1)])
    run = wasync("apply", root, "--auto-approve", "--wait-timeout", "60")
    assert run.exit_code == 1
    assert run.stderr == "Error: --wait-timeout goes with --wait; add --wait, or leave it out\n"
