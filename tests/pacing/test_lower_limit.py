"""A provider whose limit is lower than the one it documents: the apply slows down and
finishes, with a few retries and no failure."""

from __future__ import annotations

from pathlib import Path

import pytest
from apply.support import Emulators, config_text, qr, session_for, write_specs

from wasync import manager
from wasync.apply.executor import Executor, Status
from wasync.sandbox import cams, nxcloud

pytestmark = pytest.mark.anyio
CREATE = "CreatePhoneMessageQrdl"


async def test_an_undocumented_lower_limit_costs_retries_not_a_failed_apply(
    tmp_path: Path,
) -> None:
    # CAMS documents 5 creates a second; this server allows 2 (its bucket holds 2).
    emus = Emulators(cams=cams.create_app(qps={CREATE: 2}), nx=nxcloud.create_app(qps=0))
    codes = [qr(i) for i in range(8)]
    config = config_text().replace("    qps: 200\n", "")  # the documented limits
    root = write_specs(tmp_path, qr_codes=codes, config=config)
    async with session_for(root, emus) as (loaded_config, specs, session):
        planned = await manager.make_plan(session, loaded_config, specs)
        report = await Executor(session, planned.settings).run(planned.plan, planned.remote)
        again = await manager.make_plan(session, loaded_config, specs)
        bucket = session.connection("shop-cams").gate.bucket(CREATE)
    assert len(report.having(Status.SUCCEEDED)) == 8 and not report.having(Status.FAILED)
    assert not again.plan.has_changes
    # Every refusal was reported to the bucket of that API, which slowed down for it.
    refused = emus.cams.state.rate_limit.refused_by[CREATE]
    assert bucket.throttles == refused
    assert sum(o.retries for o in report.outcomes) == refused
    if refused:
        assert bucket.rate() < bucket.ceiling
