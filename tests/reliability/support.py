"""Helpers of the reliability tests: emulators on real sockets (with the credential headers
they receive recorded), small spec folders, and what a child process of ``wasync`` runs
first (``cli_runner.wasync_process``'s ``setup``)."""

from __future__ import annotations

import contextlib
import re
import resource
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cli_runner import Result
from starlette.types import ASGIApp, Receive, Scope, Send

from wasync.sandbox.common import serving

CAMS_PHONE = "8615800001111"
NX_PHONE = "8618500009999"

# Distinctive fake credentials: nothing else in any output can contain them by chance. The
# secrets hold characters that URL-encoding and JSON escaping change.
CAMS_KEY_ID = "LTAIscanKEYid4b7e2"
CAMS_SECRET = "scan/CAMS+secret=9f3e1"
NX_ACCESS_KEY = "scanNXaccessKEY5b22e"
NX_SECRET = "scan/NX+secret=91ac0"
CREDENTIAL_ENV = {
    "ALIBABA_CLOUD_ACCESS_KEY_ID": CAMS_KEY_ID,
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": CAMS_SECRET,
    "NXCLOUD_ACCESS_KEY": NX_ACCESS_KEY,
    "NXCLOUD_SECRET_KEY": NX_SECRET,
}


def bounded(cpu_seconds: int, memory_bytes: int) -> Callable[[], None]:
    """A ``preexec_fn`` that caps the child's CPU time and address space."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return limit


def assert_clean_failure(result: Result, *expected: str) -> None:
    """Exit 1, a message naming each of ``expected``, and no traceback."""
    assert result.exit_code == 1, result
    assert "Traceback" not in result.output, result
    assert "internal error" not in result.output, result
    for text in expected:
        assert text in result.output, (text, str(result))


class Recorder:
    """ASGI middleware that keeps every credential-bearing header value it sees."""

    HEADERS = (b"authorization", b"sign", b"accesskey")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.values: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name.lower() in self.HEADERS:
                    self.values.add(value.decode("latin-1"))
        await self.app(scope, receive, send)

    def signatures(self) -> set[str]:
        """The signatures themselves: NXCloud's sign, CAMS's ``Signature=`` part."""
        found: set[str] = set()
        for value in self.values:
            match = re.search(r"Signature=([0-9a-f]+)", value)
            if match:
                found.add(match.group(1))
            elif re.fullmatch(r"[0-9a-f]{32,}", value):
                found.add(value)
        return found


@dataclass
class Served:
    url: str
    app: Any
    recorder: Recorder


@contextlib.contextmanager
def served(
    provider: str, wrap: Callable[[ASGIApp], ASGIApp] | None = None, **options: Any
) -> Iterator[Served]:
    """``wasync.sandbox.<provider>.create_app(**options)`` on a loopback socket, behind
    ``wrap`` (a stand-in for a proxy) when given."""
    if provider == "cams":
        from wasync.sandbox.cams import create_app
    else:
        from wasync.sandbox.nxcloud import create_app
    app = create_app(**options)
    recorder = Recorder(wrap(app) if wrap else app)
    with serving(recorder) as url:
        yield Served(url, app, recorder)


def cams_account(url: str, name: str = "live-cams", **extra: Any) -> str:
    lines = [
        f"  {name}:",
        "    provider: cams",
        f"    endpoint: {url}",
        "    allow_insecure_http: true",
        "    cust_space_id: cams-scan",
        "    access_key_id: ${ALIBABA_CLOUD_ACCESS_KEY_ID}",
        "    access_key_secret: ${ALIBABA_CLOUD_ACCESS_KEY_SECRET}",
    ]
    lines += [f"    {k}: {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def nx_account(url: str, name: str = "live-nx", **extra: Any) -> str:
    lines = [
        f"  {name}:",
        "    provider: nxcloud",
        f"    endpoint: {url}",
        "    allow_insecure_http: true",
        "    appkey: scan-appkey",
        "    access_key: ${NXCLOUD_ACCESS_KEY}",
        "    secret_key: ${NXCLOUD_SECRET_KEY}",
    ]
    lines += [f"    {k}: {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def qr_spec(account: str, label: str, message: str, phone: str = CAMS_PHONE) -> str:
    return (
        f"  - account: {account}\n"
        f'    phone: "{phone}"\n'
        f"    label: {label}\n"
        f"    prefilled_message: {message}\n"
    )


def template_spec(account: str, name: str, text: str, phone: str | None = NX_PHONE) -> str:
    phone_line = f'    phone: "{phone}"\n' if phone else ""
    return (
        f"  - account: {account}\n"
        f"{phone_line}"
        f"    name: {name}\n"
        "    language: en_US\n"
        "    category: UTILITY\n"
        "    components:\n"
        "      - type: BODY\n"
        f'        text: "{text} {{{{1}}}} is on its way."\n'
        "        example: {body_text: [['12345']]}\n"
    )


@dataclass
class Folder:
    """A spec folder: wasync.yaml from account blocks, specs from list items."""

    root: Path
    accounts: list[str] = field(default_factory=list)

    def write(self, *, qr_codes: Sequence[str] = (), templates: Sequence[str] = ()) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "wasync.yaml").write_text("accounts:\n" + "".join(self.accounts))
        spec = ""
        if qr_codes:
            spec += "qr_codes:\n" + "".join(qr_codes)
        if templates:
            spec += "templates:\n" + "".join(templates)
        (self.root / "specs.yaml").write_text(spec or "templates: []\n")
        return self.root


# The default retry policy backs off for about a minute before it gives up on a call that
# keeps failing; tests of what the user finally sees shorten the waits, nothing else.
FAST_RETRIES = """
from wasync.pacing import retry
_init = retry.RetryPolicy.__init__
def _fast(self, *args, **kwargs):
    kwargs.update(attempts=3, initial=0.01, maximum=0.02, jitter=0.0)
    _init(self, *args, **kwargs)
retry.RetryPolicy.__init__ = _fast
"""


def crashing(message: str, command: str = "plan") -> str:
    """``setup`` for a child whose ``command`` does all of its work and then fails as a bug
    would, with ``message``: the crash path (report file, exit 3, redaction of the secrets
    the command loaded) in a real process."""
    return f"""
import importlib
command = importlib.import_module("wasync.commands.{command}")
run = command.run
def crash_after_run(*args, **kwargs):
    run(*args, **kwargs)
    raise RuntimeError({message!r})
command.run = crash_after_run
"""
