"""What an import found and did, for the command to report."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Skipped:
    """A remote resource left unmanaged, and why."""

    address: str
    reason: str


@dataclass(frozen=True)
class Differing:
    """A spec entry that differs from the remote: left as it is, or overwritten."""

    address: str
    file: str
    fields: tuple[str, ...]
    overwritten: bool = False
    reason: str | None = None  # why it could not be overwritten, when asked to


@dataclass(frozen=True)
class Note:
    """Something the user must do about an entry import wrote."""

    address: str
    message: str


@dataclass
class ImportResult:
    account: str
    provider: str
    qr_phones: tuple[str, ...]  # numbers whose QR codes were read
    template_phones: tuple[str, ...]  # numbers whose templates were read (phone scope)
    remote_qr_codes: int = 0
    remote_templates: int = 0
    added: dict[str, list[str]] = field(default_factory=dict)  # file -> addresses
    in_sync: int = 0
    differing: list[Differing] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # in the specs, not at the provider
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # planner warnings, unread phones
    # Spec QR entries that found their code by message (no pin, or a stale one), now
    # pinned to it: (address, file, code).
    pinned: list[tuple[str, str, str]] = field(default_factory=list)
    # ... and those whose file could not take the pin: (address, file, code, why).
    unpinned: list[tuple[str, str, str, str]] = field(default_factory=list)

    @property
    def written(self) -> int:
        return (
            sum(len(v) for v in self.added.values())
            + sum(1 for d in self.differing if d.overwritten)
            + len(self.pinned)
        )
