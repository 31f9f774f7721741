#!/usr/bin/env python3
"""Set-up and run in one command, on a machine that has only Python >= 3.11.

    python3 dev.py demo      # create .venv, install ereput, run `ereput demo`
    python3 dev.py test      # create .venv, install ereput with its test tools, ruff, mypy, pytest
    python3 dev.py bench     # install, then run the benchmarks (benchmarks/README.md)
    python3 dev.py ereput …  # install, then run any ereput command

Only the standard library is used here: this file is what installs everything else.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def run(*cmd: str | Path) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT)
    if result.returncode:
        sys.exit(result.returncode)


def ensure_venv(extras: str = "") -> None:
    """Create .venv and install the project into it, again only when pyproject.toml changed."""
    if sys.version_info < (3, 11):
        sys.exit(f"ereput needs Python >= 3.11; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print(f"+ creating {VENV.name}/", flush=True)
        venv.create(VENV, with_pip=True)
    spec = f".[{extras}]" if extras else "."
    stamp = VENV / f".installed{('-' + extras) if extras else ''}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != digest:
        run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", spec)
        stamp.write_text(digest)


def ensure_chromium() -> None:
    """Headless Chromium renders the HTML report in tests/test_report_html.py. Installed from
    the Debian package when missing and running as root with apt-get (about 20 s)."""
    names = ("chromium", "chromium-browser", "google-chrome")
    if os.environ.get("EREPUT_CHROMIUM") or any(shutil.which(n) for n in names):
        return
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        print("+ chromium is missing: the HTML screenshot test will be skipped", flush=True)
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
    ):
        print("+", " ".join(cmd), flush=True)
        if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode:
            sys.exit(f"{' '.join(cmd)} failed")


def main(argv: list[str]) -> None:
    task, rest = (argv[0], argv[1:]) if argv else ("", [])
    if task == "demo":
        ensure_venv()
        run(BIN / "ereput", "demo", *rest)
    elif task == "test":
        ensure_venv("test")
        ensure_chromium()
        run(BIN / "ruff", "check", *(d for d in ("src", "tests", "benchmarks")
                                     if (ROOT / d).is_dir()))
        run(BIN / "mypy", "src")
        run(BIN / "python", "-m", "pytest", *rest)
    elif task == "bench":
        ensure_venv("test")
        run(BIN / "python", "-m", "benchmarks", *rest)
    elif task == "ereput":
        ensure_venv()
        run(BIN / "ereput", *rest)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
