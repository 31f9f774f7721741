"""The report as text (rich, fits 80 columns) and Markdown. Takes the report's data only."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ereput.render.safe import markdown, markdown_url, one_line

BARS = "▁▂▃▄▅▆▇█"
PEOPLE_SHOWN = 25  # invitation candidates, trolls, ambassadors listed in md and html


def sparkline(values: list[int]) -> str:
    top = max(values, default=0)
    if top == 0:
        return BARS[0] * len(values)
    return "".join(BARS[min(len(BARS) - 1, round(v / top * (len(BARS) - 1)))] for v in values)


def _delta(now: int, before: int) -> str:
    diff = now - before
    pct = f" ({diff / before:+.0%})" if before else ""
    return f"{diff:+d}{pct}"


def _sent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def _cell(r: dict[str, Any], space: str, klass: str) -> str:
    """A grid cell with its change against the previous period, when known."""
    now = r["quadrants"][space][klass]
    before = r.get("previous", {}).get("quadrants")
    return f"{now} ({now - before[space][klass]:+d})" if before else str(now)


def gauge(active: int, limit: int, width: int = 30) -> str:
    """The Dunbar threshold as a bar: filled up to the active members, `│` at the limit."""
    scale = max(limit * 1.25, active, 1)
    mark = min(width - 1, round(width * limit / scale))
    filled = min(width, round(width * active / scale))
    cells = ["█" if i < filled else "░" for i in range(width)]
    cells[mark] = "┃" if mark >= filled else "╋"
    return "".join(cells)


def spike_marks(daily: list[dict[str, Any]]) -> str:
    return "".join("▲" if d.get("spike") else " " for d in daily)


def _reach(a: dict[str, Any]) -> str:
    value = a.get("reach")
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "n/a"
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}{suffix}"
    return f"{value:g}"


def _merge(days: list[dict[str, Any]]) -> dict[str, Any]:
    """Several days as one sparkline cell (a long period in 80 columns)."""
    if len(days) == 1:
        return days[0]
    out: dict[str, Any] = {
        k: sum(d.get(k, 0) for d in days) for k in ("community", "open", "negative")
    }
    out["spike"] = any(d.get("spike") for d in days)
    return out


def _why(x: dict[str, Any], limit: int) -> str:
    return one_line(str(x.get("why") or ""), limit)


def _md_links(urls: object) -> str:
    """`[1](…) [2](…)`: http(s) targets only, with every character that could end the link
    percent-encoded (`markdown_url`)."""
    if not isinstance(urls, list):
        return ""
    safe = [u for u in (markdown_url(x) for x in urls if isinstance(x, str)) if u]
    return " ".join(f"[{i}]({u})" for i, u in enumerate(safe, 1))


def text_report(r: dict[str, Any]) -> RenderableType:
    p, t = r["period"], r["totals"]
    parts: list[RenderableType] = []
    head = Text()
    head.append(f"{one_line(r['title'])} — {p['label']}", style="bold")
    head.append(f"  ({p['start']} → {p['end']}, {r['timezone']})\n", style="dim")
    head.append(
        f"{t['mentions']} mentions, {_delta(t['mentions'], t['previous'])} "
        f"against the previous period ({t['previous']})"
    )
    parts.append(head)

    grid = Table(title="Space × class", box=box.SIMPLE_HEAD, title_justify="left")
    grid.add_column("space")
    for c in ("member", "identified", "anonymous"):
        grid.add_column(c, justify="right")
    grid.add_column("sentiment", justify="right")
    for space in ("community", "open"):
        grid.add_row(
            space,
            _cell(r, space, "member"),
            _cell(r, space, "identified"),
            _cell(r, space, "anonymous"),
            _sent(r["sentiment"][space]),
        )
    parts.append(grid)

    daily = r["daily"]
    vol = Text("Volume per day\n", style="bold")
    width = 80 - 2 - 11 - 8  # the sparkline's room in 80 columns
    step = max(1, -(-len(daily) // width))
    shown = [_merge(daily[i : i + step]) for i in range(0, len(daily), step)]
    for space in ("community", "open"):
        values = [d[space] for d in shown]
        vol.append(f"  {space:<10} {sparkline(values)}  {sum(d[space] for d in daily)}\n")
    if any(d.get("negative") for d in daily):
        values = [d.get("negative", 0) for d in shown]
        vol.append(f"  {'negative':<10} ")
        vol.append(sparkline(values), style="red")
        vol.append(f"  {sum(d.get('negative', 0) for d in daily)}\n")
    if any(d.get("spike") for d in daily):
        vol.append(f"  {'spikes':<10} ")
        vol.append(spike_marks(shown) + "\n", style="bold red")
    if daily:
        vol.append(f"  {'':<10} {daily[0]['date']} … {daily[-1]['date']}", style="dim")
    for sp in r.get("spikes", []):
        vol.append(
            # One line at 80 columns: "▲ 2026-11-17: 12 mentions, 4 negative: volume,
            # negative > 2.0× 7-day avg".
            f"\n  ▲ {sp['date']}: {sp['mentions']} mentions, {sp.get('negative', 0)} negative: "
            f"{', '.join(sp.get('on', []))} > {sp.get('factor')}× 7-day avg",
            style="red",
        )
    parts.append(vol)

    c = r["community"]
    comm = Text("Community\n", style="bold")
    roles = ", ".join(f"{k} {v}" for k, v in c["by_role"].items()) or "none"
    before = r.get("previous", {}).get("active_members")
    change = "" if before is None else f", {c['active_members'] - before:+d} on the previous period"
    comm.append(f"  active members: {c['active_members']}/{c['dunbar_limit']}{change}\n  ")
    comm.append(
        gauge(c["active_members"], c["dunbar_limit"]),
        style="red" if c["over_limit"] else "green",
    )
    comm.append(
        f" Dunbar threshold {'PASSED' if c['over_limit'] else 'not reached'}\n  by role: {roles}"
    )
    parts.append(comm)

    o = r["outside"]
    share = "n/a" if o["anonymous_share"] is None else f"{o['anonymous_share']:.0%}"
    parts.append(Text(f"Outside\n  anonymous share of open space: {share}", style="bold"))
    out = Table(box=box.SIMPLE_HEAD)
    out.add_column("most mediatized", overflow="fold")
    out.add_column("mentions", justify="right")
    out.add_column("sources", justify="right")
    out.add_column("reach", justify="right")
    for a in o["most_mediatized"][:5]:
        out.add_row(Text(one_line(a["name"], 40)), str(a["mentions"]), str(a["sources"]), _reach(a))
    if not o["most_mediatized"]:
        out.add_row("(no identified outside author)", "", "", "")
    parts.append(out)
    if o["new_authors"]:
        parts.append(
            Text(
                "  new authors: "
                + ", ".join(one_line(a["name"], 30) or "(no name)" for a in o["new_authors"][:8])
            )
        )

    src = Table(title="Top sources", box=box.SIMPLE_HEAD, title_justify="left")
    src.add_column("source", overflow="fold")
    src.add_column("domain", overflow="fold")
    src.add_column("mentions", justify="right")
    for s in r["top_sources"][:8]:
        src.add_row(
            Text(one_line(s["source"], 30)), Text(one_line(s["domain"], 30)), str(s["mentions"])
        )
    parts.append(src)

    parts.append(Text("To act on", style="bold"))
    for key, label in (
        ("invite_candidates", "invite"),
        ("trolls", "trolls"),
        ("ambassadors", "ambassadors"),
    ):
        people = r[key]
        parts.append(Text(f"  {label}:" + ("" if people else " none")))
        listing = Table.grid()
        listing.add_column(width=2)  # a bullet: a reason that wraps stays under its person
        listing.add_column(overflow="fold")
        for x in people[:8]:
            line = Text(one_line(x["name"], 30) or "(no name)", style="bold")
            if x.get("why"):
                line.append(f" — {_why(x, 150)}")
            links = [u for u in x.get("links") or [] if markdown_url(u)]
            if links:
                line.append(f"\n{one_line(links[0], 200)}", style="dim")
            listing.add_row("•", line)
        if len(people) > 8:
            more = f"… and {len(people) - 8} more (--format json lists them all)"
            listing.add_row("", Text(more))
        if people:
            parts.append(Padding(listing, (0, 0, 0, 4)))

    if r["top_threads"]:
        th = Table(title="Top threads", box=box.SIMPLE_HEAD, title_justify="left")
        th.add_column("thread", overflow="fold")
        th.add_column("mentions", justify="right")
        for x in r["top_threads"][:5]:
            th.add_row(Text(one_line(x["title"] or x["thread_url"], 60)), str(x["mentions"]))
        parts.append(th)
    return Group(*parts)


def print_text_report(r: dict[str, Any], console: Console) -> None:
    console.print(text_report(r))


def markdown_report(r: dict[str, Any]) -> str:
    p, t = r["period"], r["totals"]
    lines = [
        f"# {markdown(r['title'])} — {p['label']}",
        "",
        f"{p['start']} → {p['end']} ({r['timezone']}). **{t['mentions']} mentions**, "
        f"{_delta(t['mentions'], t['previous'])} against the previous period "
        f"({r['previous']['start']} → {r['previous']['end']}: {t['previous']}).",
        "",
        "## Space × class",
        "",
        "| space | member | identified | anonymous | sentiment |",
        "|---|---:|---:|---:|---:|",
    ]
    before = r.get("previous", {})
    for space in ("community", "open"):
        was = before.get("sentiment", {}).get(space) if before.get("sentiment") else None
        lines.append(
            f"| {space} | {_cell(r, space, 'member')} | {_cell(r, space, 'identified')} | "
            f"{_cell(r, space, 'anonymous')} | {_sent(r['sentiment'][space])}"
            + (f" (was {_sent(was)})" if was is not None else "")
            + " |"
        )
    if before.get("quadrants"):
        lines += ["", "In brackets: the change against the previous period."]
    lines += [
        "",
        "## Volume per day",
        "",
        "| date | community | open | negative | |",
        "|---|---:|---:|---:|---|",
    ]
    lines += [
        f"| {d['date']} | {d['community']} | {d['open']} | {d.get('negative', 0)} | "
        f"{'**spike**' if d.get('spike') else ''} |"
        for d in r["daily"]
    ]
    for sp in r.get("spikes", []):
        if sp is r.get("spikes", [])[0]:
            lines += ["", "Spikes:", ""]
        lines.append(
            f"- **{sp['date']}**: {sp['mentions']} mentions, {sp.get('negative', 0)} negative "
            f"({' and '.join(sp.get('on', []))} over {sp.get('factor')}× the average of the "
            f"7 days before: {sp.get('trailing_average')}). {_md_links(sp.get('links'))}".rstrip()
        )
    c = r["community"]
    roles = ", ".join(f"{k}: {v}" for k, v in c["by_role"].items()) or "none"
    was_active = before.get("active_members")
    lines += [
        "",
        "## Community",
        "",
        f"Active members: **{c['active_members']} / {c['dunbar_limit']}** "
        f"(Dunbar threshold {'passed' if c['over_limit'] else 'not reached'})"
        + (
            ""
            if was_active is None
            else f", {c['active_members'] - was_active:+d} on the previous period"
        )
        + f". By role: {roles}.",
        "",
        f"`{gauge(c['active_members'], c['dunbar_limit'])}` (┃ = Dunbar threshold)",
        "",
    ]
    o = r["outside"]
    share = "n/a" if o["anonymous_share"] is None else f"{o['anonymous_share']:.0%}"
    lines += [
        "## Outside",
        "",
        f"Anonymous share of open space: {share}.",
        "",
        "| most mediatized | mentions | sources | reach | links |",
        "|---|---:|---:|---:|---|",
    ]
    lines += [
        f"| {markdown(a['name'])} | {a['mentions']} | {a['sources']} | {_reach(a)} | "
        f"{_md_links(a.get('links'))} |"
        for a in o["most_mediatized"]
    ]
    if o["new_authors"]:
        lines += ["", "New authors:", ""]
        lines += [
            f"- {markdown(a['name']) or '(no name)'} ({a['mentions']}) "
            f"{_md_links(a.get('links'))}".rstrip()
            for a in o["new_authors"]
        ]
    lines += ["", "| source | domain | mentions |", "|---|---|---:|"]
    lines += [
        f"| {markdown(s['source'])} | {markdown(s['domain'])} | {s['mentions']} |"
        for s in r["top_sources"]
    ]
    lines += ["", "## To act on", ""]
    for key, label in (
        ("invite_candidates", "Invitation candidates"),
        ("trolls", "Trolls"),
        ("ambassadors", "Ambassadors"),
    ):
        people = r[key]
        lines.append(f"- **{label}**:" + ("" if people else " none"))
        for x in people[:PEOPLE_SHOWN]:
            why = markdown(str(x.get("why") or ""), 300)
            links = _md_links(x.get("links"))
            lines.append(
                f"  - {markdown(x['name']) or '(no name)'}"
                + (f" — {why}" if why else "")
                + (f" {links}" if links else "")
            )
        if len(people) > PEOPLE_SHOWN:
            lines.append(f"  - … and {len(people) - PEOPLE_SHOWN} more (the JSON report lists all)")
    lines += ["", "## Top threads", ""]
    for x in r["top_threads"]:
        url = markdown_url(x["thread_url"])
        title = markdown(x["title"] or x["thread_url"], 120)
        lines.append(
            (f"- [{title}]({url})" if url else f"- {title}") + f" — {x['mentions']} mentions"
        )
    if not r["top_threads"]:
        lines.append("none")
    return "\n".join(lines) + "\n"
