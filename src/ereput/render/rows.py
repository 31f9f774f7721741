"""Listings as JSON, newline-delimited JSON or CSV, like sqlite-utils."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from ereput.render.safe import csv_cell


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def to_nl(rows: Sequence[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def _flat(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        elif isinstance(v, list):
            out[prefix + k] = json.dumps(v, ensure_ascii=False)
        else:
            out[prefix + k] = v
    return out


def to_csv(rows: Sequence[dict[str, Any]], *, dialect: str = "default") -> str:
    """Nested keys flattened as `author.name`; lists as JSON; formulas neutralised.

    `dialect="fr"` suits French spreadsheet software: `;` separator and a UTF-8 BOM.
    """
    flat = [_flat(r) for r in rows]
    columns: list[str] = []
    for r in flat:
        columns.extend(k for k in r if k not in columns)
    buf = io.StringIO()
    # RFC 4180 line ends: then a cell holding a lone CR is quoted too (with "\n" it is not).
    writer = csv.writer(buf, delimiter=";" if dialect == "fr" else ",", lineterminator="\r\n")
    writer.writerow(columns)
    for r in flat:
        writer.writerow([csv_cell(r.get(c)) if r.get(c) is not None else "" for c in columns])
    return ("\ufeff" if dialect == "fr" else "") + buf.getvalue()
