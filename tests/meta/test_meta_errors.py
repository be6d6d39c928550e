"""Graph's refusals as the client reads them: the class the executor acts on, Meta's own
words quoted, and what to do; the token never shown."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from wasync.errors import ErrorClass, ProtocolError, ProviderError
from wasync.log import redact
from wasync.providers.meta.client import MetaProvider
from wasync.sandbox.common import Fault, FaultConfig
from wasync.sandbox.meta import GraphError, MetaWorld, create_app

from .support import BASE_URL, PHONE, WABA, FakeClock, Recording, connect, make_template

pytestmark = pytest.mark.anyio


async def test_a_bad_token_is_fatal_names_the_permission_and_is_never_shown(
    app: Starlette, clock: FakeClock
) -> None:
    token = "EAAJB-not-the-right-token-0123456789"
    recording = Recording(app)
    async with connect(
        app, transport=recording, clock=clock, access_token=SecretStr(token)
    ) as provider:
        with pytest.raises(ProviderError) as info:
            await provider.list_templates([])
    error = info.value
    assert (error.code, error.error_class, error.http_status) == ("190", ErrorClass.FATAL, 400)
    text = str(error)
    assert "Invalid OAuth access token - Cannot parse access token" in text
    assert "whatsapp_business_management" in text and "new system user token" in text
    assert token not in text and redact(f"x{token}x") == "x***x"
    assert len(recording.requests) == 1  # no retry can help: none is made


async def test_a_missing_permission_is_fatal_and_names_it(
    provider: MetaProvider, world: MetaWorld
) -> None:
    world.fail_next(
        "message_templates.create",
        GraphError(200, "(#200) Requires whatsapp_business_management permission"),
    )
    with pytest.raises(ProviderError) as info:
        await provider.create_template(make_template())
    assert (info.value.code, info.value.error_class) == ("200", ErrorClass.FATAL)
    assert "give its system user the whatsapp_business_management permission" in str(info.value)
    assert f"full control of WABA {WABA}" in str(info.value)


async def test_metas_user_facing_words_are_quoted_with_the_trace_id(
    provider: MetaProvider,
) -> None:
    await provider.create_template(make_template())
    with pytest.raises(ProviderError) as info:
        await provider.create_template(make_template())
    text = str(info.value)
    assert info.value.code == "100/2388024"
    assert (
        "Content in This Language Already Exists: There is already en_US content for this "
        "template. You can create a new template and try again. (Invalid parameter)"
    ) in text
    assert info.value.request_id and f"(RequestId {info.value.request_id})" in text
    assert "a template with this name and language exists already" in text


async def test_the_hourly_budget_refusal_is_throttled_with_metas_wait(clock: FakeClock) -> None:
    app = create_app(clock=clock, hourly_requests=2)
    async with connect(app, clock=clock) as provider:
        await provider.list_templates([])
        clock.advance(600)
        await provider.list_templates([])
        with pytest.raises(ProviderError) as info:
            await provider.list_templates([])
    error = info.value
    assert (error.code, error.error_class) == ("80008", ErrorClass.THROTTLED)
    # X-Business-Use-Case-Usage: estimated_time_to_regain_access, in minutes, as the wait.
    assert error.retry_after == 50 * 60  # the first call leaves the hour in 50 minutes
    assert "too many calls to this WhatsApp Business account" in str(error)


@pytest.mark.parametrize("read", [True, False])
async def test_a_server_failure_is_retried_for_reads_and_read_back_for_writes(
    clock: FakeClock, read: bool
) -> None:
    app = create_app(clock=clock, faults=FaultConfig(fault_rate=1.0, kinds=(Fault.SERVER_ERROR,)))
    async with connect(app, clock=clock) as provider:
        with pytest.raises(ProviderError) as info:
            if read:
                await provider.list_templates([])
            else:
                await provider.create_template(make_template())
    assert (info.value.code, info.value.http_status) == ("2", 500)
    expected = ErrorClass.TRANSIENT if read else ErrorClass.UNKNOWN_OUTCOME
    assert info.value.error_class is expected
    assert app.state.world.templates(WABA) == []  # the fault answers without acting


async def test_the_throttle_fault_is_code_4_and_throttled(clock: FakeClock) -> None:
    app = create_app(clock=clock, faults=FaultConfig(fault_rate=1.0, kinds=(Fault.THROTTLE,)))
    async with connect(app, clock=clock) as provider:
        with pytest.raises(ProviderError) as info:
            await provider.list_qr_codes(PHONE)
    assert (info.value.code, info.value.error_class) == ("4", ErrorClass.THROTTLED)


async def test_a_reply_that_is_not_graphs_shape_is_a_protocol_error(clock: FakeClock) -> None:
    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>captive portal</html>")

    transport = httpx.MockTransport(html)
    async with connect(create_app(clock=clock), transport=transport, clock=clock) as provider:
        with pytest.raises(ProtocolError) as info:
            await provider.list_templates([])
    assert "the reply is not a JSON object" in str(info.value)


async def test_a_proxy_page_with_an_error_status_points_at_the_endpoint(clock: FakeClock) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(404, text="Not Found"))
    async with connect(
        create_app(clock=clock), transport=transport, clock=clock, base_url=BASE_URL + "/x"
    ) as provider:
        with pytest.raises(ProviderError) as info:
            await provider.list_templates([])
    assert info.value.error_class is ErrorClass.FATAL
    assert "it does not look like Meta's Graph API" in str(info.value)
