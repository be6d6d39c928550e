"""wasync.yaml: the accounts a spec folder manages, their providers and credentials.

Credentials are written as ``${VAR}`` and read from the environment at load time; they are
held as ``SecretStr`` so that no repr, log or error can show them, and each is registered with
``wasync.log`` so that no log line or crash report shows it either.

``${VAR}`` works in any string value; ``$$`` is a literal ``$``. A missing variable is an
error naming the variable, the file, line and field, never a value.

This module knows no provider: each provider's account model (a subclass of ``AccountBase``)
and credential fields come in through ``read_config``'s ``providers`` (the registry's
plugins, see ``wasync.loading``), so that config sits below the providers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PositiveFloat,
    Tag,
    ValidationError,
)
from pydantic.json_schema import models_json_schema

from wasync.errors import ConfigError, Location, Problem
from wasync.log import register_secret
from wasync.model import Desired
from wasync.spec import CONFIG_FILE
from wasync.spec.explain import describe, did_you_mean, explain, format_path, quoted
from wasync.spec.schema import SCHEMA_DIALECT, tagged_union, tagged_unions
from wasync.spec.yaml import DEFAULT_LIMITS, DataPath, Limits, Positions, YamlProblems, read_yaml

__all__ = [
    "CONFIG_FILE",
    "SANDBOX",
    "AccountBase",
    "AccountKind",
    "AccountProblem",
    "Config",
    "ConfigLoad",
    "Thresholds",
    "config_schema",
    "read_config",
]

SANDBOX = "sandbox"
# An HTTP call that takes longer than this is no slow provider but a broken path to it.
MAX_TIMEOUT_S = 600
# How long an account's failing calls are retried, by default and at most (``retry_deadline``).
RETRY_DEADLINE_S = 120.0
MAX_RETRY_DEADLINE_S = 3600


class Thresholds(BaseModel):
    """octoDNS-style brakes: stop an apply that would change too much of an account."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_change_share: float = Field(
        0.30, ge=0, le=1, description="Largest share of managed resources to update+delete."
    )
    min_resources: int = Field(
        10, ge=0, description="The share applies only to accounts with at least this many."
    )


def _qps_form(value: Any) -> str:
    return "per_api" if isinstance(value, dict) else "every_api"


# A number for every API, or a map of API name -> number; one error message for either.
Qps = Annotated[
    Annotated[PositiveFloat, Tag("every_api")]
    | Annotated[dict[str, PositiveFloat], Tag("per_api")],
    Discriminator(_qps_form),
]


class AccountBase(BaseModel):
    """What every account has, whatever its provider. A provider's account model (in its own
    folder) adds ``provider: Literal["<name>"]`` and its own fields and credentials."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="The account's key in wasync.yaml; part of addresses.")
    endpoint: str = Field(
        SANDBOX, description="'sandbox' (in-process emulator) or the provider's https URL."
    )
    qps: Qps | None = Field(
        None,
        description="Requests per second: a number for every API, or a map of API name to "
        "number; default: the provider's documented limits, per API.",
    )
    prune: bool = Field(False, description="Delete remote resources that no spec names.")
    timeout: float = Field(
        30.0,
        gt=0,
        le=MAX_TIMEOUT_S,
        allow_inf_nan=False,
        description=f"Seconds to wait for any one HTTP call (at most {MAX_TIMEOUT_S}).",
    )
    retry_deadline: float = Field(
        RETRY_DEADLINE_S,
        ge=0,
        le=MAX_RETRY_DEADLINE_S,
        allow_inf_nan=False,
        description="Seconds this account's failed calls are retried while none goes "
        "through, within one command (30 at most until one has); then the next failure is "
        "final. 0: never retry.",
    )
    allow_insecure_http: bool = Field(
        False, description="Allow an http:// endpoint (only for your own test servers)."
    )
    thresholds: Thresholds = Field(default_factory=Thresholds)
    provider: str = Field(
        description="The account's provider: a name `wasync sandbox serve --provider` offers."
    )

    @property
    def is_sandbox(self) -> bool:
        return self.endpoint == SANDBOX

    def check_use(self, desired: Desired) -> list[AccountProblem]:
        """What this account lacks for what the specs ask of it (``desired``: this
        account's resources). A provider's account model overrides it: a field that only
        some resources need (e.g. a space for templates). Called when the specs load."""
        return []


@dataclass(frozen=True)
class AccountProblem:
    """A setting an account lacks for what its specs ask: the field of wasync.yaml, and
    what to write there (the loader adds where the account and the resources are)."""

    field: str
    message: str


class CredentialInfo(Protocol):
    @property
    def example(self) -> str:
        """How wasync.yaml should write it, e.g. ``${NXCLOUD_ACCESS_KEY}``."""
        ...


class AccountKind(Protocol):
    """What config needs of a provider (the registry's plugins are these)."""

    @property
    def name(self) -> str:
        """The ``provider:`` value that selects it."""
        ...

    @property
    def account_model(self) -> type[AccountBase]: ...

    @property
    def credentials(self) -> Mapping[str, CredentialInfo]:
        """Secret fields of ``account_model``: required for a real endpoint, redacted."""
        ...

    @property
    def api_names(self) -> Collection[str]:
        """The provider's APIs, the names a ``qps:`` map may use (empty: any name)."""
        ...


class Config(BaseModel):
    """A loaded wasync.yaml. ``root`` is the folder it lives in (sandbox state goes there)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    root: Path
    accounts: dict[str, AccountBase]
    locations: dict[str, Location] = Field(
        default_factory=dict, description="Where each account is declared, by account name."
    )
    groups: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Named lists of accounts or numbers, for entries that fan out to them.",
    )


# --- loading wasync.yaml -------------------------------------------------------------------

ACCOUNT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
TOP_LEVEL_KEYS = ("accounts", "groups")
# $$ is a literal $; ${NAME} is an environment variable; a lone ${ is an error.
_REFERENCE = re.compile(r"\$\$|\$\{([^}]*)\}|\$\{")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def example(names: Sequence[str]) -> str:
    """A wasync.yaml to start from, naming the providers there are."""
    first = f"provider: {names[0] if names else '...'}"
    if len(names) > 1:
        first = f"{first:<23} # or {_either(names[1:])}"
    return (
        "accounts:\n"
        "  shop:\n"
        f"    {first}\n"
        "    endpoint: sandbox       # the built-in emulator; or the provider's https:// URL"
    )


def _either(names: Sequence[str]) -> str:
    """``cams``, ``cams or nxcloud``, ``a, b or c``."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


@dataclass(frozen=True)
class ConfigLoad:
    """What reading wasync.yaml gave: the usable accounts, the problems, and the name of
    every account declared (a spec naming a broken account is not also 'unknown')."""

    config: Config
    problems: list[Problem]
    declared: frozenset[str]
    path: Path


def read_config(
    directory: Path,
    providers: Iterable[AccountKind],
    limits: Limits = DEFAULT_LIMITS,
    *,
    resolve_env: bool = True,
) -> ConfigLoad:
    """Read ``directory/wasync.yaml``, collecting its problems instead of raising them
    (``ConfigError`` still when there is no file to read). ``providers`` are the kinds of
    account there are, by their ``name`` (the ``provider:`` that selects one).

    Without ``resolve_env`` (offline validation, e.g. a pre-commit hook or a CI job with no
    secrets), an unset ``${VAR}`` is not an error: the reference must still be well formed,
    and the account keeps the reference text as a stand-in for its value."""
    kinds = {kind.name: kind for kind in providers}
    path = directory / CONFIG_FILE
    if not directory.is_dir():
        raise ConfigError(
            f"{directory} is not a folder; give the spec folder that holds {CONFIG_FILE}"
        )
    if (path.exists() and not path.is_file()) or (path.is_symlink() and not path.exists()):
        raise ConfigError(
            f"{path} is not a regular file (a folder, a device, a pipe or a broken link); "
            f"make {CONFIG_FILE} a plain YAML file listing your accounts"
        )
    if not path.is_file():
        raise ConfigError(
            f"no {CONFIG_FILE} in {directory}; create {path} listing your accounts, e.g.\n"
            f"{example(list(kinds))}"
        )
    file = str(path)
    try:
        doc = read_yaml(path, file, limits)
    except YamlProblems as exc:
        return ConfigLoad(Config(root=directory, accounts={}), exc.problems, frozenset(), path)
    return _Reader(kinds, doc.positions, resolve_env).read(doc.data, directory, path)


class _Reader:
    def __init__(
        self, kinds: Mapping[str, AccountKind], positions: Positions, resolve_env: bool = True
    ) -> None:
        self.kinds = kinds
        self.positions = positions
        self.resolve_env = resolve_env
        self.problems: list[Problem] = []
        # Values read from the environment, and the ${VAR} text to show in their place.
        self.references: dict[str, str] = {}

    def error(
        self, path: DataPath, message: str, *, key: bool = False, at: DataPath | None = None
    ) -> None:
        where = self.positions.locate(path if at is None else at, key=key)
        self.problems.append(Problem(message, where, field=format_path(path) or None))

    def read(self, data: Any, directory: Path, path: Path) -> ConfigLoad:
        accounts: dict[str, AccountBase] = {}
        locations: dict[str, Location] = {}
        declared: set[str] = set()
        raw_accounts = self._top_level(data)
        for name, raw in raw_accounts.items():
            declared.add(name)
            account = self._account(name, raw)
            if account is not None:
                accounts[name] = account
                locations[name] = self.positions.locate(("accounts", name), key=True)
        groups = _Groups(self).read(data, declared)
        config = Config(root=directory, accounts=accounts, locations=locations, groups=groups)
        return ConfigLoad(config, self.problems, frozenset(declared), path)

    def _top_level(self, data: Any) -> dict[str, Any]:
        if data is None:
            self.error(
                (),
                "empty; list your accounts under `accounts:`, each with a `provider:` "
                f"({_either(list(self.kinds))}) and an `endpoint:` (sandbox or an https:// URL)",
            )
            return {}
        if not isinstance(data, dict):
            self.error((), f"expected a mapping with `accounts:`, got {describe(data)}")
            return {}
        for key in data:
            if key not in TOP_LEVEL_KEYS:
                guess = did_you_mean(key, TOP_LEVEL_KEYS)
                hint = f"did you mean `{guess}`?" if guess else "allowed: accounts, groups"
                if key in ("templates", "qr_codes"):
                    hint = "templates and QR codes go in their own spec files, not wasync.yaml"
                self.error((key,), f"unknown key; {hint}", key=True)
        if "accounts" not in data:
            self.error(("accounts",), "required, but missing; list your accounts under it")
            return {}
        accounts = data["accounts"]
        if not isinstance(accounts, dict):
            self.error(
                ("accounts",), f"expected a mapping of account names, got {describe(accounts)}"
            )
            return {}
        if not accounts:
            self.error(("accounts",), "no accounts; add at least one")
        return accounts

    def _account(self, name: str, raw: Any) -> AccountBase | None:
        base: DataPath = ("accounts", name)
        ok = True
        if not ACCOUNT_NAME.fullmatch(name):
            self.error(
                base,
                f"{name!r} is not a valid account name; use lowercase letters, digits, - and _, "
                "starting with a letter or digit (it is part of every address)",
                key=True,
            )
            ok = False
        if not isinstance(raw, dict):
            self.error(base, f"expected a mapping (provider, endpoint, ...), got {describe(raw)}")
            return None
        if "name" in raw:
            self.error(
                (*base, "name"),
                f"unknown key; an account's name is its key (`{name}:`), remove `name`",
                key=True,
            )
            raw = {k: v for k, v in raw.items() if k != "name"}
            ok = False
        values = self._substitute(base, raw)
        if values is None:
            ok = False
            values = raw
        kind = self._kind(base, values)
        if kind is None:
            return None
        for field in kind.credentials:
            secret = values.get(field)
            # An unset ${VAR} left as written (offline validation) is no secret: registering
            # its text would mask every later mention of the reference, e.g. in a schema.
            if isinstance(secret, str) and (secret != raw.get(field) or "${" not in secret):
                register_secret(secret)
        model = kind.account_model
        try:
            account = model.model_validate({**values, "name": name}, strict=True)
        except ValidationError as exc:
            for f in explain(exc, model, values, self.references):
                self.error((*base, *f.path), f.message, key=f.key, at=(*base, *f.at))
            return None
        if not self._check(base, account, kind):
            ok = False
        return account if ok else None

    def _kind(self, base: DataPath, values: dict[str, Any]) -> AccountKind | None:
        """The kind of account ``provider:`` names; None (and a problem) if it names none."""
        names = list(self.kinds)
        allowed = f"allowed: {', '.join(names)}"
        if "provider" not in values:
            self.error((*base, "provider"), f"missing; {allowed}", at=base)
            return None
        provider = values["provider"]
        if not isinstance(provider, str):
            self.error(
                (*base, "provider"), f"expected one of {', '.join(names)}, got {describe(provider)}"
            )
            return None
        kind = self.kinds.get(provider)
        if kind is None:
            guess = did_you_mean(provider, names)
            hint = f"did you mean {guess}? ({allowed})" if guess else allowed
            shown = quoted(self.references.get(provider, provider))  # ${VAR}, never a secret
            self.error((*base, "provider"), f"{shown} is not a provider; {hint}")
        return kind

    def _substitute(self, base: DataPath, raw: dict[str, Any]) -> dict[str, Any] | None:
        """``raw`` with ``${VAR}`` replaced in every string; None if a variable is missing."""
        ok = True

        def walk(value: Any, path: DataPath) -> Any:
            nonlocal ok
            if isinstance(value, str):
                if "$" not in value:
                    return value
                out, missing = _expand(value, self.resolve_env)
                for message in missing:
                    self.error(path, message)
                    ok = False
                if out != value:
                    self.references[out] = value
                return out
            if isinstance(value, dict):
                return {k: walk(v, (*path, k)) for k, v in value.items()}
            if isinstance(value, list):
                return [walk(v, (*path, i)) for i, v in enumerate(value)]
            return value

        result = walk(raw, base)
        return result if ok else None

    def _check(self, base: DataPath, account: AccountBase, kind: AccountKind) -> bool:
        before = len(self.problems)
        if isinstance(account.qps, dict) and kind.api_names:
            apis = sorted(kind.api_names)
            for api in account.qps:
                if api not in kind.api_names:
                    guess = did_you_mean(api, apis)
                    hint = f"did you mean {guess}? " if guess else ""
                    self.error(
                        (*base, "qps", api),
                        f"{api!r} is not an API of provider {account.provider}; {hint}"
                        f"give a number for every API, or one of: {', '.join(apis)}",
                        key=True,
                    )
        endpoint = account.endpoint
        if endpoint != SANDBOX:
            if endpoint.startswith("http://"):
                if not account.allow_insecure_http:
                    self.error(
                        (*base, "endpoint"),
                        "http:// sends credentials unencrypted; use https://, or set "
                        "allow_insecure_http: true (only for your own test servers)",
                    )
            elif not endpoint.startswith("https://") or len(endpoint) <= len("https://"):
                self.error(
                    (*base, "endpoint"),
                    "expected 'sandbox' (the built-in emulator) or the provider's https:// URL",
                )
                return False
            wrong = _endpoint_problem(endpoint)
            if wrong is not None:
                self.error((*base, "endpoint"), wrong)
                return False
            for field, credential in kind.credentials.items():
                if getattr(account, field) is None:
                    self.error(
                        (*base, field),
                        f"required for a real endpoint, e.g. {field}: "
                        f"{credential.example} (only endpoint: sandbox may omit it)",
                        at=base,
                    )
        return len(self.problems) == before


GROUPS_HELP = (
    "a group is a list of accounts (for `account: {group: NAME}`) or of business numbers "
    "(for `phone: {group: NAME}`)"
)
_PHONE = re.compile(r"[0-9]{6,15}")


class _Groups:
    """``groups:``: named lists of accounts or numbers that spec entries fan out to."""

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader

    def read(self, data: Any, declared: Collection[str]) -> dict[str, tuple[str, ...]]:
        raw = data.get("groups") if isinstance(data, dict) else None
        if raw is None:
            return {}
        error = self.reader.error
        if not isinstance(raw, dict):
            error(("groups",), f"expected a mapping of group names to lists, got {describe(raw)}")
            return {}
        out: dict[str, tuple[str, ...]] = {}
        for name, members in raw.items():
            at: DataPath = ("groups", name)
            if not ACCOUNT_NAME.fullmatch(name):
                error(
                    at,
                    f"{name!r} is not a valid group name; use lowercase letters, digits, - "
                    "and _, starting with a letter or digit",
                    key=True,
                )
                continue
            if not isinstance(members, list) or not members:
                got = "an empty list" if members == [] else describe(members)
                error(at, f"expected a list of accounts or numbers, got {got}; {GROUPS_HELP}")
                continue
            ok = True
            seen: set[str] = set()
            for i, member in enumerate(members):
                if not isinstance(member, str):
                    quote = " (write numbers in quotes)" if isinstance(member, int) else ""
                    error((*at, i), f"expected text, got {describe(member)}{quote}")
                    ok = False
                elif member in seen:
                    error((*at, i), f"{member!r} is listed twice; list each once")
                    ok = False
                elif member not in declared and not _PHONE.fullmatch(member):
                    guess = did_you_mean(member, sorted(declared))
                    hint = f"did you mean {guess!r}? " if guess else ""
                    error(
                        (*at, i),
                        f"{member!r} is neither an account of this file nor a business "
                        f"number (6 to 15 digits); {hint}{GROUPS_HELP}",
                    )
                    ok = False
                if isinstance(member, str):
                    seen.add(member)
            if ok:
                out[name] = tuple(members)
        return out


def _endpoint_problem(endpoint: str) -> str | None:
    """What is wrong with an http(s) ``endpoint`` beyond its scheme, in words that never
    quote it (it may hold an expanded ${VAR}); None when it is ``scheme://host[:port][/]``.

    Only the scheme, host and port are used: each client adds the API's own path and query,
    and credentials go in the account's credential fields (sent signed, never logged). A
    user name, password, path, query or fragment in the URL would be dropped, or printed in
    messages, so each is refused here."""
    allowed = "write only https://host (and :port if needed)"
    if "@" in endpoint:  # anywhere: a password may hold a / that would end the host early
        return (
            "holds a user name or password (user:pass@host, or an @), which wasync never sends; "
            f"{allowed} and put credentials in the account's credential fields as ${{VAR}}"
        )
    try:
        url = urlsplit(endpoint)
        url.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return "not a valid URL; write the provider's https://host (and :port if needed)"
    if not url.hostname:
        return f"has no host name; {allowed}"
    if url.query or endpoint.rstrip("#").endswith("?"):
        return f"holds a query (?...), which wasync would not send; {allowed}"
    if url.fragment or "#" in endpoint:
        return f"holds a fragment (#...); {allowed}"
    if url.path not in ("", "/"):
        return (
            f"holds a path, which wasync would not use (each client adds its API's path); {allowed}"
        )
    return None


def _expand(text: str, resolve_env: bool = True) -> tuple[str, list[str]]:
    """``text`` with ``${VAR}`` read from the environment, and what went wrong (an unset
    variable is fine when not ``resolve_env``: the reference stays as it is)."""
    problems: list[str] = []

    def replace(m: re.Match[str]) -> str:
        matched = m.group(0)
        if matched == "$$":
            return "$"
        name = m.group(1)
        if name is None:
            problems.append("unclosed ${; write ${NAME} for an environment variable, $$ for $")
            return matched
        if not _VARIABLE.fullmatch(name):
            problems.append(
                f"${{{name}}} is not an environment variable name; use letters, digits and _"
            )
            return matched
        value = os.environ.get(name)
        if value is None and not resolve_env:
            return matched
        if value is None:
            problems.append(f"environment variable {name} is not set")
            return matched
        if not value:
            problems.append(f"environment variable {name} is empty")
            return matched
        return value

    return _REFERENCE.sub(replace, text), problems


# --- the JSON Schema of wasync.yaml, for editors ----------------------------------------------


def config_schema(kinds: Iterable[AccountKind]) -> dict[str, Any]:
    """The JSON Schema of wasync.yaml for accounts of ``kinds`` (the registry's plugins):
    each account is the model of the provider its ``provider:`` names (``tagged_union``),
    without ``name`` (the account's key), and needs its credentials unless its endpoint is
    the sandbox. Draft-07, like the spec schema (``wasync.spec.schema``)."""
    kinds = list(kinds)
    _, schema = models_json_schema(
        [(kind.account_model, "validation") for kind in kinds], ref_template="#/$defs/{model}"
    )
    defs: dict[str, Any] = tagged_unions(schema["$defs"])
    mapping: dict[str, str] = {}
    for kind in kinds:
        name = kind.account_model.__name__
        account = defs[name]
        account["properties"].pop("name", None)
        account["required"] = [r for r in account.get("required", []) if r != "name"]
        account.setdefault("description", f"An account on the {kind.name} provider.")
        for field, credential in kind.credentials.items():
            account["properties"][field]["description"] = (
                f"A secret: write it as {credential.example}, read from the environment "
                "when wasync runs; only endpoint: sandbox may leave it out."
            )
        if kind.credentials:
            account["if"] = {"properties": {"endpoint": {"const": SANDBOX}}}
            account["else"] = {"required": list(kind.credentials)}
        mapping[kind.name] = f"#/$defs/{name}"
    accounts = tagged_union(
        "provider", mapping, "The account's provider; it decides the other keys."
    )
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "wasync.yaml",
        "description": "The accounts a spec folder manages. Write credentials as ${VAR}: "
        "wasync reads them from the environment.",
        "type": "object",
        "additionalProperties": False,
        "required": ["accounts"],
        "properties": {
            "accounts": {
                "description": "Accounts by name; the name is part of every address.",
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": f"^{ACCOUNT_NAME.pattern}$"},
                "additionalProperties": accounts,
            },
            "groups": {
                "description": "Named lists of accounts or of business numbers, that a spec "
                "entry fans out to with account: {group: NAME} or phone: {group: NAME}.",
                "type": "object",
                "propertyNames": {"pattern": f"^{ACCOUNT_NAME.pattern}$"},
                "additionalProperties": {
                    "type": "array",
                    "minItems": 1,
                    "uniqueItems": True,
                    "items": {"type": "string"},
                },
            },
        },
        "$defs": defs,
    }
