"""Command line: parse, dispatch to ``wasync.commands.<name>.run``, exit with its code.

No logic lives here. Each command hands its options, by their parameter names, to the
function of its ``wasync.commands`` module, whose signature is the one that types them. Exit codes:

- 0 success; 2 ``plan --detailed-exitcode`` found changes; 4 it found only changes that
  cannot be applied (blocked), so CI does not stay green while specs and remote disagree;
- 1 an error the user can act on (a bad spec, a missing variable, a provider's refusal, a
  wrong option, a file that cannot be written): one readable message, no traceback;
- 3 an internal error, i.e. a bug: two lines on stderr and a crash report (version,
  command, traceback, secrets redacted) in a file whose path they name;
- 130 interrupted (Ctrl-C) outside the apply's own graceful stop;
- 141 the reader of the output went away (``wasync plan | head -1``): the command still
  finishes its work, quietly.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from wasync import __version__
from wasync.errors import WasyncError
from wasync.gcpause import imports_frozen
from wasync.providers import registry

DIR = click.argument(
    "directory", type=click.Path(file_okay=False, path_type=Path), default=".", required=False
)
TARGET = click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="ADDR",
    help="Limit to this address (repeatable); a prefix such as qr.shop-cams selects a group.",
)
PRUNE = click.option(
    "--prune", is_flag=True, help="Also delete remote resources that no spec names."
)
REFRESH_CACHE = click.option(
    "--refresh-cache",
    is_flag=True,
    help="Ignore what .wasync/cache/ holds: read every detail from the provider again.",
)
FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="text for a terminal, markdown for a pull-request comment, json for machines.",
)


class ProviderChoice(click.Choice[str]):
    """The registry's provider names, read when they are needed (so a provider registered
    after this module was imported is a choice too); naming them imports no provider."""

    def __init__(self) -> None:
        super().__init__(registry.names())

    @property
    def choices(self) -> tuple[str, ...]:
        return registry.names()

    @choices.setter
    def choices(self, value: object) -> None:
        """click.Choice sets its choices once; these are always the registry's."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wasync")
@click.option("--debug", is_flag=True, help="Log each HTTP call to stderr (secrets redacted).")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Keep WhatsApp Business message templates and QR codes in git.

    Specs in DIR (default: the current folder, holding wasync.yaml) describe what should
    exist; `plan` shows what would change and `apply` makes it so.
    """
    ctx.obj = {"debug": debug}
    if debug:
        from wasync.log import enable_debug

        enable_debug()


@cli.command()
@DIR
def validate(**options: Any) -> None:
    """Check wasync.yaml and every spec file against WhatsApp's rules, offline."""
    with imports_frozen():
        from wasync.commands import validate as command

    sys.exit(command.run(**options))


@cli.command()
@DIR
@FORMAT
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Save the plan for apply."
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when there are changes to apply, 4 when every difference is blocked "
    "(cannot be applied: see the plan's way out), 0 when there is none.",
)
@TARGET
@PRUNE
@REFRESH_CACHE
@click.option(
    "--verbose",
    is_flag=True,
    help="Then print how many calls each account's provider took (JSON: provider_calls).",
)
def plan(**options: Any) -> None:
    """Show what apply would change, without changing anything."""
    with imports_frozen():
        from wasync.commands import plan as command

    sys.exit(command.run(**options))


@cli.command()
@DIR
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Apply this saved plan; refused if the remote changed since it was made.",
)
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@TARGET
@PRUNE
@click.option("--force", is_flag=True, help="Go past the per-account change thresholds.")
@click.option(
    "--wait",
    is_flag=True,
    help="Then wait until each template it created or updated leaves review, and print "
    "each verdict; exit 1 if any is not approved.",
)
@click.option(
    "--wait-timeout",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="How long --wait waits for review  [default: 900].",
)
@click.option(
    "--no-write-codes",
    is_flag=True,
    help="Do not write the codes of new QR codes into the spec files (code:); print them.",
)
@click.option(
    "--codes-out",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Also write the QR codes apply created or replaced, with their links and pins, as "
    "JSON to FILE (for a workflow that commits the pins).",
)
@REFRESH_CACHE
def apply(**options: Any) -> None:
    """Make the remote match the specs: create, update and delete, within rate limits."""
    with imports_frozen():
        from wasync.commands import apply as command

    sys.exit(command.run(**options))


@cli.command()
@click.argument("plan_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@FORMAT
def show(**options: Any) -> None:
    """Render a saved plan (wasync plan --out PLAN.json), checked as apply checks it."""
    with imports_frozen():
        from wasync.commands import show as command

    sys.exit(command.run(**options))


@cli.command()
@DIR
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write index.html to (created if missing).",
)
def preview(**options: Any) -> None:
    """Write an HTML page of every template as a chat bubble, offline, for review."""
    with imports_frozen():
        from wasync.commands import preview as command

    sys.exit(command.run(**options))


@cli.command(name="import")
@DIR
@click.option("--account", required=True, help="The wasync.yaml account to read from.")
@click.option(
    "--phone",
    "phones",
    multiple=True,
    metavar="NUMBER",
    help="Also read this business number (repeatable), for a provider that lists QR codes "
    "or templates per number; the numbers the account's specs name are always read.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Rewrite spec entries that differ from the provider to match it (default: report "
    "them and leave them as they are).",
)
def import_(**options: Any) -> None:
    """Write spec files for what an account holds today.

    New entries go to DIR/imported/<account>-qr-codes.yaml and <account>-templates.yaml;
    a plan right after shows no changes.
    """
    with imports_frozen():
        from wasync.commands import import_ as command

    sys.exit(command.run(**options))


@cli.group()
def qr() -> None:
    """Message QR codes: print-ready images of the codes the specs manage."""


@qr.command(name="export")
@DIR
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the images and index.csv to (created if missing).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["svg", "png"]),
    default="svg",
    show_default=True,
    help="svg (vector, for print) or png.",
)
@TARGET
def qr_export(**options: Any) -> None:
    """Write one image per managed QR code, encoding its deep link, and index.csv.

    Reads the providers (a code's deep link is theirs); entries without a code yet, or whose
    code the next apply replaces, are listed and not exported (exit 1).
    """
    with imports_frozen():
        from wasync.commands import qr as command

    sys.exit(command.export(**options))


@cli.command()
@click.option(
    "--config", is_flag=True, help="The schema of wasync.yaml instead (its accounts' keys)."
)
def schema(**options: Any) -> None:
    """Print the JSON Schema of spec files, for yaml-language-server and editors."""
    with imports_frozen():
        from wasync.commands import schema as command

    sys.exit(command.run(**options))


@cli.group()
def sandbox() -> None:
    """Local emulators of the providers, for trying wasync without an account."""


@sandbox.command()
@click.option("--provider", type=ProviderChoice(), required=True, help="API to emulate.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True)
@click.option(
    "--state",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep state in this folder across restarts (default: in memory).",
)
@click.option(
    "--qps", type=float, help="Requests per second per access key and API (default: documented)."
)
@click.option("--latency-ms", type=float, default=0.0, show_default=True)
@click.option(
    "--page-cap",
    type=click.IntRange(min=1),
    help="Return at most N items a page in listings, whatever the client asks.",
)
@click.option(
    "--fault-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of requests that are throttled, fail with 5xx, drop the connection or stall.",
)
@click.option(
    "--access-key-id",
    help="The access key id it accepts, for a provider whose credentials are a key id and a "
    "secret. [default: sandbox-access-key-id]",
)
@click.option(
    "--access-key-secret",
    help="The secret it accepts, with --access-key-id. [default: sandbox-access-key-secret]",
)
@click.option(
    "--credential",
    "credentials",
    multiple=True,
    metavar="FIELD=VALUE",
    help="A credential it accepts, by its field in wasync.yaml (repeatable), e.g. "
    "--credential access_token=... Default: the provider's published sandbox value.",
)
def serve(**options: Any) -> None:
    """Serve a provider's emulator over HTTP until interrupted."""
    with imports_frozen():
        from wasync.commands import sandbox as command

    sys.exit(command.serve(**options))


@sandbox.command()
@DIR
def reset(**options: Any) -> None:
    """Forget everything the embedded sandbox accounts hold (.wasync/sandbox/)."""
    with imports_frozen():
        from wasync.commands import sandbox as command

    sys.exit(command.reset(**options))


EXIT_ERROR = 1
EXIT_BUG = 3
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


def main() -> None:
    """Entry point: user errors are one message and exit 1; bugs exit 3 with a report."""
    from wasync.output import broken_pipe, guard_streams

    # pydantic looks for its plugins (entry points of every installed distribution) when the
    # first model is built: a scan of site-packages worth several ms at every start, for
    # plugins that wasync does not use. A user who wants them sets the variable themselves.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    # httpx loads its own command line (click, rich's console, tables and progress,
    # pygments) whenever click and rich are installed, as they are here: about 70 modules
    # and 6 MB that wasync never uses. A None entry makes that one import fail the
    # documented way (httpx then offers a stub `httpx` command). Only the wasync program
    # does this; a program that imports wasync as a library keeps httpx as it is.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    guard_streams()
    code = _run()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # guarded: a closed pipe here only marks the output as cut short
    if broken_pipe() and code in (0, 2, 4):  # 2 and 4: plan --detailed-exitcode
        code = EXIT_BROKEN_PIPE
    sys.exit(code)


def _run() -> int:
    try:
        result = cli.main(standalone_mode=False)
        return result if isinstance(result, int) else 0  # --help, --version
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_ERROR)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):
            click.echo("Interrupted.", err=True)
            return EXIT_INTERRUPTED
        click.echo("Aborted.", err=True)
        return EXIT_ERROR
    except click.ClickException as exc:
        exc.show()
        # click gives usage errors exit 2, which is `plan --detailed-exitcode`'s "changes".
        return EXIT_ERROR
    except WasyncError as exc:
        from wasync.output import visible

        click.echo(f"Error: {visible(str(exc))}", err=True)  # it may quote a provider's reply
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return EXIT_INTERRUPTED
    except OSError as exc:
        if exc.filename is None:
            return _crashed(exc)
        # A file or folder wasync could not use: the user's to fix, not a bug.
        where = str(exc.filename) + (f" -> {exc.filename2}" if exc.filename2 else "")
        click.echo(f"Error: {where}: {exc.strerror or exc}", err=True)
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - the last line of defence: report, never trace
        return _crashed(exc)


def _crashed(exc: BaseException) -> int:
    from wasync.crash import render, report_crash
    from wasync.log import debug_enabled
    from wasync.output import visible

    summary = visible(f"{type(exc).__name__}: {exc}".splitlines()[0][:200])
    if debug_enabled():
        click.echo(visible(render(exc)), err=True)
    path = report_crash(exc)
    click.echo(f"wasync hit an internal error ({summary}); this is a bug.", err=True)
    if path is not None:
        click.echo(f"A crash report is in {path}; please attach it to a bug report.", err=True)
    elif not debug_enabled():
        click.echo("The crash report could not be written to a file; here it is:", err=True)
        click.echo(visible(render(exc)), err=True)
    return EXIT_BUG
