"""`python -m ereput` and the `ereput` command.

Light on purpose: the scan's worker process imports the main script again (multiprocessing
starts it with "spawn"), and must not pay for the CLI (typer, rich, the store, httpx).
"""

from __future__ import annotations


def main() -> None:
    from ereput.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
