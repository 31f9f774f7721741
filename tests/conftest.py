from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# The real local HTTP server (tests/httpserver.py) as fixtures for every test module.
pytest_plugins = ["httpserver"]

# Property-based tests are deterministic by default (the same examples on every run, so CI
# is reproducible); `HYPOTHESIS_PROFILE=explore` draws new ones, more of them, and saves
# failures in .hypothesis/.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]
# The shared real-world corpus, read in place beside the checkout (never copied in).
CORPUS = ROOT.parent / "shared" / "corpus"


def manifest() -> dict[str, dict]:
    """MANIFEST.tsv rows keyed by path, with `expected` decoded."""
    rows: dict[str, dict] = {}
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            row["expected"] = json.loads(row["expected"])
            rows[row["path"]] = row
    return rows


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """No test touches the real user data directory or a real watchlist folder."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("EREPUT_DB", str(home / "ereput.db"))
    monkeypatch.delenv("EREPUT_WATCHLIST", raising=False)
    # Loopback only: no proxy from the environment may see test traffic.
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
