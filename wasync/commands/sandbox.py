"""`wasync sandbox serve` and `wasync sandbox reset`."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
import uvicorn

from wasync.errors import ConfigError
from wasync.providers import registry
from wasync.providers.plugin import EmulatorOptions, ProviderPlugin
from wasync.sandbox.common import DropConnections, FaultConfig, defer_writes
from wasync.sandbox.embedded import SANDBOX_REVIEW_SECONDS

BACKLOG = 2048  # uvicorn's own default


def serve(
    *,
    provider: str,
    host: str,
    port: int,
    state: Path | None,
    qps: float | None,
    latency_ms: float,
    fault_rate: float,
    access_key_id: str | None = None,
    access_key_secret: str | None = None,
    credentials: tuple[str, ...] = (),
    page_cap: int | None = None,
) -> int:
    """Serve ``provider``'s emulator (its plugin's ``emulator``) until interrupted.

    The credentials it accepts are the plugin's sandbox values, unless given: by field
    with ``credentials`` (``FIELD=VALUE``, any provider), or, for a provider whose two
    credentials are an id and a secret (CAMS, NXCloud), with ``access_key_id`` and
    ``access_key_secret`` in the order its plugin lists them."""
    plugin = registry.get(provider)
    if plugin.emulator is None:
        raise ConfigError(f"{plugin.display_name} has no emulator to serve")
    fields = list(plugin.credentials)
    given: dict[str, str] = {}
    how: dict[str, str] = {}  # field -> the option that gave it, to say so instead of it
    pair = (("--access-key-id", access_key_id), ("--access-key-secret", access_key_secret))
    for (flag, value), field in zip(pair, fields, strict=False):
        if value is not None:
            given[field], how[field] = value, flag
    if len(fields) != 2 and any(v is not None for _, v in pair):
        raise ConfigError(
            f"{plugin.display_name} has no access key pair; give its credential with "
            f"--credential {fields[0] if fields else 'FIELD'}=VALUE"
            + (f" (its credentials: {', '.join(fields)})" if fields else "")
        )
    for item in credentials:
        field, sep, value = item.partition("=")
        if not sep or field not in plugin.credentials or not value:
            allowed = ", ".join(fields) or "none"
            raise ConfigError(
                f"--credential {field or item!r}: write it as FIELD=VALUE, with FIELD one of "
                f"{plugin.display_name}'s credentials: {allowed}"
            )
        given[field], how[field] = value, f"--credential {field}"
    accepted = {name: given.get(name, c.sandbox) for name, c in plugin.credentials.items()}
    faults = FaultConfig(latency_ms=latency_ms, fault_rate=fault_rate)
    app = plugin.emulator(served_options(accepted, state, faults, qps, page_cap))
    # Bind first: a port that is taken is an error before anything claims to be serving.
    sock = _listen(host, port)
    bound = sock.getsockname()[1]  # --port 0 asks for any free port
    click.echo(
        f"wasync sandbox: {provider} emulator on http://{_url_host(host)}:{bound}\n"
        + _keys(plugin, accepted, how)
        + f"  state: {state or 'in memory'}; qps: {qps or 'documented, per API'}; "
        f"latency: {latency_ms:g} ms; fault rate: {fault_rate:g}; "
        f"templates pass review after {SANDBOX_REVIEW_SECONDS:g} s"
        + (f"; page cap: {page_cap}" if page_cap else "")
        + "\n"
        "Press Ctrl-C to stop.",
        err=True,
    )
    defer_writes(app)  # written a moment after changes, and when the server stops
    server = uvicorn.Server(uvicorn.Config(DropConnections(app), log_level="warning"))
    server.run(sockets=[sock])
    return 0


def served_options(
    credentials: Mapping[str, str],
    state: Path | None,
    faults: FaultConfig,
    qps: float | None,
    page_cap: int | None,
) -> EmulatorOptions:
    """How ``serve`` runs an emulator: as the embedded sandbox does, templates pass review
    ``SANDBOX_REVIEW_SECONDS`` after they are submitted, so that edits can be rehearsed
    (without it they would stay under review, and edits blocked, for ever)."""
    return EmulatorOptions(
        credentials=credentials,
        state_dir=state,
        faults=faults,
        approve_after=SANDBOX_REVIEW_SECONDS,
        qps=qps,
        page_cap=page_cap,
    )


def _keys(
    plugin: ProviderPlugin[Any], credentials: Mapping[str, str], how: Mapping[str, str]
) -> str:
    """The banner's lines for the credentials the emulator accepts, each named as
    wasync.yaml names it for this provider (``access_key_id``, ``secret_key``,
    ``access_token``). The published fake values are shown so people can copy them; values
    given on the command line may be real ones someone reused, and the person who typed them
    knows them: ``how`` names the option that gave each."""
    lines = []
    for name, value in credentials.items():
        given = value != plugin.credentials[name].sandbox
        shown = f"(as given with {how.get(name, 'an option')})" if given else value
        lines.append(f"  {name + ':':<19}{shown}\n")
    return "".join(lines)


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port``, or ``ConfigError`` saying why it cannot be."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise ConfigError(
            f"cannot serve on {host}: {exc.strerror}; give --host an address of this "
            "machine, e.g. 127.0.0.1"
        ) from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # not past a live listener
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {host} is already in use (another wasync sandbox serve, or "
                "another server); stop it, or pick a free port with --port"
            ) from None
        raise ConfigError(
            f"cannot serve on {host}:{port}: {exc.strerror or exc}; pick another --host or "
            "--port (ports below 1024 need extra privileges)"
        ) from None
    sock.listen(BACKLOG)  # from here on a client's connection waits for the server
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def reset(directory: Path) -> int:
    """Forget what the embedded sandbox accounts of ``directory`` hold.

    Refused while an apply runs on the folder: that apply's emulator keeps its state in
    memory and writes it back after each call, so a reset under it would be undone, in
    part, by its next call, and leave a mixed state behind.
    """
    from wasync.apply.lock import ApplyLock
    from wasync.config import CONFIG_FILE
    from wasync.sandbox.embedded import SANDBOX_DIR, reset_sandbox

    folder = directory / SANDBOX_DIR
    if folder.is_symlink():
        return _reset_link(directory, folder)
    if not folder.exists():
        hint = (
            ""
            if (directory / CONFIG_FILE).is_file()
            else f"; {directory} has no {CONFIG_FILE}: give the spec folder, "
            "e.g. wasync sandbox reset specs"
        )
        click.echo(f"Nothing to clear: there is no sandbox state in {folder}{hint}")
        return 0
    with ApplyLock(directory):
        cleared = reset_sandbox(directory)
    if cleared:
        click.echo(
            f"Cleared the sandbox state of {', '.join(cleared)} ({folder}).\n"
            "Those accounts are empty now; the next plan would create everything again."
        )
    else:
        click.echo(f"Nothing to clear: {folder} held no account state; removed it.")
    return 0


def _reset_link(directory: Path, folder: Path) -> int:
    """``.wasync/sandbox`` is a symbolic link: remove the link, never what it points to
    (it may be shared, or anything at all); the accounts start empty behind a new folder."""
    from wasync.apply.lock import ApplyLock

    target = os.readlink(folder)
    with ApplyLock(directory):
        try:
            folder.unlink()
        except OSError as exc:
            raise ConfigError(
                f"cannot remove {folder} (a link to {target}): {exc.strerror or exc}; "
                "remove it by hand"
            ) from None
    click.echo(
        f"Removed {folder}, a link to {target}; what it points to was left as it is "
        "(delete it yourself if nothing else uses it).\n"
        "The sandbox accounts are empty now; the next plan would create everything again."
    )
    return 0
