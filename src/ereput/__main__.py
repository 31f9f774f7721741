"""`python -m ereput` and the `ereput` command.

Light on purpose: `ereput` starts here, and the CLI (typer, rich, the store, httpx) is
imported only once a command runs.
"""

from __future__ import annotations


def main() -> None:
    from ereput.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
