"""What the apply tests run ``wasync`` against: emulators served over real sockets (in
threads, or as ``wasync sandbox serve`` child processes) and a wasync.yaml naming them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from wasync.sandbox.common import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET

from .support import SPACE, Emulators

# Credentials go through ${VAR}, as for a real account (names the test guard leaves alone).
KEY_ID_VAR, KEY_SECRET_VAR = "APPLY_TEST_KEY_ID", "APPLY_TEST_KEY_SECRET"


def accounts_at(cams_url: str, nx_url: str, *, qps: float = 200, extra: str = "") -> str:
    """wasync.yaml for two accounts at ``http://`` test servers, credentials from the
    environment."""
    common = f"""    qps: {qps}
    allow_insecure_http: true
{extra}"""
    return f"""\
accounts:
  shop-cams:
    provider: cams
    endpoint: {cams_url}
    cust_space_id: {SPACE}
    access_key_id: ${{{KEY_ID_VAR}}}
    access_key_secret: ${{{KEY_SECRET_VAR}}}
{common}
  shop-nx:
    provider: nxcloud
    endpoint: {nx_url}
    appkey: test-appkey
    access_key: ${{{KEY_ID_VAR}}}
    secret_key: ${{{KEY_SECRET_VAR}}}
{common}
"""


@dataclass
class Served:
    emus: Emulators
    cams_url: str
    nx_url: str

    def config(self, **options: object) -> str:
        return accounts_at(self.cams_url, self.nx_url, **options)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def sandbox_servers(state: Path, *options: str) -> Iterator[tuple[str, str]]:
    """``wasync sandbox serve`` for CAMS and for NXCloud, each in a child process with its
    state under ``state``; yields their URLs, stops them after."""
    procs: list[subprocess.Popen[bytes]] = []
    ports = []
    try:
        for provider in ("cams", "nxcloud"):
            port = free_port()
            command = [sys.executable, "-m", "wasync", "sandbox", "serve"]
            command += ["--provider", provider, "--port", str(port)]
            command += ["--state", str(state / provider), *options]
            procs.append(
                subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
            ports.append(port)
        deadline = time.monotonic() + 20
        for proc, port in zip(procs, ports, strict=True):
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError("`wasync sandbox serve` did not start") from None
                    time.sleep(0.05)
        yield f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env[KEY_ID_VAR] = DEFAULT_ACCESS_KEY_ID
    env[KEY_SECRET_VAR] = DEFAULT_ACCESS_KEY_SECRET
    env["PYTHONUNBUFFERED"] = "1"
    return env
