"""Conventions of Meta's Graph API that a provider passing it through keeps: the error
object of a refusal and cursor paging."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from wasync.providers.whatsapp import MalformedError


@dataclass(frozen=True)
class GraphError:
    """Graph's error object: ``{"error": {"message", "code", "error_subcode",
    "error_user_title", "error_user_msg", "fbtrace_id", ...}}`` of a refusal."""

    code: Any
    subcode: Any
    text: str | None  # what to show: the user-facing title and message where Meta gives them
    trace_id: str | None  # fbtrace_id: what Meta's support asks for

    @classmethod
    def read(cls, raw: Any) -> GraphError | None:
        """The error object ``raw`` (the value of ``error``); None when it is not one."""
        if not isinstance(raw, Mapping):
            return None
        text = raw.get("error_user_msg") or raw.get("message")
        title = raw.get("error_user_title")
        shown = None
        if isinstance(text, str) and text:
            shown = f"{title}: {text}" if isinstance(title, str) and title else text
        trace = raw.get("fbtrace_id")
        return cls(
            code=raw.get("code"),
            subcode=raw.get("error_subcode"),
            text=shown,
            trace_id=trace if isinstance(trace, str) else None,
        )

    @property
    def code_path(self) -> str:
        """``code`` or ``code/subcode`` (template errors are 100 with a 2388xxx subcode)."""
        return f"{self.code}" if self.subcode is None else f"{self.code}/{self.subcode}"


async def cursor_listing(fetch: Callable[[str | None], Awaitable[Mapping[str, Any]]]) -> list[Any]:
    """Every item of a cursor-paged listing. ``fetch(after)`` returns one page
    (``{"data": [...], "paging": {"cursors": {"after": ...}, "next": ...}}``), the first for
    ``after=None``; a page without ``paging.next`` is the last. A page may hold fewer items
    than asked for without being the last. A cursor that comes back is a server going round
    in circles: MalformedError, rather than a listing that never ends."""
    items: list[Any] = []
    after: str | None = None
    seen: set[str] = set()
    while True:
        page = await fetch(after)
        data = page.get("data")
        if not isinstance(data, list):
            raise MalformedError("the page has no data list")
        items += data
        paging = page.get("paging")
        if not isinstance(paging, Mapping) or not paging.get("next"):
            return items
        cursors = paging.get("cursors")
        after = cursors.get("after") if isinstance(cursors, Mapping) else None
        if not isinstance(after, str) or not after:
            raise MalformedError("paging.next is set but there is no after cursor")
        if after in seen:
            raise MalformedError(f"the after cursor {after!r} came back twice")
        seen.add(after)
