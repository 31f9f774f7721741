"""`ereput author` as a readable terminal card."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ereput.render.safe import one_line

FLAG_STYLES = {"troll": "bold red", "invite": "bold green", "ambassador": "bold cyan"}


def author_card(p: dict[str, Any]) -> Panel:
    head = Text(one_line(p["name"]) or "(no name)", style="bold")
    klass = p["class"] + (f" · {p['role']}" if p["role"] else "")
    head.append(f"  {klass}  ", style="cyan")
    head.append(p["person_id"], style="dim")
    lines: list[Any] = [head]
    others = [n for n in p["names"] if n != p["name"]]
    if others:
        lines.append(Text("also seen as: " + ", ".join(one_line(n, 40) for n in others[:6])))
    facts = Text()
    facts.append(f"{p['mentions']} mentions")
    facts.append(f" (community {p['by_space']['community']}, open {p['by_space']['open']})")
    if p["first_seen"]:
        facts.append(f" · first {p['first_seen'][:10]} · last {p['last_seen'][:10]}")
    if p["sentiment"] is not None:
        facts.append(f" · sentiment {p['sentiment']:+.2f}")
    lines.append(facts)
    if p.get("reach_explained"):
        lines.append(Text(f"reach {p['reach_explained']}"))
    for f in p.get("flags_why") or [{"flag": f, "why": ""} for f in p["flags"]]:
        flag = Text(f"⚑ {f['flag']}", style=FLAG_STYLES.get(f["flag"], "yellow"))
        if f["why"]:
            flag.append(f": {f['why']}", style="default")
        lines.append(flag)
    if p["identifiers"]:
        t = Table(box=None, show_header=False, pad_edge=False)
        t.add_column(style="dim")
        t.add_column(overflow="fold")
        for i in p["identifiers"]:
            t.add_row(i["kind"], Text(one_line(i["value"])))
        lines.append(Text("identifiers", style="bold"))
        lines.append(t)
    if p["accounts"]:
        lines.append(Text("accounts", style="bold"))
        for a in p["accounts"]:
            account = Text(f"  {one_line(a['name']) or '—'} on {one_line(a['platform'])}")
            account.append(f" ({one_line(a['site'])})", style="dim")
            if a["profile_url"]:
                account.append(f"\n    {one_line(a['profile_url'])}", style="dim")
            lines.append(account)
    if p["sources"]:
        lines.append(
            Text(
                "sources: "
                + ", ".join(f"{one_line(s['source'])} {s['mentions']}" for s in p["sources"][:8])
            )
        )
    if p["recent"]:
        lines.append(Text("latest mentions", style="bold"))
        t = Table(box=None, show_header=False, pad_edge=False)
        t.add_column(no_wrap=True)
        t.add_column(no_wrap=True, style="dim")
        t.add_column(overflow="fold")
        for m in p["recent"]:
            line = Text(one_line(m["title"] or m["text"], 56))
            line.append("\n" + one_line(m["url"]), style="dim")
            t.add_row(m["published"][:10], m["space"][:4], line)
        lines.append(t)
    return Panel(Group(*lines), expand=False)


def print_author_card(p: dict[str, Any], console: Console) -> None:
    console.print(author_card(p))
