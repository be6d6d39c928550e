"""A provider is one plugin: a provider defined here, in the test suite alone, goes through
validate, plan, apply and a converging re-plan, and nothing outside a provider's folder (and
the registry) names a provider.

The provider, "memo", is small but real in the ways that matter: its client speaks HTTP (JSON
with a bearer token) to its own emulator, which keeps its state in the sandbox folder, so
every step of the wiring is exercised: the account model and credentials (config), the
traits (spec rules, planner), the emulator factory and the sandbox's fake credentials
(session), the client factory, the documented rate (the account's gate).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Awaitable, Collection, Iterator
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from cli_runner import wasync
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from wasync.config import AccountBase
from wasync.errors import ConfigError, ErrorClass, ProviderError
from wasync.model import QrCode, RemoteQrCode, RemoteTemplate, Template
from wasync.pacing.limits import RateLimits
from wasync.providers import registry
from wasync.providers.base import CallGate, Provider, ReadRetry
from wasync.providers.plugin import Credential, EmulatorOptions, ProviderPlugin
from wasync.traits import ProviderTraits

PACKAGE = Path(__file__).resolve().parents[1] / "wasync"
SANDBOX_TOKEN = "memo-sandbox-token"

# --- the provider: account, traits, client ---------------------------------------------------


class MemoAccount(AccountBase):
    provider: Literal["memo"]
    token: SecretStr | None = None


MEMO_TRAITS = ProviderTraits(
    name="memo",
    display_name="Memo",
    kinds=frozenset({"qr", "template"}),
    template_scope="account",
    template_editable_statuses=frozenset({"APPROVED"}),
)


class MemoProvider:
    """The client: one JSON call per operation, each through the gate, reads retried."""

    traits = MEMO_TRAITS

    def __init__(
        self, account: MemoAccount, http: httpx.AsyncClient, gate: CallGate, reads: ReadRetry
    ) -> None:
        if account.token is None:
            raise ConfigError(f"account {account.name}: token is missing")
        self.account = account.name
        self._token = account.token
        self._http = http
        self._gate = gate
        self._reads = reads

    async def _call(self, operation: str, method: str, path: str, body: Any = None) -> Any:
        async with self._gate():
            reply = await self._http.request(
                method,
                path,
                json=body,
                headers={"Authorization": f"Bearer {self._token.get_secret_value()}"},
            )
        if reply.status_code >= 400:
            raise ProviderError(
                provider="memo",
                operation=operation,
                code=str(reply.status_code),
                message=reply.text,
                error_class=ErrorClass.TRANSIENT if reply.status_code >= 500 else ErrorClass.FATAL,
                http_status=reply.status_code,
            )
        return reply.json() if reply.content else None

    def _read(self, operation: str, path: str) -> Awaitable[Any]:
        return self._reads(lambda: self._call(operation, "GET", path))

    def _qr(self, raw: dict[str, Any]) -> RemoteQrCode:
        return RemoteQrCode(self.account, raw["phone"], raw["code"], raw["message"], raw["image"])

    def _template(self, raw: dict[str, Any]) -> RemoteTemplate:
        return RemoteTemplate(
            account=self.account,
            phone=None,
            id=raw["id"],
            name=raw["name"],
            language=raw["language"],
            category=raw["category"],
            status=raw["status"],
            components=tuple(raw["components"]),
        )

    async def list_qr_codes(self, phone: str) -> list[RemoteQrCode]:
        found = await self._read("ListQrCodes", f"/qr?phone={phone}")
        return [self._qr(raw) for raw in found["codes"]]

    async def create_qr_code(self, qr: QrCode) -> RemoteQrCode:
        body = {"phone": qr.phone, "message": qr.prefilled_message, "image": qr.image}
        return self._qr(await self._call("CreateQrCode", "POST", "/qr", body))

    async def update_qr_code(self, current: RemoteQrCode, desired: QrCode) -> RemoteQrCode:
        body = {"message": desired.prefilled_message, "image": desired.image}
        return self._qr(await self._call("UpdateQrCode", "PUT", f"/qr/{current.code}", body))

    async def delete_qr_code(self, current: RemoteQrCode) -> None:
        await self._call("DeleteQrCode", "DELETE", f"/qr/{current.code}")

    async def list_templates(
        self, phones: Collection[str], detail_for: Collection[tuple[str, str]] | None = None
    ) -> list[RemoteTemplate]:
        found = await self._read("ListTemplates", "/templates")
        return [self._template(raw) for raw in found["templates"]]

    async def find_template(
        self, phone: str | None, name: str, language: str
    ) -> RemoteTemplate | None:
        listed = await self.list_templates(())
        return next((t for t in listed if (t.name, t.language) == (name, language)), None)

    async def create_template(self, template: Template) -> RemoteTemplate:
        body = {
            "name": template.name,
            "language": template.language,
            "category": template.category,
            "components": template.canonical_components(),
        }
        return self._template(await self._call("CreateTemplate", "POST", "/templates", body))

    async def update_template(self, current: RemoteTemplate, desired: Template) -> RemoteTemplate:
        body = {"category": desired.category, "components": desired.canonical_components()}
        path = f"/templates/{current.id}"
        return self._template(await self._call("UpdateTemplate", "PUT", path, body))

    async def delete_template(self, current: RemoteTemplate) -> None:
        await self._call("DeleteTemplate", "DELETE", f"/templates/{current.id}")

    async def aclose(self) -> None:
        await self._http.aclose()


# --- its emulator: state in a JSON file, refuses any other token -----------------------------


def memo_emulator(options: EmulatorOptions) -> ASGIApp:
    token = options.credentials["token"]
    path = options.state_dir / "memo.json" if options.state_dir else None
    state: dict[str, Any] = {"next": 1, "codes": {}, "templates": {}}
    if path is not None and path.exists():
        state = json.loads(path.read_text())

    def save() -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(state))

    def new_id(prefix: str) -> str:
        state["next"] += 1
        return f"{prefix}{state['next']:04d}"

    async def qr(request: Request) -> Response:
        codes = state["codes"]
        code = request.path_params.get("code")
        if request.method == "GET":
            phone = request.query_params["phone"]
            return JSONResponse({"codes": [c for c in codes.values() if c["phone"] == phone]})
        if code is not None and code not in codes:
            return JSONResponse({"error": "no such code"}, status_code=404)
        if request.method == "DELETE":
            del codes[code]
            save()
            return Response(status_code=204)
        body = await request.json()
        if request.method == "POST":
            code = new_id("Q")
            codes[code] = {"code": code, **body}
        else:
            codes[code].update(body)
        save()
        return JSONResponse(codes[code])

    async def templates(request: Request) -> Response:
        held = state["templates"]
        id_ = request.path_params.get("id")
        if request.method == "GET":
            return JSONResponse({"templates": list(held.values())})
        if id_ is not None and id_ not in held:
            return JSONResponse({"error": "no such template"}, status_code=404)
        if request.method == "DELETE":
            del held[id_]
            save()
            return Response(status_code=204)
        body = await request.json()
        if request.method == "POST":
            id_ = new_id("T")
            held[id_] = {"id": id_, "status": "APPROVED", **body}
        else:
            held[id_].update(body)
        save()
        return JSONResponse(held[id_])

    app = Starlette(
        routes=[
            Route("/qr", qr, methods=["GET", "POST"]),
            Route("/qr/{code}", qr, methods=["PUT", "DELETE"]),
            Route("/templates", templates, methods=["GET", "POST"]),
            Route("/templates/{id}", templates, methods=["PUT", "DELETE"]),
        ]
    )

    async def guarded(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            if headers.get(b"authorization") != f"Bearer {token}".encode():
                await JSONResponse({"error": "bad token"}, status_code=401)(scope, receive, send)
                return
        await app(scope, receive, send)

    return guarded


def memo_client(
    account: MemoAccount, http: httpx.AsyncClient, gate: CallGate, reads: ReadRetry
) -> Provider:
    return MemoProvider(account, http, gate, reads)


MEMO = ProviderPlugin(
    traits=MEMO_TRAITS,
    account_model=MemoAccount,
    credentials={"token": Credential(example="${MEMO_TOKEN}", sandbox=SANDBOX_TOKEN)},
    limits=RateLimits(default=50.0),
    client=memo_client,
    emulator=memo_emulator,
)


@pytest.fixture
def memo() -> Iterator[ProviderPlugin[MemoAccount]]:
    registry.register(MEMO)
    try:
        yield MEMO
    finally:
        registry.unregister(MEMO.name)


# --- through the command line ---------------------------------------------------------------

PHONE = "15550001111"
CONFIG = "accounts:\n  shop-memo:\n    provider: memo\n    endpoint: sandbox\n"
SPECS = f"""\
qr_codes:
  - account: shop-memo
    phone: "{PHONE}"
    label: poster
    prefilled_message: Hello from the poster
templates:
  - account: shop-memo
    name: order_shipped
    language: en_US
    category: UTILITY
    components:
      - type: BODY
        text: "Your order {{{{1}}}} has shipped."
        example: {{body_text: [["12345"]]}}
"""


def spec_folder(root: Path, config: str = CONFIG, specs: str = SPECS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "wasync.yaml").write_text(config)
    (root / "specs.yaml").write_text(specs)
    return root


def test_a_registered_provider_goes_through_validate_plan_apply_plan(
    memo: ProviderPlugin[MemoAccount], tmp_path: Path
) -> None:
    root = spec_folder(tmp_path / "specs")

    result = wasync("validate", root)
    assert (result.exit_code, result.stderr) == (0, ""), result
    assert result.stdout == f"{root}: 1 template, 1 QR code in 1 file: valid\n"

    result = wasync("plan", root, "--format", "json", "--detailed-exitcode")
    assert result.exit_code == 2, result
    planned = json.loads(result.stdout)
    assert [(c["action"], c["address"]) for c in planned["changes"]] == [
        ("create", f"qr.shop-memo.{PHONE}.poster"),
        ("create", "template.shop-memo.order_shipped.en_US"),
    ]
    assert [(a["account"], a["provider"]) for a in planned["accounts"]] == [("shop-memo", "memo")]

    result = wasync("apply", root, "--auto-approve")
    assert result.exit_code == 0, result

    # The emulator holds both, in the account's own sandbox folder, reached with the
    # plugin's fake token (it refuses any other).
    state = json.loads((root / ".wasync" / "sandbox" / "shop-memo" / "memo.json").read_text())
    (qr,) = state["codes"].values()
    assert (qr["phone"], qr["message"]) == (PHONE, "Hello from the poster")
    (template,) = state["templates"].values()
    assert template["name"] == "order_shipped"
    assert template["components"][0]["text"] == "Your order {{1}} has shipped."

    result = wasync("plan", root, "--format", "json", "--detailed-exitcode")
    assert result.exit_code == 0, result
    again = json.loads(result.stdout)
    assert again["changes"] == [] and again["summary"]["has_changes"] is False

    # Apply pinned the code it created; a changed message is then an update in place (not
    # a replacement): memo keeps a QR code's code, so the pin stays.
    specs = root / "specs.yaml"
    assert f"    code: {qr['code']}\n" in specs.read_text()
    specs.write_text(specs.read_text().replace("from the poster", "from the new poster"))
    result = wasync("plan", root, "--format", "json")
    assert [(c["action"], c["remote_id"]) for c in json.loads(result.stdout)["changes"]] == [
        ("update", qr["code"])
    ]
    before = specs.read_text()
    result = wasync("apply", root, "--auto-approve")
    assert result.exit_code == 0, result
    assert "QR codes made" not in result.stdout and specs.read_text() == before
    state = json.loads((root / ".wasync" / "sandbox" / "shop-memo" / "memo.json").read_text())
    assert [(c["code"], c["message"]) for c in state["codes"].values()] == [
        (qr["code"], "Hello from the new poster")
    ]
    assert wasync("plan", root, "--detailed-exitcode").exit_code == 0


def test_its_account_fields_and_credentials_come_from_the_plugin(
    memo: ProviderPlugin[MemoAccount], tmp_path: Path
) -> None:
    real = "accounts:\n  shop-memo:\n    provider: memo\n    endpoint: https://memo.invalid\n"
    result = wasync("validate", spec_folder(tmp_path / "a", config=real))
    assert result.exit_code == 1, result
    required = "shop-memo.token: required for a real endpoint, e.g. token: ${MEMO_TOKEN}"
    assert required in result.stderr

    typo = "accounts:\n  shop-memo:\n    provider: mmeo\n"
    result = wasync("validate", spec_folder(tmp_path / "b", config=typo))
    assert result.exit_code == 1, result
    typo_message = (
        '"mmeo" is not a provider; did you mean memo? (allowed: cams, nxcloud, meta, memo)'
    )
    assert typo_message in result.stderr

    extra = CONFIG + "    appkey: k\n"
    result = wasync("validate", spec_folder(tmp_path / "c", config=extra))
    assert result.exit_code == 1, result
    assert "shop-memo.appkey: unknown key (allowed: " in result.stderr
    assert ", token)" in result.stderr


def test_its_traits_drive_the_spec_rules(memo: ProviderPlugin[MemoAccount], tmp_path: Path) -> None:
    """Memo keeps templates per account: a phone on one is refused, naming Memo."""
    specs = SPECS.replace(
        "    name: order_shipped", f'    phone: "{PHONE}"\n    name: order_shipped'
    )
    result = wasync("validate", spec_folder(tmp_path, specs=specs))
    assert result.exit_code == 1, result
    assert "phone: Memo templates belong to the account, not to a number" in result.stderr


def test_sandbox_serve_offers_registered_providers(memo: ProviderPlugin[MemoAccount]) -> None:
    result = wasync("sandbox", "serve", "--help")
    assert result.exit_code == 0, result
    assert "[cams|nxcloud|meta|memo]" in result.stdout
    result = wasync("sandbox", "serve", "--provider", "nope")
    assert result.exit_code == 1, result  # a usage error: one message, exit 1
    assert "'nope' is not one of 'cams', 'nxcloud', 'meta', 'memo'" in result.stderr


def test_registering_is_undone_and_names_stay_unique(memo: ProviderPlugin[MemoAccount]) -> None:
    assert registry.names()[-1] == "memo" and registry.get("memo") is memo
    with pytest.raises(ValueError, match="already registered"):
        registry.register(memo)
    registry.unregister("memo")
    with pytest.raises(
        ConfigError, match="no provider 'memo'; the providers are: cams, nxcloud, meta"
    ):
        registry.get("memo")
    registry.register(memo)  # for the fixture to take away again


def test_a_plugin_whose_model_names_another_provider_is_refused() -> None:
    with pytest.raises(ValueError, match=r"MemoAccount.provider must be Literal\['other'\]"):
        ProviderPlugin(
            traits=ProviderTraits(name="other", kinds=frozenset({"qr"})),
            account_model=MemoAccount,
            credentials={},
            limits=RateLimits(default=1.0),
            client=memo_client,
        )


# --- nothing else names a provider -----------------------------------------------------------

# What counts as naming a provider, outside its own folder (wasync/providers/<name>/), its
# emulator (wasync/sandbox/<name>*.py) and the registry, checked on the syntax tree so that
# prose does not count (comments, docstrings, and messages that mention a provider in a
# sentence, such as "CAMS lists QR codes per number"):
# - a string that is a provider's name ("cams") or its account class's ("CamsAccount"), or
#   names its modules ("wasync.sandbox.cams");
# - an import of a provider's or an emulator's modules;
# - any use of a provider's account class (isinstance(account, CamsAccount) and the like);
# - an identifier made of a provider's name (CAMS_TRAITS, NxcloudProvider).


def _allowed(path: Path, names: Collection[str]) -> bool:
    rel = path.relative_to(PACKAGE).as_posix()
    if rel == "providers/registry.py":
        return True
    for name in names:
        if rel.startswith(f"providers/{name}/") or re.fullmatch(rf"sandbox/{name}(_\w+)?\.py", rel):
            return True
    return False


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _words(identifier: str) -> set[str]:
    """``NxcloudProvider`` -> {"nxcloud", "provider"}; ``CAMS_TRAITS`` -> {"cams", "traits"}."""
    parts = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", identifier)
    return {p.lower() for p in parts}


def namings(source: str, names: Collection[str], classes: Collection[str]) -> list[str]:
    """Where ``source`` names one of the providers ``names`` (with account ``classes``)."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    modules = re.compile(rf"wasync\.(providers|sandbox)\.({'|'.join(names)})\b")
    found: list[str] = []

    def hit(node: ast.AST, what: str) -> None:
        found.append(f"line {getattr(node, 'lineno', '?')}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in docstrings:
                continue
            if node.value in names or node.value in classes or modules.search(node.value):
                hit(node, repr(node.value))
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            imported = [f"{module}.{a.name}" for a in node.names]
            if any(modules.match(m) for m in [module, *imported]):
                hit(node, f"from {module} import ...")
        elif isinstance(node, ast.Import):
            if any(modules.match(a.name) for a in node.names):
                hit(node, "import " + ", ".join(a.name for a in node.names))
        elif isinstance(node, ast.Name | ast.Attribute | ast.alias | ast.arg):
            identifier = {
                ast.Name: lambda n: n.id,
                ast.Attribute: lambda n: n.attr,
                ast.alias: lambda n: n.asname or n.name.rsplit(".", 1)[-1],
                ast.arg: lambda n: n.arg,
            }[type(node)](node)
            if identifier in classes:
                hit(node, f"account class {identifier}")
            elif _words(identifier) & set(names):
                hit(node, f"identifier {identifier}")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and _words(
            node.name
        ) & set(names):
            hit(node, f"definition {node.name}")
    return found


def test_the_check_finds_what_it_looks_for() -> None:
    names, classes = ("cams", "nxcloud"), ("CamsAccount",)
    bad = '''
"""A docstring may say cams."""
from wasync.providers.cams.client import CamsProvider  # a comment may too
import wasync.sandbox.nxcloud
if isinstance(account, CamsAccount):
    provider = "cams"
module = f"wasync.sandbox.{name}"
NXCLOUD_TRAITS = None
def load_cams(): ...
'''
    lines = {int(f.split()[1].rstrip(":")) for f in namings(bad, names, classes)}
    assert lines == {3, 4, 5, 6, 8, 9}
    fine = '"""cams"""\nmessage = "CAMS lists QR codes per number"\naccount = "shop-cams"\n'
    assert namings(fine, names, classes) == []


def test_only_the_registry_and_the_providers_own_folders_name_a_provider() -> None:
    names = registry.BUILTIN
    classes = {registry.get(name).account_model.__name__ for name in names}
    offences: list[str] = []
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 50  # the walk found the package
    for path in files:
        if _allowed(path, names):
            continue
        rel = path.relative_to(PACKAGE.parent)
        # The shared folder of Meta's WhatsApp shapes says whose shapes they are
        # (components_from_meta): the word names the upstream format there, not a provider.
        upstream = path.relative_to(PACKAGE).as_posix().startswith("providers/whatsapp/")
        said = [n for n in names if not (upstream and n == "meta")]
        offences += [f"{rel}: {f}" for f in namings(path.read_text(), said, classes)]
    assert offences == [], "\n".join(offences)
