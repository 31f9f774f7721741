"""`python -m ereput` and the `ereput` command.

Light on purpose: `ereput` starts here, and the CLI (typer, rich, the store, httpx) is
imported only once a command runs.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    from ereput.cli import main as cli_main

    try:
        cli_main()
    except SystemExit as done:
        code = done.code
    else:
        code = 0
    if code is None or isinstance(code, int):
        _exit(code or 0)
    raise SystemExit(code)


def _exit(code: int) -> None:
    """End the process once its output is written, without the interpreter's teardown:
    freeing the modules of typer, rich, httpx, aiohttp and SQLite took 70-100 ms after
    every command had finished, a third of a look-up's time. Every command has closed
    what it opened by then (its database, its worker, its temporary files: all context
    managers); what is left is memory. Output that cannot be written (a closed pipe) takes
    the usual way out."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        raise SystemExit(code) from None
    os._exit(code)


if __name__ == "__main__":
    main()
