"""The report as text (rich, fits 80 columns) and Markdown. Takes the report's data only."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from ereput.render.safe import markdown, markdown_url, one_line

BARS = "▁▂▃▄▅▆▇█"


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
        q = r["quadrants"][space]
        grid.add_row(
            space,
            str(q["member"]),
            str(q["identified"]),
            str(q["anonymous"]),
            _sent(r["sentiment"][space]),
        )
    parts.append(grid)

    daily = r["daily"]
    vol = Text("Volume per day\n", style="bold")
    for space in ("community", "open"):
        values = [d[space] for d in daily]
        vol.append(f"  {space:<10} {sparkline(values)}  {sum(values)}\n")
    if daily:
        vol.append(f"  {'':<10} {daily[0]['date']} … {daily[-1]['date']}", style="dim")
    parts.append(vol)

    c = r["community"]
    comm = Text("Community\n", style="bold")
    roles = ", ".join(f"{k} {v}" for k, v in c["by_role"].items()) or "none"
    gauge = f"{c['active_members']}/{c['dunbar_limit']}"
    comm.append(
        f"  active members: {gauge} (Dunbar threshold"
        f"{' PASSED' if c['over_limit'] else ' not reached'}); by role: {roles}"
    )
    parts.append(comm)

    o = r["outside"]
    share = "n/a" if o["anonymous_share"] is None else f"{o['anonymous_share']:.0%}"
    parts.append(Text(f"Outside\n  anonymous share of open space: {share}", style="bold"))
    out = Table(box=box.SIMPLE_HEAD)
    out.add_column("most mediatized", overflow="fold")
    out.add_column("mentions", justify="right")
    out.add_column("sources", justify="right")
    for a in o["most_mediatized"][:5]:
        out.add_row(Text(one_line(a["name"], 40)), str(a["mentions"]), str(a["sources"]))
    if not o["most_mediatized"]:
        out.add_row("(no identified outside author)", "", "")
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

    act = Text("To act on\n", style="bold")
    for key, label in (
        ("invite_candidates", "invite"),
        ("trolls", "trolls"),
        ("ambassadors", "ambassadors"),
    ):
        people = r[key]
        act.append(f"  {label}: ")
        act.append(", ".join(one_line(x["name"], 30) for x in people) if people else "none")
        act.append("\n")
    parts.append(act)

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
    for space in ("community", "open"):
        q = r["quadrants"][space]
        lines.append(
            f"| {space} | {q['member']} | {q['identified']} | {q['anonymous']} | "
            f"{_sent(r['sentiment'][space])} |"
        )
    lines += ["", "## Volume per day", "", "| date | community | open |", "|---|---:|---:|"]
    lines += [f"| {d['date']} | {d['community']} | {d['open']} |" for d in r["daily"]]
    c = r["community"]
    roles = ", ".join(f"{k}: {v}" for k, v in c["by_role"].items()) or "none"
    lines += [
        "",
        "## Community",
        "",
        f"Active members: **{c['active_members']} / {c['dunbar_limit']}** "
        f"(Dunbar threshold {'passed' if c['over_limit'] else 'not reached'}). "
        f"By role: {roles}.",
        "",
    ]
    o = r["outside"]
    share = "n/a" if o["anonymous_share"] is None else f"{o['anonymous_share']:.0%}"
    lines += [
        "## Outside",
        "",
        f"Anonymous share of open space: {share}.",
        "",
        "| most mediatized | mentions | sources |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {markdown(a['name'])} | {a['mentions']} | {a['sources']} |"
        for a in o["most_mediatized"]
    ]
    if o["new_authors"]:
        lines += [
            "",
            "New authors: " + ", ".join(markdown(a["name"]) for a in o["new_authors"]) + ".",
        ]
    lines += ["", "| source | domain | mentions |", "|---|---|---:|"]
    lines += [
        f"| {markdown(s['source'])} | {markdown(s['domain'])} | {s['mentions']} |"
        for s in r["top_sources"]
    ]
    lines += ["", "## To act on", ""]
    for key, label in (
        ("invite_candidates", "Invite"),
        ("trolls", "Trolls"),
        ("ambassadors", "Ambassadors"),
    ):
        people = r[key]
        lines.append(
            f"- **{label}**: "
            + (
                "; ".join(f"{markdown(x['name'])} ({markdown(x.get('why', ''))})" for x in people)
                or "none"
            )
        )
    lines += ["", "## Top threads", ""]
    for x in r["top_threads"]:
        url = markdown_url(x["thread_url"])
        title = markdown(x["title"] or x["thread_url"], 120)
        lines.append(f"- {title} — {x['mentions']} mentions" + (f" <{url}>" if url else ""))
    if not r["top_threads"]:
        lines.append("none")
    return "\n".join(lines) + "\n"
