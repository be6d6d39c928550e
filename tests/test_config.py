"""wasync.yaml: accounts, providers, ${VAR} credentials, endpoints."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasync.config import Config
from wasync.errors import ConfigError, Location, SpecError
from wasync.loading import load_desired
from wasync.log import redact
from wasync.providers.cams.account import CamsAccount
from wasync.providers.nxcloud.account import NxcloudAccount


def write(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "wasync.yaml").write_text(text, encoding="utf-8")
    return root


def load_config(root: Path) -> Config:
    """wasync.yaml of ``root`` as the commands read it (with the specs, here none)."""
    config, _ = load_desired(root, freeze=False)
    return config


def problems(root: Path, text: str) -> list[str]:
    write(root, text)
    with pytest.raises(SpecError) as caught:
        load_config(root)
    return [str(p).replace(f"{root}/", "") for p in caught.value.problems]


SANDBOX = """\
accounts:
  shop-cams:
    provider: cams
    endpoint: sandbox
    cust_space_id: cams-1
  shop-nx:
    provider: nxcloud
    appkey: key-1
"""


def test_sandbox_accounts_need_no_credentials(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, SANDBOX))
    assert config.root == tmp_path
    cams, nx = config.accounts["shop-cams"], config.accounts["shop-nx"]
    assert isinstance(cams, CamsAccount)
    assert isinstance(nx, NxcloudAccount)
    assert (cams.name, cams.cust_space_id, cams.is_sandbox) == ("shop-cams", "cams-1", True)
    assert (nx.name, nx.appkey, nx.endpoint) == ("shop-nx", "key-1", "sandbox")
    assert config.locations == {
        "shop-cams": Location(f"{tmp_path}/wasync.yaml", 2, 3),
        "shop-nx": Location(f"{tmp_path}/wasync.yaml", 6, 3),
    }


REAL = """\
accounts:
  live:
    provider: cams
    endpoint: https://cams.ap-southeast-1.aliyuncs.com
    access_key_id: ${TEST_AK_ID}
    access_key_secret: "${TEST_AK_SECRET}"
    qps: 2
"""


def test_qps_is_a_number_for_every_api_or_a_map_per_api(tmp_path: Path) -> None:
    write(
        tmp_path,
        "accounts:\n  a:\n    provider: cams\n    qps: 3\n"
        "  b:\n    provider: cams\n    qps: {CreateChatappTemplate: 20, ListChatappTemplate: 2}\n",
    )
    accounts = load_config(tmp_path).accounts
    assert accounts["a"].qps == 3.0
    assert accounts["b"].qps == {"CreateChatappTemplate": 20.0, "ListChatappTemplate": 2.0}


def test_credentials_come_from_the_environment_and_are_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_AK_ID", "LTAI-id-value-1234")
    monkeypatch.setenv("TEST_AK_SECRET", "very-secret-value-5678")
    account = load_config(write(tmp_path, REAL)).accounts["live"]
    assert isinstance(account, CamsAccount)
    assert account.access_key_secret is not None
    assert account.access_key_secret.get_secret_value() == "very-secret-value-5678"
    assert "very-secret-value-5678" not in repr(account)
    assert redact("sig=very-secret-value-5678 id=LTAI-id-value-1234") == "sig=*** id=***"
    assert account.qps == 2.0


def test_a_missing_variable_is_named_with_file_line_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_AK_ID", "LTAI-id-value-1234")
    monkeypatch.delenv("TEST_AK_SECRET", raising=False)
    assert problems(tmp_path, REAL) == [
        "wasync.yaml:6:24: accounts.live.access_key_secret: environment variable "
        "TEST_AK_SECRET is not set"
    ]


def test_variables_work_in_any_string_and_dollars_escape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SPACE", "cams-77")
    text = (
        "accounts:\n  a:\n    provider: cams\n    cust_space_id: x-${TEST_SPACE}-$${LITERAL}-$5\n"
    )
    account = load_config(write(tmp_path, text)).accounts["a"]
    assert isinstance(account, CamsAccount)
    assert account.cust_space_id == "x-cams-77-${LITERAL}-$5"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("${}", "${} is not an environment variable name; use letters, digits and _"),
        ("${1X}", "${1X} is not an environment variable name; use letters, digits and _"),
        ("${OPEN", "unclosed ${; write ${NAME} for an environment variable, $$ for $"),
        ("${TEST_EMPTY}", "environment variable TEST_EMPTY is empty"),
    ],
)
def test_bad_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("TEST_EMPTY", "")
    text = f'accounts:\n  a:\n    provider: cams\n    cust_space_id: "{value}"\n'
    assert problems(tmp_path, text) == [f"wasync.yaml:4:20: accounts.a.cust_space_id: {message}"]


def test_real_endpoints_need_credentials(tmp_path: Path) -> None:
    text = (
        "accounts:\n"
        "  nx:\n"
        "    provider: nxcloud\n"
        "    endpoint: https://api2.nxcloud.com\n"
        "    appkey: k\n"
    )
    assert problems(tmp_path, text) == [
        "wasync.yaml:3:5: accounts.nx.access_key: required for a real endpoint, e.g. "
        "access_key: ${NXCLOUD_ACCESS_KEY} (only endpoint: sandbox may omit it)",
        "wasync.yaml:3:5: accounts.nx.secret_key: required for a real endpoint, e.g. "
        "secret_key: ${NXCLOUD_SECRET_KEY} (only endpoint: sandbox may omit it)",
    ]


def test_plain_http_needs_an_explicit_opt_in(tmp_path: Path) -> None:
    base = (
        "accounts:\n"
        "  local:\n"
        "    provider: nxcloud\n"
        "    endpoint: http://127.0.0.1:8080\n"
        "    appkey: k\n"
        "    access_key: ak-test-1\n"
        "    secret_key: sk-test-1\n"
    )
    assert problems(tmp_path / "a", base) == [
        "wasync.yaml:4:15: accounts.local.endpoint: http:// sends credentials unencrypted; "
        "use https://, or set allow_insecure_http: true (only for your own test servers)"
    ]
    config = load_config(write(tmp_path / "b", base + "    allow_insecure_http: true\n"))
    assert config.accounts["local"].endpoint == "http://127.0.0.1:8080"


def test_an_endpoint_is_sandbox_or_a_url(tmp_path: Path) -> None:
    text = "accounts:\n  a:\n    provider: cams\n    endpoint: cams.aliyuncs.com\n"
    assert problems(tmp_path, text) == [
        "wasync.yaml:4:15: accounts.a.endpoint: expected 'sandbox' (the built-in emulator) or "
        "the provider's https:// URL"
    ]


def test_unknown_keys_suggest_the_key_meant(tmp_path: Path) -> None:
    text = "accounts:\n  a:\n    provider: cams\n    endpiont: sandbox\n    colour: red\n"
    assert problems(tmp_path, text) == [
        "wasync.yaml:4:5: accounts.a.endpiont: unknown key; did you mean `endpoint`? (allowed: "
        "name, endpoint, qps, prune, timeout, retry_deadline, allow_insecure_http, thresholds, "
        "provider, cust_space_id, access_key_id, access_key_secret)",
        "wasync.yaml:5:5: accounts.a.colour: unknown key (allowed: name, endpoint, qps, prune, "
        "timeout, retry_deadline, allow_insecure_http, thresholds, provider, cust_space_id, "
        "access_key_id, access_key_secret)",
    ]


def test_top_level_keys(tmp_path: Path) -> None:
    text = "acounts:\n  a: {provider: cams}\ntemplates: []\n"
    assert problems(tmp_path, text) == [
        "wasync.yaml:1:1: accounts: required, but missing; list your accounts under it",
        "wasync.yaml:1:1: acounts: unknown key; did you mean `accounts`?",
        "wasync.yaml:3:1: templates: unknown key; templates and QR codes go in their own spec "
        "files, not wasync.yaml",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "accounts:\n  a:\n    endpoint: sandbox\n",
            "wasync.yaml:3:5: accounts.a.provider: missing; allowed: cams, nxcloud, meta",
        ),
        (
            "accounts:\n  a:\n    provider: twilio\n",
            'wasync.yaml:3:15: accounts.a.provider: "twilio" is not a provider; allowed: cams, '
            "nxcloud, meta",
        ),
        (
            "accounts:\n  a:\n    provider: CAMS\n",
            'wasync.yaml:3:15: accounts.a.provider: "CAMS" is not a provider; did you mean cams? '
            "(allowed: cams, nxcloud, meta)",
        ),
        (
            "accounts:\n  a:\n    provider: nxcloud\n",
            "wasync.yaml:3:5: accounts.a.appkey: required, but missing",
        ),
        (
            "accounts:\n  a:\n    provider: cams\n    qps: fast\n",
            "wasync.yaml:4:10: accounts.a.qps: expected a number, got text",
        ),
        (
            "accounts:\n  a:\n    provider: cams\n    qps: 0\n",
            "wasync.yaml:4:10: accounts.a.qps: must be greater than 0",
        ),
        (
            "accounts:\n  a:\n    provider: cams\n    qps: {ListChatappTemplate: 0}\n",
            "wasync.yaml:4:32: accounts.a.qps.ListChatappTemplate: must be greater than 0",
        ),
        (
            "accounts:\n  a:\n    provider: cams\n    qps: {CreateChatAppTemplate: 20}\n",
            "wasync.yaml:4:11: accounts.a.qps.CreateChatAppTemplate: 'CreateChatAppTemplate' is "
            "not an API of provider cams; did you mean CreateChatappTemplate? give a number for "
            "every API, or one of: CreateChatappTemplate, CreatePhoneMessageQrdl, "
            "DeleteChatappTemplate, DeletePhoneMessageQrdl, GetChatappTemplateDetail, "
            "ListChatappTemplate, ListPhoneMessageQrdl, ModifyChatappTemplate, "
            "UpdatePhoneMessageQrdl",
        ),
        (
            "accounts:\n  a:\n    provider: cams\n    thresholds: {max_change_share: 2}\n",
            "wasync.yaml:4:36: accounts.a.thresholds.max_change_share: must be less than or "
            "equal to 1",
        ),
        (
            "accounts:\n  a:\n    provider: cams\n    access_key_id: 12345\n",
            "wasync.yaml:4:20: accounts.a.access_key_id: expected text, got a number; put it in "
            "quotes to make it text",
        ),
        (
            "accounts:\n  a: cams\n",
            "wasync.yaml:2:6: accounts.a: expected a mapping (provider, endpoint, ...), got text",
        ),
        (
            "accounts:\n  a:\n    name: b\n    provider: cams\n",
            "wasync.yaml:3:5: accounts.a.name: unknown key; an account's name is its key (`a:`), "
            "remove `name`",
        ),
        (
            "accounts:\n  Shop Main:\n    provider: cams\n",
            "wasync.yaml:2:3: accounts[\"Shop Main\"]: 'Shop Main' is not a valid account name; "
            "use lowercase letters, digits, - and _, starting with a letter or digit (it is part "
            "of every address)",
        ),
        ("accounts: {}\n", "wasync.yaml:1:11: accounts: no accounts; add at least one"),
        (
            "accounts: [a, b]\n",
            "wasync.yaml:1:11: accounts: expected a mapping of account names, got a list",
        ),
        (
            "",
            "wasync.yaml:1:1: empty; list your accounts under `accounts:`, each with a "
            "`provider:` (cams, nxcloud or meta) and an `endpoint:` (sandbox or an https:// "
            "URL)",
        ),
        ("- a\n", "wasync.yaml:1:1: expected a mapping with `accounts:`, got a list"),
    ],
)
def test_account_problems(tmp_path: Path, text: str, expected: str) -> None:
    assert problems(tmp_path, text) == [expected]


def test_a_secret_is_never_printed_in_a_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SECRET", "do-not-print-9876")
    text = (
        "accounts:\n  a:\n    provider: cams\n    access_key_secret: ${TEST_SECRET}\n"
        "    acess_key_id: ${TEST_SECRET}\n    qps: ${TEST_SECRET}\n"
    )
    found = problems(tmp_path, text)
    assert len(found) == 2
    assert not any("do-not-print-9876" in p for p in found)


def test_a_missing_file_says_where_it_looked_and_what_to_create(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    message = str(caught.value)
    assert message.startswith(
        f"no wasync.yaml in {tmp_path}; create {tmp_path}/wasync.yaml listing your accounts, e.g."
    )
    assert "provider: cams" in message


def test_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a folder"):
        load_config(tmp_path / "nope")


def test_yaml_problems_in_wasync_yaml(tmp_path: Path) -> None:
    assert problems(tmp_path, "accounts:\n  a: {provider: cams}\n  a: {provider: cams}\n") == [
        "wasync.yaml:3:3: duplicate key 'a': first on line 2, again on line 3"
    ]
