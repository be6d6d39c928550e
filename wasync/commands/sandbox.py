"""`wasync sandbox serve` and `wasync sandbox reset`."""

from __future__ import annotations

from pathlib import Path

import click
import uvicorn

from wasync.errors import ConfigError
from wasync.providers import registry
from wasync.providers.plugin import EmulatorOptions
from wasync.sandbox.common import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    DropConnections,
    FaultConfig,
)


def serve(
    *,
    provider: str,
    host: str,
    port: int,
    state: Path | None,
    qps: float | None,
    latency_ms: float,
    fault_rate: float,
    access_key_id: str,
    access_key_secret: str,
    page_cap: int | None = None,
) -> int:
    """Serve ``provider``'s emulator (its plugin's ``emulator``) until interrupted.

    ``access_key_id`` and ``access_key_secret`` are the provider's credentials in the order
    its plugin lists them (an id, then a secret)."""
    plugin = registry.get(provider)
    if plugin.emulator is None:
        raise ConfigError(f"{plugin.display_name} has no emulator to serve")
    given = dict(zip(plugin.credentials, (access_key_id, access_key_secret), strict=False))
    credentials = {name: given.get(name, c.sandbox) for name, c in plugin.credentials.items()}
    faults = FaultConfig(latency_ms=latency_ms, fault_rate=fault_rate)
    app = plugin.emulator(
        EmulatorOptions(
            credentials=credentials, state_dir=state, faults=faults, qps=qps, page_cap=page_cap
        )
    )
    # The published fake keys are shown so people can copy them; keys given on the command
    # line may be real ones someone reused, and the person who typed them knows them.
    shown_id = (
        access_key_id
        if access_key_id == DEFAULT_ACCESS_KEY_ID
        else "(as given with --access-key-id)"
    )
    shown_secret = (
        access_key_secret
        if access_key_secret == DEFAULT_ACCESS_KEY_SECRET
        else "(as given with --access-key-secret)"
    )
    click.echo(
        f"wasync sandbox: {provider} emulator on http://{host}:{port}\n"
        f"  access key id:     {shown_id}\n"
        f"  access key secret: {shown_secret}\n"
        f"  state: {state or 'in memory'}; qps: {qps or 'documented, per API'}; "
        f"latency: {latency_ms:g} ms; fault rate: {fault_rate:g}"
        + (f"; page cap: {page_cap}" if page_cap else "")
        + "\n"
        "Press Ctrl-C to stop.",
        err=True,
    )
    uvicorn.run(DropConnections(app), host=host, port=port, log_level="warning")
    return 0


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
