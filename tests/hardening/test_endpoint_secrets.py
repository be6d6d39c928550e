"""No secret from wasync.yaml reaches any output, log or file, whatever goes wrong.

Every credential field of every provider (from the registry, so a new provider's are
covered too) holds a distinctive secret read through ``${VAR}``; ``validate``, ``plan``
(also ``--out``) and ``apply`` run with ``--debug`` against an endpoint that refuses the
connection, a host that does not exist, emulators that refuse the keys, and emulators that
take them. Then stdout, stderr and every file under the folder are searched for each
secret as is, URL-encoded and JSON-escaped.

An endpoint is only ``https://host[:port]``: a user name or password, a path, a query or a
fragment in it is refused when wasync.yaml is read, with the file, line and field, and
without quoting the URL (it may hold an expanded ``${VAR}``).

The CLI runs in this process (``cli_runner.wasync``); the emulators are served on loopback
sockets by threads.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from cli_runner import Result, wasync

from wasync import log
from wasync.providers import registry
from wasync.sandbox import cams, meta, nxcloud
from wasync.sandbox.common import serving

CAMS_PHONE = "8615800001111"
NX_PHONE = "8618500009999"
META_PHONE = "15550101111"
WABA = "100200300400500"
PROVIDERS = ("cams", "nxcloud", "meta")


def secret_for(provider: str, field: str) -> str:
    # Characters that URL-encoding and JSON escaping change, so every form is searched.
    return f'Hrdn-{provider}-{field}/k+y=7Q"x'


def variable(provider: str, field: str) -> str:
    return f"HARDEN_{provider}_{field}".upper()


SECRETS = {variable(p, f): secret_for(p, f) for p in PROVIDERS for f in registry.get(p).credentials}


def forms(secret: str) -> set[str]:
    return {
        secret,
        quote(secret, safe=""),
        quote(secret, safe="/"),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
    }


def credentials(provider: str) -> str:
    return "".join(
        f"    {field}: ${{{variable(provider, field)}}}\n"
        for field in registry.get(provider).credentials
    )


def config(urls: dict[str, str], extra: str = "") -> str:
    common = f"    allow_insecure_http: true\n{extra}"
    return (
        "accounts:\n"
        f"  live-cams:\n    provider: cams\n    endpoint: {urls['cams']}\n"
        f"    cust_space_id: cams-harden\n{credentials('cams')}{common}"
        f"  live-nx:\n    provider: nxcloud\n    endpoint: {urls['nxcloud']}\n"
        f"    appkey: harden-appkey\n{credentials('nxcloud')}{common}"
        f"  live-meta:\n    provider: meta\n    endpoint: {urls['meta']}\n"
        f'    waba_id: "{WABA}"\n{credentials("meta")}{common}'
    )


SPECS = f"""\
qr_codes:
  - account: live-cams
    phone: "{CAMS_PHONE}"
    label: poster
    prefilled_message: Hello from the poster
templates:
  - account: live-nx
    phone: "{NX_PHONE}"
    name: order_shipped
    language: en_US
    category: UTILITY
    components:
      - type: BODY
        text: "Your order {{{{1}}}} has shipped."
        example: {{body_text: [["12345"]]}}
  - account: live-meta
    name: order_shipped
    language: en_US
    category: UTILITY
    components:
      - type: BODY
        text: "Your order {{{{1}}}} has shipped."
        example: {{body_text: [["12345"]]}}
"""


@pytest.fixture(autouse=True)
def _secrets_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


def run(folder: Path, *args: str) -> Result:
    """``wasync --debug ARGS`` in this process, its debug log going to this run's stderr
    (the handler is made afresh: an earlier run's would write to a stream now closed)."""
    logger = logging.getLogger("wasync")
    for handler in [h for h in logger.handlers if h is log._debug_handler]:
        logger.removeHandler(handler)
    log._debug_handler = None
    try:
        return wasync("--debug", *args, folder)
    finally:
        if log._debug_handler is not None:
            logger.removeHandler(log._debug_handler)
            log._debug_handler = None
        logger.setLevel(logging.NOTSET)


def assert_no_secret(folder: Path, results: list[Result]) -> None:
    texts = {f"{' '.join(r.args)}": r.output for r in results}
    for path in folder.rglob("*"):
        if path.is_file():
            texts[str(path)] = path.read_text("utf-8", "replace")
    for secret in SECRETS.values():
        for form in forms(secret):
            leaks = [where for where, text in texts.items() if form in text]
            assert not leaks, f"{form!r} appears in {leaks}"


def commands(folder: Path) -> list[Result]:
    return [
        run(folder, "validate"),
        run(folder, "plan", "--out", str(folder / "plan.json")),
        run(folder, "apply", "--auto-approve"),
    ]


def spec_folder(tmp_path: Path, urls: dict[str, str], extra: str = "") -> Path:
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "wasync.yaml").write_text(config(urls, extra))
    (folder / "specs.yaml").write_text(SPECS)
    return folder


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@contextlib.contextmanager
def emulators(accept_secrets: bool) -> Iterator[dict[str, str]]:
    """The three emulators on loopback sockets; they take the secrets as credentials when
    ``accept_secrets``, else their own sandbox keys (so they refuse wasync's)."""
    keys: dict[str, dict[str, str]] = {"cams": {}, "nxcloud": {}, "meta": {}}
    if accept_secrets:
        keys["cams"] = {
            "access_key_id": secret_for("cams", "access_key_id"),
            "access_key_secret": secret_for("cams", "access_key_secret"),
        }
        keys["nxcloud"] = {
            "access_key_id": secret_for("nxcloud", "access_key"),
            "access_key_secret": secret_for("nxcloud", "secret_key"),
        }
        keys["meta"] = {"access_token": secret_for("meta", "access_token")}
    apps = {
        "cams": cams.create_app(qps=0, **keys["cams"]),
        "nxcloud": nxcloud.create_app(qps=0, **keys["nxcloud"]),
        "meta": meta.create_app(qps=0, **keys["meta"]),
    }
    with serving(apps["cams"]) as c, serving(apps["nxcloud"]) as n, serving(apps["meta"]) as m:
        yield {"cams": c, "nxcloud": n, "meta": m}


def test_the_credentials_of_every_provider_are_covered() -> None:
    assert set(PROVIDERS) == {p.name for p in registry.plugins()}
    assert len(SECRETS) == sum(len(registry.get(p).credentials) for p in PROVIDERS) >= 5


@pytest.mark.parametrize(
    "endpoint",
    [f"http://127.0.0.1:{closed_port()}", "http://wasync-harden.invalid"],
    ids=["connection refused", "unknown host"],
)
def test_no_secret_when_the_endpoint_cannot_be_reached(tmp_path: Path, endpoint: str) -> None:
    folder = spec_folder(tmp_path, dict.fromkeys(PROVIDERS, endpoint), "    retry_deadline: 0\n")
    results = commands(folder)
    validate, plan, apply = results
    assert validate.exit_code == 0, validate
    for result in (plan, apply):
        assert result.exit_code == 1, result
        assert "could not connect" in result.stderr
        assert "wasync.http" in result.stderr  # the debug log was captured, and searched
    assert_no_secret(folder, results)


def test_no_secret_when_the_provider_refuses_the_keys(tmp_path: Path) -> None:
    with emulators(accept_secrets=False) as urls:
        folder = spec_folder(tmp_path, urls)
        results = commands(folder)
    _, plan, apply = results
    for result in (plan, apply):
        assert result.exit_code == 1, result
        assert "wasync.http" in result.stderr
    assert_no_secret(folder, results)


def test_no_secret_when_everything_works(tmp_path: Path) -> None:
    with emulators(accept_secrets=True) as urls:
        folder = spec_folder(tmp_path, urls)
        results = commands(folder)
        results.append(run(folder, "apply", "--auto-approve", "--plan", str(folder / "plan.json")))
    applied = results[2]
    assert applied.exit_code == 0, applied
    assert "3 succeeded" in applied.stdout, applied
    assert_no_secret(folder, results)


# --- an endpoint holds nothing but the scheme, host and port ------------------------------


@pytest.mark.parametrize(
    ("endpoint", "says"),
    [
        ("https://harden:${HARDEN_CAMS_ACCESS_KEY_SECRET}@cams.example.com", "user name"),
        ("https://${HARDEN_CAMS_ACCESS_KEY_SECRET}@cams.example.com", "user name or password"),
        ("https://cams.example.com/?token=${HARDEN_CAMS_ACCESS_KEY_SECRET}", "holds a query"),
        ("https://cams.example.com?${HARDEN_CAMS_ACCESS_KEY_SECRET}", "holds a query"),
        ("https://cams.example.com/${HARDEN_CAMS_ACCESS_KEY_SECRET}", "holds a path"),
        ("https://cams.example.com/v1/", "holds a path"),
        ("https://cams.example.com/#${HARDEN_CAMS_ACCESS_KEY_SECRET}", "holds a fragment"),
        ("https://cams.example.com:99999", "not a valid URL"),
        ("https://:443", "has no host name"),
    ],
)
def test_an_endpoint_with_more_than_a_host_is_refused_without_quoting_it(
    tmp_path: Path, endpoint: str, says: str
) -> None:
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "wasync.yaml").write_text(
        "accounts:\n"
        "  live-cams:\n"
        "    provider: cams\n"
        f"    endpoint: {endpoint}\n"
        f"{credentials('cams')}"
    )
    results = [run(folder, "validate"), run(folder, "plan")]
    for result in results:
        assert result.exit_code == 1, result
        assert "wasync.yaml:4:15: accounts.live-cams.endpoint: " in result.stderr, result
        assert says in result.stderr
        assert "cams.example.com" not in result.stderr  # the URL is not quoted
        assert "Traceback" not in result.output
    assert_no_secret(folder, results)


@pytest.mark.parametrize(
    "endpoint",
    ["https://cams.ap-southeast-1.aliyuncs.com", "https://cams.example.com/", "https://h:8443"],
)
def test_a_plain_endpoint_is_accepted(tmp_path: Path, endpoint: str) -> None:
    (tmp_path / "wasync.yaml").write_text(
        f"accounts:\n  live-cams:\n    provider: cams\n    endpoint: {endpoint}\n"
        f"{credentials('cams')}"
    )
    result = wasync("validate", tmp_path)
    assert result.exit_code == 0, result
