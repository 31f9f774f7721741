"""The command line: a thin shell over `services`. Data goes to stdout, diagnostics to
stderr; ereput's own errors become SPEC §4's exit codes and one-line messages here only."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import platformdirs
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from ereput import __version__
from ereput.dates import parse_when
from ereput.errors import EreputError, UsageError
from ereput.models import Watchlist
from ereput.render import rows as rows_out
from ereput.render.safe import one_line
from ereput.store import Store
from ereput.watchlist import load_watchlists

# What only some commands need is imported inside them: `scan`, run from cron every few
# minutes, and each `author` look-up pay only for their own start-up.

GLOBAL_WITH_VALUE = ("--db", "-w", "--watchlist")
GLOBAL_FLAGS = ("-v", "--verbose", "--quiet")


def hoist_global_options(args: Sequence[str]) -> list[str]:
    """Move global options written after the command name in front of it, so that
    `ereput scan --db x.db` means `ereput --db x.db scan` (SPEC §4)."""
    front: list[str] = []
    rest: list[str] = []
    seen_command = False
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            rest.extend(args[i:])
            break
        name = a.split("=", 1)[0]
        takes_value = name in GLOBAL_WITH_VALUE and "=" not in a
        if name in GLOBAL_WITH_VALUE or a in GLOBAL_FLAGS:
            target = front if seen_command else rest
            target.extend(args[i : i + (2 if takes_value else 1)])
            i += 2 if takes_value else 1
            continue
        if not a.startswith("-"):
            seen_command = True
        rest.append(a)
        i += 1
    return front + rest


class EreputGroup(TyperGroup):
    """Turns ereput's errors into one line on stderr and the exit code SPEC §4 gives."""

    def main(self, args: Sequence[str] | None = None, *a: Any, **kw: Any) -> Any:
        argv = list(args) if args is not None else sys.argv[1:]
        return super().main(hoist_global_options(argv), *a, **kw)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except EreputError as e:
            typer.echo(f"ereput: {one_line(str(e))}", err=True)
            raise typer.Exit(e.exit_code) from None


app = typer.Typer(
    cls=EreputGroup,
    help="Watch what is said about a brand: scan feeds, blogs and forums; tell community "
    "from open web; know who is speaking.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(db_app, name="db")

err = Console(stderr=True, highlight=False)


class State:
    db: Path
    watchlist_paths: list[Path]
    verbose: bool = False
    quiet: bool = False


state = State()


def default_db() -> Path:
    return Path(platformdirs.user_data_dir("ereput")) / "ereput.db"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ereput {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            envvar="EREPUT_DB",
            help="Database file (default: the one `ereput db path` prints).",
            show_default=False,
        ),
    ] = None,
    watchlist: Annotated[
        list[Path] | None,
        typer.Option(
            "--watchlist",
            "-w",
            envvar="EREPUT_WATCHLIST",
            help="A watchlist file or a folder of *.toml (repeatable; default: ./watchlists).",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Say more.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print nothing but errors.")] = False,
    version: Annotated[
        bool,
        # Eager: `ereput --version` alone, without a command, prints it.
        typer.Option("--version", help="Print the version.", is_eager=True, callback=_version),
    ] = False,
) -> None:
    state.db = db or default_db()
    state.watchlist_paths = watchlist or [Path("watchlists")]
    state.verbose, state.quiet = verbose, quiet


def _watchlists() -> list[Watchlist]:
    return load_watchlists(state.watchlist_paths)


def _pick(watchlists: list[Watchlist], name: str | None) -> Watchlist:
    if name:
        for wl in watchlists:
            if wl.name == name:
                return wl
        raise UsageError(
            f"no watchlist named {name!r} (loaded: {', '.join(w.name for w in watchlists)})"
        )
    if len(watchlists) == 1:
        return watchlists[0]
    raise UsageError(
        "several watchlists are loaded: choose one with --watchlist-name "
        f"({', '.join(w.name for w in watchlists)})"
    )


def _open_store(*, reading: bool = False) -> Store:
    return Store.open(state.db, reading=reading)


WatchlistName = Annotated[
    str | None, typer.Option("--watchlist-name", help="Which watchlist, when several are loaded.")
]
AsJson = Annotated[bool, typer.Option("--json", help="One JSON array.")]
AsNl = Annotated[bool, typer.Option("--nl", help="Newline-delimited JSON.")]
AsCsv = Annotated[bool, typer.Option("--csv", help="CSV.")]
Limit = Annotated[int, typer.Option("--limit", help="How many rows (0 = all).")]


def _emit(rows: list[dict[str, Any]], as_json: bool, nl: bool, as_csv: bool) -> bool:
    if as_json:
        typer.echo(rows_out.to_json(rows))
    elif nl:
        typer.echo(rows_out.to_nl(rows), nl=False)
    elif as_csv:
        typer.echo(rows_out.to_csv(rows), nl=False)
    else:
        return False
    return True


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False)


# --- scan, sources, demo -------------------------------------------------------------------


@app.command()
def scan(
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Only this source (repeatable).")
    ] = None,
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency", min=1, max=256, help="Requests in flight at most, all hosts together."
        ),
    ] = 16,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the scan's summary as JSON.")
    ] = False,
) -> None:
    """Fetch every source of the watchlists and store new and changed mentions."""
    from ereput.services.scan import check_source_names
    from ereput.services.scan import scan as run
    from ereput.ui import ScanDisplay

    watchlists = _watchlists()
    if source:
        check_source_names(watchlists, source)
    interactive = sys.stderr.isatty() and not state.quiet and not as_json
    with _open_store() as store, ScanDisplay(err, interactive, state.verbose) as display:
        summary = run(
            watchlists, store, only=source, concurrency=concurrency, progress=display.update
        )
    if as_json:
        typer.echo(rows_out.to_json(summary.to_json()))
    for f in summary.failed:
        typer.echo(f"ereput: source {f['source']} failed: {one_line(f['error'])}", err=True)
    for f in summary.alerts["failed"]:
        typer.echo(
            f"ereput: alerts of {f['watchlist']} by {f['channel']} failed: "
            f"{one_line(f['error'])} ({f.get('pending', 0)} kept for the next scan)",
            err=True,
        )
    if interactive or (state.verbose and not as_json):
        err.print(
            f"{summary.sources} sources: {summary.ok} ok ({summary.not_modified} unchanged), "
            f"{len(summary.failed)} failed; {summary.new} new mentions, {summary.updated} "
            f"updated in {summary.duration_s:.1f} s"
        )
        if summary.alerts["sent"] or summary.alerts["pending"]:
            err.print(f"alerts: {summary.alerts['sent']} sent, {summary.alerts['pending']} waiting")
    # A failed alert delivery is partial too: the alerts are kept, cron should still see it.
    if summary.failed or summary.alerts["failed"]:
        raise typer.Exit(1)


@app.command()
def sources(
    watchlist_name: WatchlistName = None,
    as_json: AsJson = False,
    nl: AsNl = False,
    as_csv: AsCsv = False,
) -> None:
    """Each source with its health: last success, last error, failures in a row, items."""
    watchlists = _watchlists()
    names = (
        [_pick(watchlists, watchlist_name).name] if watchlist_name else [w.name for w in watchlists]
    )
    with _open_store() as store:
        rows = store.sources_health(names)
    if _emit(rows, as_json, nl, as_csv):
        return
    table = Table(box=None, pad_edge=False)
    for col in ("source", "kind", "items", "last success", "failures", "last error"):
        table.add_column(
            col, overflow="fold", justify="right" if col in ("items", "failures") else "left"
        )
    for r in rows:
        table.add_row(
            Text(one_line(r["source"])),
            r["kind"],
            str(r["items"]),
            (r["last_success"] or "never")[:16],
            str(r["consecutive_failures"]),
            Text(one_line(r["last_error"] or "", 60) if r["consecutive_failures"] else ""),
        )
    _console().print(table)


@app.command()
def demo(
    ctx: typer.Context,
    fmt: Annotated[
        str, typer.Option("--format", help="Report format: text, md, html or json.")
    ] = "text",
) -> None:
    """Run the whole job offline on a bundled demo web about a fictitious brand."""
    from ereput.demo import run_demo

    # A temporary database unless --db is given on the command line: the demo never mixes
    # its fictitious brand into the database that EREPUT_DB names.
    run_demo(
        state.db if _db_given(ctx) else None, fmt, console=_console(), err=err, quiet=state.quiet
    )


def _db_given(ctx: typer.Context) -> bool:
    source = ctx.find_root().get_parameter_source("db")
    return source is not None and source.name == "COMMANDLINE"


# --- mentions and authors ------------------------------------------------------------------


class Sort(StrEnum):
    reach = "reach"
    mentions = "mentions"
    sentiment = "sentiment"


@app.command()
def mentions(
    since: Annotated[str | None, typer.Option(help="2026-11-16, ISO timestamp, 7d, 2w.")] = None,
    until: Annotated[str | None, typer.Option(help="Inclusive end date.")] = None,
    space: Annotated[str | None, typer.Option(help="community or open.")] = None,
    klass: Annotated[
        str | None, typer.Option("--class", help="member, identified or anonymous.")
    ] = None,
    author: Annotated[str | None, typer.Option(help="A person, as for `ereput author`.")] = None,
    source: Annotated[str | None, typer.Option(help="A source name.")] = None,
    search: Annotated[str | None, typer.Option(help="Full-text search (all words).")] = None,
    limit: Limit = 50,
    watchlist_name: WatchlistName = None,
    as_json: AsJson = False,
    nl: AsNl = False,
    as_csv: AsCsv = False,
) -> None:
    """List mentions, newest first."""
    from ereput.services import lookup

    if space and space not in lookup.SPACES:
        raise UsageError(f"--space takes community or open, not {space!r}")
    if klass and klass not in lookup.CLASSES:
        raise UsageError(f"--class takes member, identified or anonymous, not {klass!r}")
    wl = _pick(_watchlists(), watchlist_name)
    with _open_store(reading=True) as store:
        persons = tuple(lookup.find_persons(store, author)) if author else None
        rows = lookup.list_mentions(
            store,
            lookup.MentionFilter(
                watchlist=wl.name,
                since=parse_when(since, wl.timezone) if since else None,
                until=parse_when(until, wl.timezone, end_of_day=True) if until else None,
                space=space,
                klass=klass,
                person_ids=persons,
                source=source,
                search=search,
                limit=limit,
            ),
        )
    if _emit(rows, as_json, nl, as_csv):
        return
    table = Table(box=None, pad_edge=False, expand=False)
    table.add_column("published", no_wrap=True)
    table.add_column("space", no_wrap=True)
    table.add_column("author", overflow="ellipsis", max_width=18, no_wrap=True)
    table.add_column("title / url", overflow="fold")
    for m in rows:
        who = one_line(m["author"]["name"]) or "—"
        title = one_line(m["title"] or m["text"], 70)
        line = Text(title + "\n")
        line.append(one_line(m["url"]), style="dim")
        table.add_row(m["published"][:10], m["space"][:4], Text(who), line)
    _console().print(table)
    if not state.quiet:
        err.print(f"[dim]{len(rows)} mention(s)[/dim]")


ACTIONS = ("link", "unlink", "forget", "export")


@app.command()
def author(
    words: Annotated[
        list[str] | None,
        typer.Argument(
            help="A name, handle, profile URL, fediverse account, e-mail or person_id; "
            "or an action: link A B, unlink A B, forget QUERY, export QUERY.",
            show_default=False,
        ),
    ] = None,
    query: Annotated[
        str | None, typer.Option("--query", help="Look up exactly this (even 'link' or 'forget').")
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="forget: do not ask for confirmation.")
    ] = False,
    watchlist_name: WatchlistName = None,
    as_json: AsJson = False,
) -> None:
    """Look up a person; also: link, unlink, forget, export.

    Shows identifiers, accounts, class and role, counts, reach, flags and recent mentions.
    """
    from ereput.render.author import print_author_card
    from ereput.services import lookup

    words = list(words or [])
    if words and query is None and words[0] in ACTIONS:
        _author_action(words[0], words[1:], yes)
        return
    q = query if query is not None else " ".join(words)
    if not q.strip():
        raise UsageError("author: give a name, a handle, a profile URL, an e-mail or a person_id")
    wl = _pick(_watchlists(), watchlist_name)
    with _open_store(reading=True) as store:
        persons = lookup.lookup_author(store, q, wl)
    if as_json:
        typer.echo(rows_out.to_json(persons))
        return
    console = _console()
    for p in persons[:3]:
        print_author_card(p, console)
    if len(persons) > 3:
        err.print(f"{len(persons) - 3} more match(es): use --json to see them all")


def _author_action(action: str, args: list[str], yes: bool) -> None:
    """`author link A B`, `unlink A B`, `forget QUERY`, `export QUERY` (SPEC §4)."""
    from ereput.services import lookup

    wanted = 2 if action in ("link", "unlink") else 1
    if action in ("forget", "export") and len(args) > 1:
        args = [" ".join(args)]  # an unquoted name: "forget Jean Dupont"
    if len(args) != wanted:
        shape = "A B" if wanted == 2 else "QUERY"
        raise UsageError(f"author {action} takes {shape} (quote a name with spaces)")
    with _open_store() as store:
        if action == "export":
            typer.echo(rows_out.to_json(lookup.export(store, args[0])))
            return
        if action == "forget":
            pid = lookup.one_person(store, args[0])
            if not yes:
                if not sys.stdin.isatty():
                    raise UsageError(
                        f"author forget erases {pid} and their mentions for good: "
                        "add --yes to confirm"
                    )
                typer.confirm(f"Erase {pid}, their accounts and mentions for good?", abort=True)
            store.lock()  # never while a scan writes
            pid, erased = lookup.forget(store, pid)
            _say(f"forgot {pid}: {erased} mention(s) erased; they will not be collected again")
        elif action == "link":
            store.lock()
            pid, were_two = lookup.link(store, args[0], args[1])
            if were_two:
                _say(f"linked: one person {pid} (kept across scans)")
            else:
                _say(f"already one person {pid}; the link is recorded (kept across scans)")
        else:
            store.lock()
            pids = lookup.unlink(store, args[0], args[1])
            _say(f"unlinked: {' and '.join(pids)} (kept across scans)")


def _say(message: str) -> None:
    if not state.quiet:
        typer.echo(message)


class Flag(StrEnum):
    troll = "troll"
    invite = "invite"
    ambassador = "ambassador"


@app.command()
def authors(
    klass: Annotated[
        str | None, typer.Option("--class", help="member, identified or anonymous.")
    ] = None,
    flag: Annotated[Flag | None, typer.Option(help="Only persons with this flag.")] = None,
    sort: Annotated[Sort, typer.Option(help="Rank by reach, mentions or sentiment.")] = Sort.reach,
    suggest: Annotated[
        bool, typer.Option("--suggest", help="List probable same-person pairs to link.")
    ] = False,
    limit: Limit = 50,
    watchlist_name: WatchlistName = None,
    as_json: AsJson = False,
    nl: AsNl = False,
    as_csv: AsCsv = False,
) -> None:
    """Rank the persons who spoke in the rules' window (default 30 days)."""
    from ereput.services import lookup
    from ereput.services.people import suggest_links

    if klass and klass not in lookup.CLASSES:
        raise UsageError(f"--class takes member, identified or anonymous, not {klass!r}")
    wl = _pick(_watchlists(), watchlist_name)
    with _open_store(reading=True) as store:
        if suggest:
            pairs = suggest_links(store, wl, limit=limit or 1000)
        else:
            rows = lookup.rank_authors(
                store,
                wl,
                klass=klass,
                flag=flag.value if flag else None,
                sort=sort.value,
                limit=limit,
            )
    if suggest:
        _print_suggestions(pairs, as_json, nl, as_csv)
        return
    if _emit(rows, as_json, nl, as_csv):
        return
    table = Table(box=None, pad_edge=False, collapse_padding=True)
    table.add_column("name", max_width=16, no_wrap=True, overflow="ellipsis")
    table.add_column("status", no_wrap=True, max_width=11, overflow="ellipsis")
    for numeric in ("reach", "ment", "open", "sent."):
        table.add_column(numeric, justify="right", no_wrap=True)
    table.add_column("flags", no_wrap=True)
    table.add_column("person", no_wrap=True, min_width=13)
    for r in rows:
        table.add_row(
            Text(one_line(r["name"]) or "—"),
            r["role"] or r["class"],
            f"{r['reach']:g}",
            str(r["mentions"]),
            str(r["by_space"]["open"]),
            f"{r['sentiment']:+.2f}" if r["sentiment"] is not None else "",
            ",".join(r["flags"]),
            r["person_id"],
        )
    _console().print(table)
    if not state.quiet:
        days = wl.rules.window_days
        err.print(f"[dim]{len(rows)} person(s) active in the last {days} days[/dim]")


def _print_suggestions(pairs: list[dict[str, Any]], as_json: bool, nl: bool, as_csv: bool) -> None:
    flat = [
        {
            "a": p["a"]["person_id"],
            "a_name": p["a"]["name"],
            "b": p["b"]["person_id"],
            "b_name": p["b"]["name"],
            "score": p["score"],
            "reason": p["reason"],
        }
        for p in pairs
    ]
    if _emit(flat if (nl or as_csv) else pairs, as_json, nl, as_csv):
        return
    if not pairs:
        typer.echo("no probable same-person pair found")
        return
    for p in pairs:
        line = Text(f"{one_line(p['a']['name']) or '—'} ({p['a']['person_id']})  ~  ")
        line.append(f"{one_line(p['b']['name']) or '—'} ({p['b']['person_id']})")
        line.append(f"\n   {one_line(p['reason'])}", style="dim")
        command = f"ereput author link {p['a']['person_id']} {p['b']['person_id']}"
        line.append(f"\n   {command}", style="dim")
        _console().print(line)


# --- report ------------------------------------------------------------------------------


class Format(StrEnum):
    text = "text"
    md = "md"
    html = "html"
    json = "json"
    csv = "csv"


@app.command()
def report(
    ctx: typer.Context,
    week: Annotated[str | None, typer.Option(help="ISO week, e.g. 2026-W47.")] = None,
    month: Annotated[str | None, typer.Option(help="A month, e.g. 2026-11.")] = None,
    since: Annotated[str | None, typer.Option(help="First day (inclusive).")] = None,
    until: Annotated[str | None, typer.Option(help="Last day (inclusive).")] = None,
    fmt: Annotated[
        Format,
        typer.Option("--format", help="Output format (default: -o FILE's extension, else text)."),
    ] = Format.text,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to FILE.")] = None,
    csv_dialect: Annotated[
        str, typer.Option("--csv-dialect", help="default, or fr (';' separator, UTF-8 BOM).")
    ] = "default",
    watchlist_name: WatchlistName = None,
) -> None:
    """The weekly report (default: the last complete ISO week)."""
    from ereput.render.report import markdown_report, print_text_report
    from ereput.services.report import build_report, period_for, period_mentions

    given = ctx.get_parameter_source("fmt")
    if output and (given is None or given.name != "COMMANDLINE"):
        fmt = Format.__members__.get(output.suffix.lower().lstrip("."), fmt)
    if csv_dialect not in ("default", "fr"):
        raise UsageError(f"--csv-dialect takes default or fr, not {csv_dialect!r}")
    if sum(x is not None for x in (week, month, since or until)) > 1:
        raise UsageError("give one of --week, --month or --since/--until")
    wl = _pick(_watchlists(), watchlist_name)
    period = period_for(wl.timezone, week=week, month=month, since=since, until=until)
    with _open_store(reading=True) as store:
        if fmt is Format.csv:
            text = rows_out.to_csv(period_mentions(store, wl, period), dialect=csv_dialect)
        else:
            data = build_report(store, wl, period)
            text = ""
            if fmt is Format.json:
                text = rows_out.to_json(data) + "\n"
            elif fmt is Format.md:
                text = markdown_report(data)
            elif fmt is Format.html:
                from ereput.render.html import html_report

                text = html_report(data)
    if fmt is Format.text:
        if output:
            with output.open("w", encoding="utf-8") as f:
                print_text_report(data, Console(file=f, width=80, highlight=False))
        else:
            print_text_report(data, _console())
        return
    if output:
        output.write_text(text, encoding="utf-8")
        if not state.quiet:
            err.print(f"report written to {output}")
    else:
        typer.echo(text, nl=False)


@db_app.command("path")
def db_path() -> None:
    """Print the database file ereput uses."""
    typer.echo(str(state.db))


def main() -> None:
    app()
