"""The documented samples (``samples/index.json``) and what the contract tests need of them:
a stand-in server that answers with a sample's bytes as printed (no emulator), and the
shape of a JSON value (its keys and types) to compare an emulator's reply with."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

SAMPLES = Path(__file__).parent / "samples"


@dataclass(frozen=True)
class Sample:
    file: str
    provider: str
    api: str
    kind: str
    source: str
    verbatim: bool
    status: int | None = None
    note: str = ""
    optional: tuple[str, ...] = ()

    @property
    def raw(self) -> bytes:
        """The sample as stored: the example's bytes, where it is verbatim."""
        return (SAMPLES / self.file).read_bytes()

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


def samples() -> list[Sample]:
    index = json.loads((SAMPLES / "index.json").read_text(encoding="utf-8"))
    return [
        Sample(**{**entry, "optional": tuple(entry.get("optional", ()))})
        for entry in index["samples"]
    ]


def sample(file: str) -> Sample:
    (found,) = [s for s in samples() if s.file == file]
    return found


Reply = tuple[int, bytes]


@dataclass
class Served:
    """A stand-in server (``httpx.MockTransport``): each request is answered by the reply
    ``route`` picks for it, byte for byte; every request is kept."""

    route: Callable[[httpx.Request], Reply]
    requests: list[httpx.Request] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            status, body = self.route(request)
            return httpx.Response(
                status, content=body, headers={"content-type": "application/json;charset=utf-8"}
            )

        return httpx.MockTransport(handle)


def by_cams_action(replies: Mapping[str, Reply]) -> Callable[[httpx.Request], Reply]:
    return lambda request: replies[request.headers["x-acs-action"]]


def shape(value: Any, optional: frozenset[str] = frozenset()) -> Any:
    """The keys and JSON types of ``value``, recursively: what two replies must share.
    Keys in ``optional`` are left out (documented as present only sometimes). A list's
    shape is the shape of its items (all alike); an empty list says nothing of them."""
    if isinstance(value, dict):
        return {k: shape(v, optional) for k, v in value.items() if k not in optional}
    if isinstance(value, list):
        items = [shape(v, optional) for v in value]
        return ["list", items[0]] if items else ["list"]
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__
