"""The report as one self-contained HTML file (SPEC §5): inline CSS, inline SVG charts, no
script at all, nothing loaded from the network, readable on a phone. Takes the report's
data only; every fetched string goes through `_e` (escaped, control characters removed) and
every link through `_a` (http(s) only)."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from ereput import __version__
from ereput.render.report import PEOPLE_SHOWN
from ereput.render.safe import http_url, one_line

COMMUNITY = "#2563eb"
OPEN = "#f59e0b"
NEGATIVE = "#dc2626"
POSITIVE = "#16a34a"
MUTED = "#6b7280"
GRID = "#e5e7eb"
CLASSES = ("member", "identified", "anonymous")
SPACES = ("community", "open")

CSS = """
:root{--ink:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f3f4f6;--card:#fff;
--community:#2563eb;--open:#f59e0b;--neg:#dc2626;--pos:#16a34a}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:980px;margin:0 auto;padding:16px}
header{background:#0f172a;color:#f8fafc;border-radius:12px;padding:20px 22px;margin-bottom:16px}
header h1{margin:0 0 4px;font-size:1.45rem;line-height:1.25}
header p{margin:0;color:#cbd5e1}
h2{font-size:1.05rem;margin:0 0 10px}
h3{font-size:.95rem;margin:14px 0 6px;color:#374151}
section{background:var(--card);border-radius:12px;padding:16px 18px;margin-bottom:16px;
box-shadow:0 1px 2px rgba(0,0,0,.06)}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:10px;
margin-bottom:16px}
.kpi{background:var(--card);border-radius:12px;padding:12px 14px;
box-shadow:0 1px 2px rgba(0,0,0,.06)}
.kpi b{display:block;font-size:1.6rem;line-height:1.2}
.kpi span{color:var(--muted);font-size:.85rem}
.up{color:var(--pos)}.down{color:var(--neg)}.flat{color:var(--muted)}
.bad{color:var(--neg);font-weight:600}
.two{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:16px}
svg{display:block;width:100%;height:auto;max-width:100%}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:.85rem;color:var(--muted);margin:6px 0 0}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;
vertical-align:-1px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;font-size:.8rem;text-transform:uppercase;letter-spacing:.03em}
td{overflow-wrap:anywhere}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
ul.people{list-style:none;margin:0;padding:0}
ul.people li{padding:8px 0;border-bottom:1px solid var(--line)}
ul.people li:last-child{border-bottom:0}
ul.invite li,ul.trolls li,ul.ambassadors li{border-left:3px solid var(--pos);padding-left:10px;
margin-bottom:6px;border-bottom:0}
ul.trolls li{border-left-color:var(--neg)}ul.ambassadors li{border-left-color:var(--community)}
.why{color:#374151;font-size:.88rem}
.tag{display:inline-block;font-size:.75rem;padding:1px 7px;border-radius:99px;background:#eef2ff;
color:#3730a3;margin-left:4px}
.links a{display:inline-block;font-size:.78rem;margin:2px 4px 0 0;padding:0 6px;border-radius:4px;
background:#f1f5f9;color:#1d4ed8;text-decoration:none}
a{color:#1d4ed8;overflow-wrap:anywhere}
.none{color:var(--muted);font-style:italic}
footer{color:var(--muted);font-size:.8rem;text-align:center;padding:8px 0 24px}
.narrow{display:none}
@media (max-width:600px){.wide{display:none}.narrow{display:block}}
@media print{body{background:#fff}section,.kpi{box-shadow:none;border:1px solid var(--line)}}
@media (max-width:520px){main{padding:10px}header{padding:16px}section{padding:12px}
.kpi b{font-size:1.3rem}th,td{padding:5px 4px}}
"""


def _e(text: object, limit: int | None = None) -> str:
    """Escaped for HTML text and attribute values, on one line, without control characters."""
    return html.escape(one_line(str(text) if text is not None else "", limit), quote=True)


def _a(url: object, label: str, *, title: bool = True) -> str:
    """A link when `url` is http(s), else the label alone (already escaped)."""
    href = http_url(url if isinstance(url, str) else None)
    if href is None:
        return label
    tip = f' title="{html.escape(href, quote=True)}"' if title else ""
    return (
        f'<a href="{html.escape(href, quote=True)}"{tip} rel="noopener noreferrer nofollow">'
        f"{label}</a>"
    )


def _links(urls: object) -> str:
    if not isinstance(urls, list):
        return ""
    items = [_a(u, f"[{i}]") for i, u in enumerate(urls, 1) if http_url(u)]
    return f'<div class="links">{"".join(items)}</div>' if items else ""


def _num(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _delta(
    now: float | None, before: float | None, *, pct: bool = True, fmt: str = "+d", unit: str = ""
) -> str:
    """`+12 (+30%)` against the previous period, coloured by direction."""
    if now is None or before is None:
        return '<span class="flat">n/a before</span>'
    diff = now - before
    css = "up" if diff > 0 else "down" if diff < 0 else "flat"
    text = format(int(diff) if fmt == "+d" else diff, fmt) + unit
    if pct and before:
        text += f" ({diff / before:+.0%})"
    return f'<span class="{css}">{text}</span>'


def _sent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def _nice_max(top: float, ticks: int = 4) -> float:
    """The top of an axis of `ticks` equal steps of 1, 2 or 5 × 10ⁿ that holds `top`."""
    if top <= 0:
        return ticks
    unit = 1.0
    while True:
        for m in (1, 2, 5):
            if top <= m * unit * ticks:
                return m * unit * ticks
        unit *= 10


# --- charts --------------------------------------------------------------------------------


def volume_chart(daily: Sequence[dict[str, Any]], w: int = 640) -> str:
    """Stacked bars per day (community under open), negative volume as a red line, spike
    days marked with a red triangle."""
    n = len(daily)
    if not n:
        return '<p class="none">no day in the period</p>'
    h, left, right, top, bottom = (240 if w > 400 else 220), 34, 8, 26, 34
    pw, ph = w - left - right, h - top - bottom
    totals = [d["community"] + d["open"] for d in daily]
    ymax = _nice_max(max([*totals, *(d.get("negative", 0) for d in daily)], default=0))
    slot = pw / n
    bar = max(1.0, min(42.0, slot * 0.66))
    out = [
        f'<svg viewBox="0 0 {w} {h}" role="img" aria-label="Volume per day, community and open">'
    ]
    for k in range(5):
        v = ymax * k / 4
        y = top + ph - ph * k / 4
        out.append(
            f'<line x1="{left}" x2="{w - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" fill="{MUTED}" '
            f'text-anchor="end">{v:g}</text>'
        )
    every = max(1, -(-n // (10 if w > 400 else 7)))
    points = []
    for i, d in enumerate(daily):
        x = left + slot * i + (slot - bar) / 2
        cx = left + slot * (i + 0.5)
        hc = ph * d["community"] / ymax
        ho = ph * d["open"] / ymax
        y0 = top + ph
        tip = (
            f"{_e(d['date'])}: {d['community']} community, {d['open']} open"
            + (f", {d['negative']} negative" if "negative" in d else "")
            + (" — spike" if d.get("spike") else "")
        )
        out.append(f"<g><title>{tip}</title>")
        if hc:
            out.append(
                f'<rect x="{x:.1f}" y="{y0 - hc:.1f}" width="{bar:.1f}" height="{hc:.1f}" '
                f'fill="{COMMUNITY}"/>'
            )
        if ho:
            out.append(
                f'<rect x="{x:.1f}" y="{y0 - hc - ho:.1f}" width="{bar:.1f}" height="{ho:.1f}" '
                f'fill="{OPEN}"/>'
            )
        if d.get("spike"):
            ty = y0 - hc - ho - 6
            out.append(
                f'<path d="M{cx - 6:.1f} {ty - 9:.1f} h12 l-6 9 z" fill="{NEGATIVE}"/>'
                f'<text x="{cx:.1f}" y="{max(10.0, ty - 12):.1f}" font-size="10" '
                f'font-weight="700" fill="{NEGATIVE}" text-anchor="middle">spike</text>'
            )
        out.append("</g>")
        if "negative" in d:
            points.append(f"{cx:.1f},{y0 - ph * d['negative'] / ymax:.1f}")
        if i % every == 0:
            label = _day_label(str(d["date"]), n)
            out.append(
                f'<text x="{cx:.1f}" y="{h - bottom + 16}" font-size="11" fill="{MUTED}" '
                f'text-anchor="middle">{label}</text>'
            )
    if points and any(d.get("negative") for d in daily):
        out.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{NEGATIVE}" '
            f'stroke-width="2" stroke-linejoin="round"/>'
        )
        out += [
            f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="2.5" fill="{NEGATIVE}"/>'
            for p, d in zip(points, daily, strict=True)
            if d.get("negative")
        ]
    out.append("</svg>")
    legend = (
        '<p class="legend"><span><i style="background:var(--community)"></i>community</span>'
        '<span><i style="background:var(--open)"></i>open</span>'
        '<span><i style="background:var(--neg);height:3px;vertical-align:3px"></i>negative'
        "</span><span>▼ spike</span></p>"
    )
    return "".join(out) + legend


def _day_label(iso: str, n: int) -> str:
    try:
        d = date.fromisoformat(iso)
    except ValueError:
        return _e(iso)
    return f"{d:%a} {d.day}" if n <= 14 else f"{d.day}/{d.month}"


def sentiment_chart(now: dict[str, Any], before: dict[str, Any] | None) -> str:
    """One diverging bar per space on a −1…+1 scale; the previous period as a black tick."""
    w, row, left, right = 400, 46, 84, 52
    h = 30 + row * len(SPACES)
    pw = w - left - right
    mid = left + pw / 2
    out = [f'<svg viewBox="0 0 {w} {h}" role="img" aria-label="Sentiment per space">']
    for v in (-1, -0.5, 0, 0.5, 1):
        x = mid + v * pw / 2
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="8" y2="{h - 18}" stroke="'
            f'{"#9ca3af" if v == 0 else GRID}"/><text x="{x:.1f}" y="{h - 4}" font-size="11" '
            f'fill="{MUTED}" text-anchor="middle">{v:+g}</text>'
        )
    for i, space in enumerate(SPACES):
        y = 12 + i * row
        value = _num(now.get(space))
        prev = _num((before or {}).get(space))
        out.append(
            f'<text x="{left - 10}" y="{y + 19}" font-size="13" text-anchor="end" '
            f'fill="#111827">{space}</text>'
        )
        if value is None:
            out.append(
                f'<text x="{mid + 8:.1f}" y="{y + 19}" font-size="12" fill="{MUTED}">'
                "no sentiment scored</text>"
            )
        else:
            x = mid + min(value, 0) * pw / 2
            width = abs(value) * pw / 2
            colour = POSITIVE if value >= 0 else NEGATIVE
            out.append(
                f'<rect x="{x:.1f}" y="{y + 6}" width="{max(width, 1.5):.1f}" height="18" '
                f'rx="3" fill="{colour}"><title>{space}: {value:+.2f}</title></rect>'
                f'<text x="{w - right + 8}" y="{y + 19}" font-size="13" font-weight="600" '
                f'fill="{colour}">{value:+.2f}</text>'
            )
        if prev is not None:
            px = mid + prev * pw / 2
            out.append(
                f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{y + 2}" y2="{y + 28}" stroke="#111827" '
                f'stroke-width="2"><title>previous period: {prev:+.2f}</title></line>'
            )
    out.append("</svg>")
    return "".join(out)


def grid_chart(quadrants: dict[str, Any], before: dict[str, Any] | None) -> str:
    """The space × class grid as a heat map: each cell's count and its change."""
    w, h, left, top = 400, 190, 84, 30
    cw, ch = (w - left - 4) / 3, (h - top - 6) / 2
    top_value = max((quadrants[s][c] for s in SPACES for c in CLASSES), default=0) or 1
    out = [f'<svg viewBox="0 0 {w} {h}" role="img" aria-label="Mentions by space and class">']
    for j, c in enumerate(CLASSES):
        out.append(
            f'<text x="{left + cw * (j + 0.5):.1f}" y="{top - 10}" font-size="13" '
            f'fill="{MUTED}" text-anchor="middle">{c}</text>'
        )
    for i, s in enumerate(SPACES):
        y = top + ch * i
        colour = COMMUNITY if s == "community" else OPEN
        out.append(
            f'<text x="{left - 10}" y="{y + ch / 2 + 5:.1f}" font-size="13" text-anchor="end" '
            f'fill="#111827">{s}</text>'
        )
        for j, c in enumerate(CLASSES):
            value = quadrants[s][c]
            old = (before or {}).get(s, {}).get(c) if before else None
            x = left + cw * j
            alpha = 0.08 + 0.82 * value / top_value
            ink = "#fff" if alpha > 0.55 else "#111827"
            diff = "" if old is None else f"{value - old:+d}"
            out.append(
                f"<g><title>{s} × {c}: {value} mentions{'; ' + diff if diff else ''}</title>"
                f'<rect x="{x + 3:.1f}" y="{y + 3:.1f}" width="{cw - 6:.1f}" '
                f'height="{ch - 6:.1f}" rx="8" fill="{colour}" fill-opacity="{alpha:.2f}"/>'
                f'<text x="{x + cw / 2:.1f}" y="{y + ch / 2 + 4:.1f}" font-size="26" '
                f'font-weight="700" fill="{ink}" text-anchor="middle">{value}</text>'
                f'<text x="{x + cw / 2:.1f}" y="{y + ch / 2 + 24:.1f}" font-size="12" '
                f'fill="{ink}" text-anchor="middle">{diff}</text></g>'
            )
    out.append("</svg>")
    return "".join(out)


def reach_chart(authors: Sequence[dict[str, Any]], w: int = 640) -> str:
    """Horizontal bars of the most mediatized authors: reach when known, else mentions."""
    shown = list(authors[:10])
    if not shown:
        return '<p class="none">no identified author in open spaces</p>'
    use_reach = any(_num(a.get("reach")) is not None for a in shown)
    values = [(_num(a.get("reach")) if use_reach else _num(a.get("mentions"))) or 0 for a in shown]
    row, right = 28, 48
    left, name_limit = (190, 28) if w > 400 else (124, 17)
    h = row * len(shown) + 8
    top_value = max(values) or 1
    out = [
        f'<svg viewBox="0 0 {w} {h}" role="img" aria-label="Most mediatized authors by '
        f'{"reach" if use_reach else "mentions"}">'
    ]
    for i, (a, v) in enumerate(zip(shown, values, strict=True)):
        y = 4 + i * row
        width = (w - left - right) * v / top_value
        out.append(
            f"<g><title>{_e(a.get('name'), 80)}: {v:,.0f} {'reach' if use_reach else 'mentions'}"
            f"</title>"
            f'<text x="{left - 8}" y="{y + 17}" font-size="12" text-anchor="end" '
            f'fill="#111827">{_e(a.get("name") or "(no name)", name_limit)}</text>'
            f'<rect x="{left}" y="{y + 4}" width="{max(width, 1.5):.1f}" height="18" rx="3" '
            f'fill="{OPEN}"/><text x="{left + width + 6:.1f}" y="{y + 17}" font-size="12" '
            f'fill="{MUTED}">{_compact(v)}</text></g>'
        )
    out.append("</svg>")
    caption = "reach" if use_reach else "mentions (reach not known yet)"
    return "".join(out) + f'<p class="legend">bars: {caption}</p>'


def _compact(v: float) -> str:
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"{v / size:.1f}{suffix}".replace(".0", "")
    return f"{v:g}"


def dunbar_gauge(active: int, limit: int, before: int | None) -> str:
    """Active members against the Dunbar threshold: a bar with the threshold marked."""
    w, h, left, right = 400, 70, 10, 10
    pw = w - left - right
    scale = max(limit * 1.25, active * 1.05, 1)
    colour = NEGATIVE if active > limit else POSITIVE if active < limit * 0.8 else OPEN
    x_limit = left + pw * limit / scale
    x_active = pw * active / scale
    # The count beside the bar's end, or inside it when the bar is long.
    anchor = "end" if x_active > pw * 0.6 else "start"
    label_x = left + x_active + (-10 if anchor == "end" else 8)
    prev = ""
    if before is not None:
        px = left + pw * before / scale
        prev = (
            f'<line x1="{px:.1f}" x2="{px:.1f}" y1="14" y2="42" stroke="#111827" '
            f'stroke-width="2"><title>previous period: {before}</title></line>'
        )
    return (
        f'<svg viewBox="0 0 {w} {h}" role="img" aria-label="Active members against the Dunbar '
        f'threshold"><rect x="{left}" y="18" width="{pw}" height="20" rx="10" fill="{GRID}"/>'
        f'<rect x="{left}" y="18" width="{max(x_active, 4):.1f}" height="20" rx="10" '
        f'fill="{colour}"><title>{active} active members</title></rect>{prev}'
        f'<line x1="{x_limit:.1f}" x2="{x_limit:.1f}" y1="8" y2="48" stroke="{NEGATIVE}" '
        f'stroke-width="2" stroke-dasharray="4 3"/>'
        f'<text x="{x_limit:.1f}" y="62" font-size="12" fill="{NEGATIVE}" '
        f'text-anchor="middle">Dunbar {limit}</text>'
        f'<text x="{left}" y="62" font-size="12" fill="{MUTED}">0</text>'
        f'<text x="{label_x:.1f}" y="33" font-size="12" font-weight="600" '
        f'fill="{"#fff" if anchor == "end" else "#111827"}" text-anchor="{anchor}">'
        f"{active} active</text></svg>"
    )


# --- the page ------------------------------------------------------------------------------


def _wide_and_narrow(chart: Callable[[Any, int], str], data: Any) -> str:
    """A full-width chart drawn twice, for a desktop and for a phone, so that its text stays
    readable on both; CSS shows one (no script decides)."""
    return f'<div class="wide">{chart(data, 640)}</div><div class="narrow">{chart(data, 360)}</div>'


def _kpi(value: str, label: str, delta: str = "") -> str:
    extra = f"<br>{delta}" if delta else ""
    return f'<div class="kpi"><b>{value}</b><span>{label}</span>{extra}</div>'


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[bool]) -> str:
    cells = "".join(
        f"<th{' class=n' if num else ''}>{h}</th>" for h, num in zip(head, numeric, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=n' if num else ''}>{c}</td>" for c, num in zip(r, numeric, strict=True)
        )
        + "</tr>"
        for r in rows
    )
    return (
        f'<div class="scroll"><table><thead><tr>{cells}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _people(people: Sequence[dict[str, Any]], empty: str, kind: str = "") -> str:
    if not people:
        return f'<p class="none">{empty}</p>'
    items = []
    for x in people[:PEOPLE_SHOWN]:
        facts = []
        if x.get("class"):
            facts.append(_e(x["class"]) + (f" · {_e(x['role'])}" if x.get("role") else ""))
        elif x.get("role"):
            facts.append(_e(x["role"]))
        if _num(x.get("mentions")) is not None:
            facts.append(f"{x['mentions']} mention{'' if x['mentions'] == 1 else 's'}")
        if _num(x.get("open_mentions")) is not None:
            facts.append(f"{x['open_mentions']} in open spaces")
        if _num(x.get("sentiment")) is not None:
            facts.append(f"sentiment {x['sentiment']:+.2f}")
        if _num(x.get("reach")) is not None:
            facts.append(f"reach {_compact(float(x['reach']))}")
        why = f'<div class="why">{_e(x["why"], 300)}</div>' if x.get("why") else ""
        items.append(
            f"<li><strong>{_e(x.get('name') or '(no name)', 80)}</strong>"
            + "".join(f'<span class="tag">{f}</span>' for f in facts)
            + why
            + _links(x.get("links"))
            + "</li>"
        )
    if len(people) > PEOPLE_SHOWN:
        more = len(people) - PEOPLE_SHOWN
        items.append(f'<li class="none">… and {more} more (the JSON report lists all)</li>')
    return f'<ul class="people {kind}">{"".join(items)}</ul>'


def html_report(r: dict[str, Any]) -> str:
    p, t, prev = r["period"], r["totals"], r.get("previous", {})
    q = r["quadrants"]
    c = r["community"]
    o = r["outside"]
    daily = r["daily"]
    spikes = r.get("spikes", [])
    title = f"{_e(r.get('title') or r['watchlist'])} — {_e(p['label'])}"
    community_now = sum(q["community"].values())
    open_now = sum(q["open"].values())
    pq = prev.get("quadrants")
    share = o.get("anonymous_share")
    kpis = [
        _kpi(str(t["mentions"]), "mentions", _delta(t["mentions"], t["previous"])),
        _kpi(
            str(community_now),
            "in the community",
            _delta(community_now, sum(pq["community"].values()) if pq else None),
        ),
        _kpi(
            str(open_now),
            "in open spaces",
            _delta(open_now, sum(pq["open"].values()) if pq else None),
        ),
        _kpi(
            f"{c['active_members']}<small style='font-size:.9rem;color:var(--muted)'> / "
            f"{c['dunbar_limit']}</small>",
            "active members",
            _delta(c["active_members"], prev.get("active_members"), pct=False),
        ),
        _kpi(
            "n/a" if share is None else f"{share:.0%}",
            "anonymous share (open)",
            _delta(
                None if share is None else share * 100,
                None if prev.get("anonymous_share") is None else prev["anonymous_share"] * 100,
                pct=False,
                fmt="+.0f",
                unit=" pts",
            ),
        ),
        _kpi(
            str(len(spikes)),
            "spike days",
            '<span class="bad">see below</span>' if spikes else '<span class="flat">none</span>',
        ),
    ]

    spike_items = "".join(
        f"<li><strong>{_e(s['date'])}</strong>"
        + "".join(f'<span class="tag">{_e(k)}</span>' for k in s.get("on", []))
        + f'<div class="why">{s["mentions"]} mentions ({s.get("negative", 0)} negative), more '
        f"than {_e(s.get('factor'))}× the average of the 7 days before "
        f"({_e(s.get('trailing_average'))})</div>" + _links(s.get("links")) + "</li>"
        for s in spikes
    )
    volume = (
        "<section><h2>Volume per day</h2>"
        + _wide_and_narrow(volume_chart, daily)
        + (f'<h3>Spikes</h3><ul class="people">{spike_items}</ul>' if spikes else "")
        + "</section>"
    )

    roles = _table(
        ["role", "active members"],
        [[_e(k), str(v)] for k, v in c["by_role"].items()] or [["none", "0"]],
        [False, True],
    )
    over = (
        '<p class="bad">The Dunbar threshold is passed: the community is past the size one '
        "team can know personally.</p>"
        if c["over_limit"]
        else f"<p>{c['active_members']} active members of a manageable "
        f"{c['dunbar_limit']}: the Dunbar threshold is not reached.</p>"
    )
    community = (
        '<section><h2>Community</h2><div class="two"><div>'
        + dunbar_gauge(int(c["active_members"]), int(c["dunbar_limit"]), prev.get("active_members"))
        + over
        + "</div><div>"
        + roles
        + "</div></div></section>"
    )

    mediatized_rows = [
        [
            _e(a.get("name") or "(no name)", 60) + _links(a.get("links")),
            str(a.get("mentions", "")),
            str(a.get("sources", "")),
            "n/a" if _num(a.get("reach")) is None else _compact(float(a["reach"])),
        ]
        for a in o["most_mediatized"]
    ]
    new_authors = (
        _people(o["new_authors"], "no new identified author")
        if o["new_authors"]
        else '<p class="none">no new identified author</p>'
    )
    sources = _table(
        ["source", "domain", "mentions"],
        [[_e(s["source"], 50), _e(s["domain"], 50), str(s["mentions"])] for s in r["top_sources"]]
        or [["none", "", ""]],
        [False, False, True],
    )
    domains = _table(
        ["domain", "mentions"],
        [[_e(d["domain"], 60), str(d["mentions"])] for d in r.get("top_domains", [])]
        or [["none", ""]],
        [False, True],
    )
    outside = (
        "<section><h2>Outside: open spaces</h2>"
        f"<p>Anonymous share of open-space mentions: <strong>"
        f"{'n/a' if share is None else f'{share:.0%}'}</strong>.</p>"
        "<h3>Most mediatized identified authors</h3>"
        + _wide_and_narrow(reach_chart, o["most_mediatized"])
        + (
            _table(
                ["author", "mentions", "sources", "reach"],
                mediatized_rows,
                [False, True, True, True],
            )
            if mediatized_rows
            else ""
        )
        + "<h3>New authors</h3>"
        + new_authors
        + '<div class="two"><div><h3>Top sources</h3>'
        + sources
        + "</div><div><h3>Top domains</h3>"
        + domains
        + "</div></div></section>"
    )

    act = (
        "<section><h2>To act on</h2>"
        "<h3>Invitation candidates</h3>"
        + _people(r.get("invite_candidates", []), "none this period", "invite")
        + "<h3>Trolls</h3>"
        + _people(r.get("trolls", []), "none this period", "trolls")
        + "<h3>Ambassadors</h3>"
        + _people(r.get("ambassadors", []), "none this period", "ambassadors")
        + "</section>"
    )
    threads = "".join(
        f"<li><strong>{_a(x['thread_url'], _e(x.get('title') or x['thread_url'], 140))}</strong>"
        f'<span class="tag">{x["mentions"]} mentions</span>'
        f'<span class="tag">{x.get("replies", 0)} replies</span>' + _links(x.get("links")) + "</li>"
        for x in r["top_threads"]
    )
    top_threads = (
        "<section><h2>Top threads</h2>"
        + (f'<ul class="people">{threads}</ul>' if threads else '<p class="none">none</p>')
        + "</section>"
    )
    prev_text = (
        f"previous period {_e(prev.get('start'))} → {_e(prev.get('end'))}: {t['previous']} mentions"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # Defence in depth: even an escaping bug could not run a script or load anything.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:; form-action 'none'\">"
        '<meta name="referrer" content="no-referrer">'
        f"<title>{title}</title><style>{CSS}</style></head><body><main>"
        f"<header><h1>{title}</h1><p>{_e(p['start'])} → {_e(p['end'])} "
        f"({_e(r.get('timezone', 'UTC'))}) · {prev_text}</p></header>"
        f'<div class="kpis">{"".join(kpis)}</div>'
        '<section><h2>Space × class</h2><div class="two"><div>'
        + grid_chart(q, pq)
        + '<p class="legend"><span>small figures: change against the previous period</span></p>'
        + "</div><div><h3>Sentiment per space</h3>"
        + sentiment_chart(r["sentiment"], prev.get("sentiment"))
        + '<p class="legend"><span>bar: this period</span><span>black tick: previous period'
        "</span></p></div></div></section>"
        + volume
        + community
        + outside
        + act
        + top_threads
        + f"<footer>ereput {_e(__version__)} · {_e(r['watchlist'])} · "
        f"{_e(p['start'])} → {_e(p['end'])}</footer></main></body></html>\n"
    )
