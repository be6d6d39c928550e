"""How refresh copes with a provider that fails now and then.

A CAMS template listing is one list call plus one detail call per managed template. If
refresh retried a whole listing as one unit, a listing of more than ten calls would fail on
every attempt when one call in ten fails, however many attempts there were. Reads are
retried call by call, so each failed call costs one retry and the refresh goes through.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from cli_runner import clean_env, wasync_process
from starlette.types import ASGIApp, Receive, Scope, Send

from wasync.sandbox import common

from .support import (
    CAMS_KEY_ID,
    CAMS_SECRET,
    CREDENTIAL_ENV,
    FAST_RETRIES,
    Folder,
    cams_account,
    served,
    template_spec,
)

TEMPLATES = 12


class EveryNth:
    """A gateway that answers every ``n``-th request with CAMS's ServiceUnavailable (a
    failure before acting: retrying is safe). ``n = 0`` lets everything through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.n = 0
        self.seen = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.seen += 1
        if scope["type"] != "http" or not self.n or self.seen % self.n:
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {"Code": "ServiceUnavailable", "Message": "busy", "RequestId": f"R-{self.seen}"}
        ).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def test_a_refresh_survives_one_failed_call_in_ten(tmp_path: Path) -> None:
    gateways: list[EveryNth] = []

    def wrap(app: ASGIApp) -> ASGIApp:
        gateways.append(EveryNth(app))
        return gateways[0]

    with served(
        "cams", wrap=wrap, access_key_id=CAMS_KEY_ID, access_key_secret=CAMS_SECRET, qps=0
    ) as cams:
        root = Folder(tmp_path, [cams_account(cams.url, qps=100)]).write(
            templates=[
                template_spec("live-cams", f"note_{i}", "Order", phone=None)
                for i in range(TEMPLATES)
            ]
        )
        env = clean_env(CREDENTIAL_ENV)
        applied = wasync_process("apply", root, "--auto-approve", env=env)
        assert applied.exit_code == 0, applied
        gateway = gateways[0]
        gateway.n, before = 10, gateway.seen
        # --refresh-cache: every detail is read again (the apply's check cached them).
        result = wasync_process(
            "plan", root, "--detailed-exitcode", "--refresh-cache", env=env, setup=FAST_RETRIES
        )
        requests = gateway.seen - before
    assert result.exit_code == 0, result  # --detailed-exitcode: 0 is "no changes"
    assert result.stdout.startswith("No changes. The remote matches the specs."), result
    # One list call a page (one, unless the run caps pages below the client's 100) and one
    # detail call per template; each failed call cost one retry and nothing started over.
    pages = math.ceil(TEMPLATES / (common.page_cap_default or 100))
    failed = (before + requests) // 10 - before // 10
    assert failed >= 1
    assert requests == pages + TEMPLATES + failed


def test_an_import_retries_each_read_once_over(tmp_path: Path) -> None:
    # Import reads as refresh does: a call that keeps failing is tried as often as the retry
    # policy allows (3 times here), not that often again by a retry wrapped around the
    # provider's own (3 x 3).
    gateways: list[EveryNth] = []

    def wrap(app: ASGIApp) -> ASGIApp:
        gateways.append(EveryNth(app))
        return gateways[0]

    with served(
        "cams", wrap=wrap, access_key_id=CAMS_KEY_ID, access_key_secret=CAMS_SECRET, qps=0
    ) as cams:
        root = Folder(tmp_path, [cams_account(cams.url, qps=100)]).write()
        gateways[0].n = 1  # every request fails
        result = wasync_process(
            "import",
            root,
            "--account",
            "live-cams",
            "--phone",
            "8615800001111",
            env=clean_env(CREDENTIAL_ENV),
            setup=FAST_RETRIES,
        )
    assert result.exit_code == 1, result
    assert "ServiceUnavailable" in result.stderr, result
    assert gateways[0].seen == 3
