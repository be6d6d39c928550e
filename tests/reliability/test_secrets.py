"""No secret in any output, log, error, plan file, state file or crash report.

The whole CLI runs in real processes against emulators on loopback sockets that know only
distinctive fake keys (given to wasync through ``${VAR}`` in wasync.yaml, as real ones
would be): validate, schema, plan in every format and with --out, apply and apply --plan,
--debug everywhere, sandbox serve, and the error paths (wrong keys, missing and misplaced
variables, a provider that echoes the credentials back, a crash). Then every captured
stream and every file written is searched for the keys in every form a request could carry
them (as is, URL-encoded, JSON-escaped) and for every signature the emulators received.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from cli_runner import Result, clean_env, wasync_process
from starlette.types import ASGIApp

from wasync.log import redact, register_secret

from .support import (
    CAMS_KEY_ID,
    CAMS_SECRET,
    CREDENTIAL_ENV,
    FAST_RETRIES,
    NX_ACCESS_KEY,
    NX_PHONE,
    NX_SECRET,
    Folder,
    Served,
    cams_account,
    crashing,
    nx_account,
    qr_spec,
    served,
    template_spec,
)

SANDBOX_KEY_ID = "scanSANDBOXkeyID3c9d1"
SANDBOX_SECRET = "scan/SANDBOX+secret=e07b4"
SERVE_KEY_ID = "scanSERVEkeyID8a2f6"
SERVE_SECRET = "scan/SERVE+secret=41d7c"
WRONG_SECRET = "scan/WRONG+secret=0d3b8"
SECRETS = (
    CAMS_KEY_ID,
    CAMS_SECRET,
    NX_ACCESS_KEY,
    NX_SECRET,
    SANDBOX_KEY_ID,
    SANDBOX_SECRET,
    SERVE_KEY_ID,
    SERVE_SECRET,
    WRONG_SECRET,
)
ENV = {
    **CREDENTIAL_ENV,
    "SANDBOX_KEY_ID": SANDBOX_KEY_ID,
    "SANDBOX_SECRET": SANDBOX_SECRET,
    "SERVE_KEY_ID": SERVE_KEY_ID,
    "SERVE_SECRET": SERVE_SECRET,
}
SANDBOX_ACCOUNT = """\
  sandbox-cams:
    provider: cams
    endpoint: sandbox
    access_key_id: ${SANDBOX_KEY_ID}
    access_key_secret: ${SANDBOX_SECRET}
"""


def forms(secret: str) -> set[str]:
    return {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
    }


def echoing(app: ASGIApp) -> ASGIApp:
    """A broken proxy in front of CAMS: refuses every call, quoting the credentials."""

    async def proxy(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        headers = dict(scope["headers"])
        body = json.dumps(
            {
                "Code": "Forbidden.Proxy",
                "Message": f"denied: {headers.get(b'authorization', b'').decode()} "
                f"key {CAMS_KEY_ID} secret {CAMS_SECRET} ({quote(CAMS_SECRET, safe='')})",
                "RequestId": "PROXY-REQUEST-1",
            }
        ).encode()
        await send(  # type: ignore[operator]
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})  # type: ignore[operator]

    return proxy  # type: ignore[return-value]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("wasync sandbox serve did not start listening")


class Scan:
    """Runs commands and keeps everything they printed."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env
        self.results: list[Result] = []

    def run(
        self,
        *args: str | Path,
        env: dict[str, str] | None = None,
        fast: bool = False,
        crash: str = "",
    ) -> Result:
        """``wasync ARGS``; ``fast``: with retries that wait milliseconds (a reply that
        keeps failing is otherwise retried for about a minute); ``crash``: the command then
        fails as a bug would, with this message."""
        setup = (FAST_RETRIES if fast else "") + (crashing(crash) if crash else "")
        result = wasync_process(*args, cwd=self.root, env=env or self.env, setup=setup)
        assert crash or "Traceback" not in result.stderr, result
        self.results.append(result)
        return result


@pytest.mark.slow
def test_no_secret_reaches_any_output_log_or_file(tmp_path: Path, cams: Served, nx: Served) -> None:
    crash_dir = tmp_path / "tmp"
    crash_dir.mkdir()
    env = clean_env({**ENV, "TMPDIR": str(crash_dir)})
    root = tmp_path / "specs"
    folder = Folder(root, [cams_account(cams.url), nx_account(nx.url), SANDBOX_ACCOUNT])
    qrs = [
        qr_spec("live-cams", "poster", "Hello from the poster"),
        qr_spec("live-cams", "counter", "Hello from the counter"),
        qr_spec("sandbox-cams", "store", "Hello from the store"),
    ]
    templates = [
        template_spec("live-nx", "order_note", "Order"),
        template_spec("live-nx", "old_note", "Parcel"),
        template_spec("live-cams", "cams_note", "Order", phone=None),
    ]
    folder.write(qr_codes=qrs, templates=templates)
    scan = Scan(root, env)

    # --- every command, on the happy path, with and without --debug ------------------------
    assert scan.run("validate").exit_code == 0
    assert scan.run("schema").exit_code == 0
    for fmt in ("text", "markdown", "json"):
        assert scan.run("plan", "--format", fmt).exit_code == 0
    debug_plan = scan.run("--debug", "plan", "--out", "plan.json", "--detailed-exitcode")
    assert debug_plan.exit_code == 2, debug_plan
    applied = scan.run("--debug", "apply", "--plan", "plan.json", "--auto-approve")
    assert applied.exit_code == 0, applied
    # Update a QR code and a template, delete a template (prune): every kind of call.
    qrs[0] = qr_spec("live-cams", "poster", "Hello again from the poster")
    folder.write(qr_codes=qrs, templates=templates[:1] + templates[2:])
    updated = scan.run("--debug", "apply", "--auto-approve", "--prune")
    assert updated.exit_code == 0, updated
    assert scan.run("--debug", "plan", "--format", "json", "--prune").exit_code == 0
    scan.run("import", "--account", "live-cams")

    # --- the error paths ----------------------------------------------------------------------
    wrong = clean_env({**ENV, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": WRONG_SECRET})
    wrong["NXCLOUD_SECRET_KEY"] = WRONG_SECRET
    refused = scan.run("--debug", "plan", env=wrong)
    assert refused.exit_code == 1, refused
    assert "SignatureDoesNotMatch" in refused.stderr or "1003: signature" in refused.stderr
    missing = clean_env({k: v for k, v in ENV.items() if k != "NXCLOUD_SECRET_KEY"})
    assert "NXCLOUD_SECRET_KEY is not set" in scan.run("plan", env=missing).stderr
    crashed = scan.run("--debug", "plan", crash=f"state holds {NX_SECRET}")
    assert crashed.exit_code == 3, crashed
    # Last use of this emulator: it keeps failing from here on.
    nx.app.state.emulator.fail_next(
        "getTemplate",
        http_status=502,
        raw=f"<html>bad gateway for accessKey={NX_ACCESS_KEY} secret={NX_SECRET}</html>".encode(),
        times=20,
    )
    echoed = scan.run("--debug", "plan", fast=True)
    assert echoed.exit_code == 1 and "nxcloud getTemplate failed: HTTP 502" in echoed.stderr
    assert "accessKey=*** secret=***" in echoed.stderr, echoed

    # Credentials in the wrong places of wasync.yaml: the errors show ${VAR}, not the value.
    misplaced = tmp_path / "misplaced"
    Folder(
        misplaced,
        [
            "  bad:\n    provider: ${NXCLOUD_SECRET_KEY}\n    endpoint: sandbox\n",
            cams_account(cams.url, name="odd", qps="${ALIBABA_CLOUD_ACCESS_KEY_SECRET}"),
            "  worse:\n    provider: cams\n    endpoint: ${NXCLOUD_ACCESS_KEY}\n",
        ],
    ).write()
    for command in ("validate", "plan"):
        result = scan.run(command, misplaced)
        assert result.exit_code == 1, result
        assert '"${NXCLOUD_SECRET_KEY}" is not a provider' in result.stderr, result

    # A proxy that echoes the request's credentials in its refusal.
    with served(
        "cams", wrap=echoing, access_key_id=CAMS_KEY_ID, access_key_secret=CAMS_SECRET
    ) as proxy:
        proxied = tmp_path / "proxied"
        Folder(proxied, [cams_account(proxy.url)]).write(qr_codes=qrs[:1])
        result = scan.run("--debug", "plan", proxied)
        assert result.exit_code == 1 and "Forbidden.Proxy" in result.stderr, result
        assert "RequestId PROXY-REQUEST-1" in result.stderr, result

    # --- sandbox serve with keys of its own, and a plan against it ----------------------------
    port = free_port()
    serve = subprocess.Popen(
        [
            *(sys.executable, "-m", "wasync", "--debug", "sandbox", "serve"),
            *("--provider", "nxcloud", "--port", str(port)),
            *("--access-key-id", SERVE_KEY_ID, "--access-key-secret", SERVE_SECRET),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(port, serve)
        against = tmp_path / "against-serve"
        account = nx_account(f"http://127.0.0.1:{port}", name="served-nx")
        account = account.replace("NXCLOUD_ACCESS_KEY", "SERVE_KEY_ID")
        account = account.replace("NXCLOUD_SECRET_KEY", "SERVE_SECRET")
        Folder(against, [account]).write(templates=[template_spec("served-nx", "note", "Hi")])
        result = scan.run("--debug", "apply", against, "--auto-approve")
        assert result.exit_code == 0, result
    finally:
        serve.send_signal(signal.SIGINT)
        out, err = serve.communicate(timeout=20)
    scan.results.append(Result(["sandbox", "serve"], serve.returncode or 0, out, err))
    assert "(as given with --access-key-secret)" in err

    # --- the search -----------------------------------------------------------------------
    signatures = cams.recorder.signatures() | nx.recorder.signatures()
    assert len(signatures) > 20  # the scan searched for something real
    needles = {form for secret in SECRETS for form in forms(secret)} | signatures
    written = [
        p
        for base in (tmp_path, crash_dir)
        for p in base.rglob("*")
        if p.is_file() and p.suffix not in (".pem",)
    ]
    assert (root / "plan.json").is_file()
    assert (root / ".wasync" / "sandbox" / "sandbox-cams").is_dir()
    assert any(p.name.startswith("wasync-crash-") for p in written)
    http_lines = sum(r.stderr.count("wasync.http: ") for r in scan.results)
    assert http_lines > 40

    leaks = []
    for result in scan.results:
        for stream, text in (("stdout", result.stdout), ("stderr", result.stderr)):
            leaks += [
                (f"wasync {' '.join(result.args)} ({stream})", n) for n in needles if n in text
            ]
    for path in written:
        text = path.read_bytes().decode("utf-8", "replace")
        leaks += [(str(path.relative_to(tmp_path)), n) for n in needles if n in text]
    assert not leaks, leaks


def test_redact_covers_the_forms_a_secret_travels_in() -> None:
    secret = "unit/test+secret=value ü"
    register_secret(secret)
    for form in forms(secret) | {json.dumps(secret, ensure_ascii=False)[1:-1]}:
        assert redact(f"before {form} after") == "before *** after", form


def test_a_debug_trace_line_per_call_names_method_url_status_and_time(
    tmp_path: Path, cams: Served, nx: Served
) -> None:
    root = Folder(tmp_path, [cams_account(cams.url), nx_account(nx.url)]).write(
        qr_codes=[qr_spec("live-cams", "p", "Hi")],
        templates=[template_spec("live-nx", "note", "Order")],
    )
    result = wasync_process("--debug", "plan", root, env=clean_env(CREDENTIAL_ENV))
    assert result.exit_code == 0, result
    lines = [line for line in result.stderr.splitlines() if " wasync.http: " in line]
    cams_lines = [line for line in lines if " cams live-cams " in line]
    nx_lines = [line for line in lines if " nxcloud live-nx " in line]
    assert len(cams_lines) == 2 and len(nx_lines) == 1, lines  # QR list, template list; getTemplate
    assert sum(cams.app.state.emulator.calls.values()) == 2
    assert (
        f"cams live-cams ListPhoneMessageQrdl: POST {cams.url}/ -> HTTP 200 Code=OK RequestId="
        in cams_lines[0] + cams_lines[1]
    )
    assert (
        f"nxcloud live-nx getTemplate: POST {nx.url}/api/wa/getTemplate -> HTTP 200 code=0"
        in (nx_lines[0])
    )
    for line in lines:
        assert " ms; headers: " in line
        assert "authorization=***" in line or "sign=***" in line
        assert NX_PHONE not in line  # the body is not traced


@pytest.mark.anyio
async def test_a_provider_error_never_carries_a_secret_even_outside_the_cli() -> None:
    import httpx
    from pydantic import SecretStr

    from wasync.errors import ProviderError
    from wasync.providers.nxcloud.account import NxcloudAccount
    from wasync.providers.nxcloud.client import NxcloudProvider
    from wasync.sandbox.common import InProcessTransport
    from wasync.sandbox.nxcloud import create_app

    key, secret = "lib-access-key-7f1e", "lib/secret+value=2c9a"
    app = create_app(access_key_id=key, access_key_secret=secret, qps=0)
    app.state.emulator.fail_next(
        "getTemplate", http_status=502, raw=f"echo {key} {quote(secret, safe='')}".encode()
    )
    account = NxcloudAccount(
        name="lib",
        provider="nxcloud",
        appkey="app",
        access_key=SecretStr(key),
        secret_key=SecretStr(secret),
    )
    http = httpx.AsyncClient(base_url="https://nx.invalid", transport=InProcessTransport(app))
    provider = NxcloudProvider(account, http=http)
    try:
        with pytest.raises(ProviderError) as caught:
            await provider.list_templates([NX_PHONE])
    finally:
        await provider.aclose()
    assert "echo *** ***" in str(caught.value)
    assert key not in str(caught.value) and secret not in repr(caught.value)
