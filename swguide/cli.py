"""The `swguide` command: a thin shell over the Python API, assembled here from the
assistant's commands (`assistant.cli.commands`) and the eval suite's (`evals.cli`).

Every deliberate error is a SwguideError whose message says the fix; it is printed as
one line on stderr with exit code 2. Anything unexpected is one line too (exit 1);
`--debug` shows the traceback instead.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from assistant.cli import commands
from evals.cli import evaluate
from swguide import offline
from swguide.console import Context, say
from swguide.errors import SwguideError
from swguide.text import one_line


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", type=click.Path(path_type=Path), help="Settings file (TOML).")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help="Where the index and the prepared model live [SWGUIDE_DATA_DIR].",
)
@click.option("--chroma-host", help="Use the Chroma server on this host.")
@click.option("--chroma-port", type=int, help="Port of the Chroma server.")
@click.option("--debug", is_flag=True, help="Show tracebacks of unexpected errors.")
@click.version_option(package_name="swguide")
@click.pass_context
def cli(
    ctx: click.Context,
    config: Path | None,
    data_dir: Path | None,
    chroma_host: str | None,
    chroma_port: int | None,
    debug: bool,
) -> None:
    """Cited answers from the professional guidance on social media."""
    chroma = {k: v for k, v in (("host", chroma_host), ("port", chroma_port)) if v}
    overrides: dict[str, Any] = {"data_dir": data_dir, "chroma": chroma or None}
    ctx.obj = Context(overrides, config, debug)


for command in (*commands.COMMANDS, evaluate):
    cli.add_command(command)


def _fail(message: str, code: int) -> NoReturn:
    say(f"swguide: {one_line(message)}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    offline.enforce()
    debug = "--debug" in (argv if argv is not None else sys.argv)
    try:
        cli.main(args=argv, prog_name="swguide", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.Abort:
        _fail("interrupted", 130)
    except SwguideError as error:
        _fail(str(error), 2)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as error:
        if debug:
            raise
        _fail(f"unexpected {type(error).__name__}: {error} (rerun with --debug for details)", 1)
