"""``endpoint: sandbox``: the provider's emulator, in this process, behind the real client.

Requests go through the real client, its signing and httpx, into the emulator over an
in-process ASGI transport (``common.InProcessTransport``); state lives in
``.wasync/sandbox/<account>/`` next to wasync.yaml, so plan, apply, plan works on a fresh
clone with no account and no environment variable. The session builds each account's
emulator through its provider's plugin; what is here is the same for every provider.
"""

from __future__ import annotations

import shutil
from pathlib import Path

SANDBOX_DIR = Path(".wasync") / "sandbox"
SANDBOX_BASE_URL = "https://sandbox.wasync.invalid"  # never resolved: the transport serves it
# Templates in the sandbox pass review this many seconds after submission, so the review
# lifecycle (and the edits it blocks) shows up without waiting for a human.
SANDBOX_REVIEW_SECONDS = 10.0


def sandbox_state_dir(root: Path, account: str) -> Path:
    return root / SANDBOX_DIR / account


def reset_sandbox(root: Path) -> list[str]:
    """Delete the embedded sandbox state under ``root``; returns the accounts cleared."""
    folder = root / SANDBOX_DIR
    if not folder.is_dir():
        return []
    cleared = sorted(p.name for p in folder.iterdir() if p.is_dir())
    shutil.rmtree(folder)
    return cleared
