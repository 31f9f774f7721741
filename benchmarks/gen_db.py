"""A large, realistic ereput database for the store benchmarks (issue 3, "store at scale").

Deterministic (one seed), built in a couple of minutes: the schema comes from `Store.open()`
(every migration), the watchlist's sources and members from `Store.sync_sources` and
`Store.sync_members`, then persons, accounts, identifiers and mentions go in through raw
`executemany` in big transactions, with the mention indexes and full-text triggers dropped
during the load and recreated from their exact SQL afterwards (the full-text index is
rebuilt in one pass). The result is the schema `Store.open()` gives, byte for byte in
`sqlite_master`.

What it holds (full size): 1,000,000 mentions over two years, 200,000 persons with 1 to 50
mentions each on a Zipf-like law (plus declared members who speak more), 500 sources of one
watchlist (a few in the community space), names with accents, identifiers of every kind,
titles and ~300-character texts drawn from a French and English vocabulary.

    python -m benchmarks.gen_db [--quick] [--force]     # prints the cached database's path
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ereput.identity import account_key, new_person_id, short_hash
from ereput.models import Account, Identifier
from ereput.store import Store
from ereput.text import fold
from ereput.watchlist import load_watchlist

# Bump when the generated data changes: the cache key.
VERSION = 1
SEED = 20260117
WATCHLIST = "bench"
END = datetime(2026, 1, 1, tzinfo=UTC)  # exclusive: two years of mentions before it
DAYS = 730
# The week the report benchmark reads (inside the generated range).
REPORT_WEEK = "2025-W40"


@dataclass(frozen=True)
class Scale:
    mentions: int
    persons: int
    sources: int

    @property
    def label(self) -> str:
        return f"{self.mentions}m-{self.persons}p-{self.sources}s"


FULL = Scale(1_000_000, 200_000, 500)
QUICK = Scale(100_000, 20_000, 500)

# Persons the benchmark looks up by name and by identifier: they exist at every scale.
KNOWN = (
    ("Sébastien Farcis", "url", "https://blog-017.example.net/author/sfarcis"),
    ("Alex Steers McCrum", "acct", "alexsm@mastodon.example"),
    ("Hélène Dupont-Aignan", "email", "helene.dupont@example.fr"),
    ("Zoë Ångström", "uid", "884211@forum-042.example.org"),
)


def _words(text: str) -> list[str]:
    return text.split()


FIRST = _words(
    "Sébastien Hélène François Zoë Jérôme Ève Noémie Loïc Anaïs Gaëlle Benoît Cécile Léa "
    "Chloé Maël Inès Théo Raphaël Élodie Aurélien Mélanie Clément Amélie Frédéric Céline "
    "Valérie Stéphane Thérèse Rémi Adèle Joël Maëlys Léon Andréa Bérénice Dominique Emma "
    "Louis Hugo Lucas Camille Manon Sarah Julie Marc Sophie Nicolas Thomas Pierre Marie "
    "Paul Anne Jean Michel Isabelle Laurent Nathalie Olivier Sandrine Vincent Christine "
    "Alex Alexander Alexandra James John Robert Michael William David Richard Joseph "
    "Charles Christopher Daniel Matthew Anthony Mark Steven Andrew Joshua Kevin Brian "
    "George Edward Ronald Timothy Jason Jeffrey Ryan Jacob Gary Mary Patricia Jennifer "
    "Linda Elizabeth Barbara Susan Jessica Karen Nancy Lisa Betty Margaret Sandra Ashley "
    "Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah Stephanie Rebecca "
    "Sharon Laura Cynthia Kathleen Amy Angela Shirley Brenda Pamela Nicole Samantha "
    "Katherine Christine Helen Debra Rachel Carolyn Janet Maria Catherine Heather Diane "
    "Olivia Julia Grace Victoria Hannah Lauren Natalie Jörg Jürgen Søren Björn Ólafur "
    "José María Joaquín Núria Íñigo Ramón Begoña Ángel Agnès Gwénaël Maïwenn Pauline"
)
LAST = _words(
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent "
    "Lefèbvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefèvre "
    "Mercier Dupont Lambert Bonnet François Martinez Legrand Garnier Faure Rousseau Blanc "
    "Guérin Muller Henry Roussel Nicolas Perrin Morin Mathieu Clément Gauthier Dumont Lopez "
    "Fontaine Chevalier Robin Masson Sanchez Gérard Nguyen Boyer Denis Lemaire Duval Joly "
    "Gautier Roger Roche Roy Noël Meyer Lucas Meunier Jean Perez Marchand Dufour Blanchard "
    "Marie Barbier Brun Dumas Brunet Schmitt Leroux Colin Fernandez Pierre Renard Arnaud "
    "Rolland Caron Aubert Giraud Leclerc Vidal Bourgeois Renaud Lemoine Picard Gaillard "
    "Philippe Leclercq Lacroix Fabre Dupuis Olivier Rodriguez Da Silva Hubert Louis Charles "
    "Guillot Rivière Le Gall Guillaume Adam Rey Moulin Gonzalez Berger Lecomte Ménard Fleury "
    "Deschamps Carpentier Julien Benoît Paris Maillard Marchal Aubry Vasseur Le Roux Renault "
    "Jacquet Collet Prévost Poirier Charpentier Royer Huet Baron Dupuy Pons Paul Laine "
    "Carré Breton Rémy Schneider Perrot Guyot Barre Marty Cousin Smith Johnson Williams "
    "Brown Jones Miller Davis Wilson Anderson Taylor Moore Jackson White Harris Thompson "
    "Young Allen King Wright Scott Torres Hill Green Adams Baker Nelson Carter Mitchell "
    "Roberts Turner Phillips Campbell Parker Evans Edwards Collins Stewart Morris Murphy "
    "Cook Rogers Morgan Peterson Cooper Reed Bailey Bell Kelly Howard Ward Cox Richardson "
    "Wood Watson Brooks Bennett Gray James Hughes Price Sanders Myers Long Ross Foster "
    "McCrum McCarthy McDonald McKenzie O'Brien O'Connor Steers Farcis Ångström Müller "
    "Schäfer Østergaard Núñez Peña Ibáñez Çelik Şahin Dvořák Novák Kowalski Wiśniewski"
)
PSEUDO_A = _words(
    "tux geek chat loup renard ours pixel byte data cloud nuage dev ops admin root hack "
    "night dark blue red green zen neo retro cyber mega ultra super petit grand vieux "
    "jeune the mr mrs dr prof capt lord lady sir king queen"
)
PSEUDO_B = _words(
    "fan lover hater noir blanc rouge master ninja guru warrior rider runner coder maker "
    "watcher reader writer dude gal guy boy girl man woman cat dog fox wolf bear owl"
)

# Words of titles and texts, most frequent first (a Zipf-like draw picks them).
VOCAB = _words(
    "le la les de des un une et en du est pour que qui dans sur pas plus avec il elle the "
    "a to of and in is it for that on with was as this be at by not are from or have an "
    "cloud service serveur hébergement hosting support client clients équipe team panne "
    "outage incident migration prix price facture invoice offre offer nouveau new version "
    "mise jour update sécurité security données data sauvegarde backup performance rapide "
    "fast lent slow problème problem issue bug erreur error réponse answer question aide "
    "help merci thanks bravo great excellent mauvais bad déçu disappointed content happy "
    "recommande recommend conseil advice avis review test essai trial gratuit free payant "
    "paid contrat contract résiliation cancel abonnement subscription compte account "
    "connexion login mot passe password interface dashboard console api documentation "
    "docs tutoriel tutorial guide forum communauté community blog article post commentaire "
    "comment réseau network stockage storage base database kubernetes docker linux "
    "windows mac serveurs servers datacenter europe france paris lyon région region "
    "latence latency disponibilité availability garantie guarantee contrat sla "
    "remboursement refund commercial sales marketing produit product fonctionnalité "
    "feature demande request ticket délai delay semaine week mois month année year "
    "aujourd'hui today hier yesterday depuis since toujours always jamais never vraiment "
    "really très very trop too beaucoup much peu little bien well mal badly encore again "
    "alternative concurrent competitor comparaison comparison choix choice pourquoi why "
    "comment how quand when où where changement change transfert transfer domaine domain "
    "certificat certificate ssl tls dns email courriel messagerie mail webmail quota "
    "limite limit ressources resources mémoire memory processeur cpu disque disk ssd "
    "facturation billing tarif pricing hausse increase baisse decrease promotion discount "
    "startup entreprise enterprise pme business particulier personal projet project "
    "développeur developer administrateur administrator utilisateur user expérience "
    "experience qualité quality fiable reliable instable unstable crash redémarrage "
    "restart maintenance planifiée scheduled annonce announcement communiqué statement "
    "presse press journaliste journalist analyste analyst rapport report étude study "
    "chiffres figures croissance growth levée funding investisseurs investors rachat "
    "acquisition partenariat partnership intégration integration open source gitlab "
    "github terraform ansible monitoring alerte alert métriques metrics logs journaux "
    "kaléidoscope palimpseste sérendipité zeugma quinconce"
)
VERY_RARE = "ornithorynque"  # in about 1 text out of 20,000
BRAND = ("Acme Cloud", "acme cloud", "ACME Cloud", "Acmé Cloud", "acme.io", "#acmecloud")
MATCHED = ('"Acme Cloud"', "acme.io", "#acmecloud")

ROLES = ("community_manager", "brand", "designer", "customer", "mediator", "analyst", "observer")
N_MEMBERS = 40
N_COMMUNITY_SOURCES = 25


def cache_dir() -> Path:
    base = os.environ.get("EREPUT_BENCH_CACHE") or os.path.join(
        tempfile.gettempdir(), "ereput-bench"
    )
    return Path(base)


def db_path(scale: Scale) -> Path:
    return cache_dir() / f"store-v{VERSION}-{scale.label}.db"


def watchlist_path(scale: Scale) -> Path:
    return db_path(scale).with_suffix(".toml")


def member_names() -> list[tuple[str, str, str]]:
    """(name, role, handle) of the declared members, the same at every scale."""
    rng = random.Random(SEED + 1)
    out = []
    for i in range(N_MEMBERS):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        handle = f"m{i:02d}{fold(name).replace(' ', '').replace(chr(39), '')[:10]}"
        out.append((name, ROLES[i % len(ROLES)], handle))
    return out


def _toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def watchlist_toml(sources: list[tuple[str, str]]) -> str:
    """The benchmark watchlist with these (name, url) feed sources; members never change,
    so a scan with other sources does not re-class the stored mentions."""
    lines = [
        f'name = "{WATCHLIST}"',
        'title = "Acme Cloud (benchmark)"',
        'timezone = "Europe/Paris"',
        "",
        "[query]",
        "terms = ['\"Acme Cloud\"', 'acme.io', '#acmecloud']",
        "",
        "[community]",
        'spaces = ["https://forum.acme.example/", "https://blog.acme.example/"]',
        "dunbar_limit = 150",
    ]
    for name, role, handle in member_names():
        lines += [
            "",
            "[[community.members]]",
            f"name = {_toml_str(name)}",
            f'role = "{role}"',
            f'identifiers = ["https://forum.acme.example/u/{handle}", '
            f'"@{handle}@mastodon.example"]',
        ]
    for name, url in sources:
        lines += ["", "[[sources]]", f'name = "{name}"', 'kind = "feed"', f'url = "{url}"']
    return "\n".join(lines) + "\n"


def source_list(n: int) -> list[tuple[str, str, str]]:
    """(name, url, host) of the watchlist's sources; the first few are community spaces."""
    out = []
    for i in range(n):
        if i < N_COMMUNITY_SOURCES:
            if i % 5 == 0:
                out.append((f"acme-blog-{i:03d}", f"https://blog.acme.example/c{i}/feed", "blog"))
            else:
                out.append(
                    (f"acme-forum-{i:03d}", f"https://forum.acme.example/c/{i}.rss", "forum")
                )
            continue
        kind = ("blog", "forum", "news", "feed")[i % 4]
        host = f"{kind}-{i:03d}.example.{('net', 'org', 'fr', 'com')[(i // 4) % 4]}"
        out.append((f"{kind}-{i:03d}", f"https://{host}/feed.xml", host))
    return out


def _host(url: str) -> str:
    return url.split("/")[2]


def _zipf_counts(rng: random.Random, n: int, total: int, lo: int = 1, hi: int = 50) -> list[int]:
    """n counts in [lo, hi] on a Zipf-like law (P(k) ~ k^-s), adjusted to sum to `total`."""
    mean = total / n
    # Find the exponent whose truncated law has this mean.
    a, b = 0.0, 4.0
    for _ in range(40):
        s = (a + b) / 2
        w = [k**-s for k in range(lo, hi + 1)]
        m = sum(k * x for k, x in zip(range(lo, hi + 1), w, strict=True)) / sum(w)
        a, b = (s, b) if m > mean else (a, s)
    counts = rng.choices(range(lo, hi + 1), weights=w, k=n)
    diff = total - sum(counts)
    step = 1 if diff > 0 else -1
    while diff:
        i = rng.randrange(n)
        if lo <= counts[i] + step <= hi:
            counts[i] += step
            diff -= step
    return counts


def _pseudo(rng: random.Random) -> str:
    style = rng.random()
    if style < 0.4:
        return f"{rng.choice(PSEUDO_A)}_{rng.choice(PSEUDO_B)}{rng.randrange(100)}"
    if style < 0.7:
        return f"{rng.choice(PSEUDO_A).capitalize()}{rng.choice(PSEUDO_B).capitalize()}"
    return f"{rng.choice(FIRST)[0]}{fold(rng.choice(LAST)).replace(' ', '')}{rng.randrange(1000)}"


def _identifiers(rng: random.Random, i: int, name: str, site: str) -> tuple[Identifier, ...]:
    slug = fold(name).replace(" ", "").replace("'", "")[:16] or "user"
    pool = [
        Identifier("url", f"https://{site}/u/{slug}{i}"),
        Identifier("acct", f"{slug}{i}@mastodon{i % 7}.example"),
        Identifier("handle", f"{slug}{i}@reddit.com"),
        Identifier("avatar", hashlib.sha256(f"av{i}".encode()).hexdigest()),
        Identifier("email", hashlib.sha256(f"{slug}{i}@mail.example".encode()).hexdigest()),
        Identifier("uid", f"{i}@{site}"),
    ]
    k = rng.choice((1, 1, 1, 2, 2, 3))
    return tuple(rng.sample(pool, k))


def _text(rng: random.Random, cum: list[float], n_words: int, brand: str | None) -> str:
    words = rng.choices(VOCAB, cum_weights=cum, k=n_words)
    if brand:
        words.insert(rng.randrange(len(words) + 1), brand)
    if rng.random() < 1 / 20_000:
        words.insert(rng.randrange(len(words) + 1), VERY_RARE)
    return " ".join(words)


def build(path: Path, scale: Scale, *, log: Any = None) -> None:
    """Generate the database at `path` (replaced) and its watchlist beside it."""
    say = log or (lambda *_: None)
    started = time.monotonic()
    rng = random.Random(SEED)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)

    sources = source_list(scale.sources)
    wl_file = watchlist_path(scale)
    wl_file.write_text(watchlist_toml([(n, u) for n, u, _ in sources]), encoding="utf-8")
    wl = load_watchlist(wl_file)
    with Store.open(tmp) as store:
        store.sync_sources(wl)
        store.sync_members(wl)
        member_pids = {
            r[0]: r[1] for r in store.query("SELECT name, person_id FROM members")
        }  # name -> pid
    member_info = {name: (role, member_pids[name]) for name, role, _ in member_names()}

    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("PRAGMA journal_mode=MEMORY")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-400000")
    conn.execute("PRAGMA foreign_keys=OFF")
    # Drop the mention indexes and full-text triggers during the load; their exact SQL
    # is put back afterwards.
    saved = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'mentions' "
        "AND type IN ('index', 'trigger') AND sql IS NOT NULL"
    ).fetchall()
    for kind, name, _ in saved:
        conn.execute(f"DROP {kind.upper()} [{name}]")

    # --- persons and accounts ----------------------------------------------------------
    n_members = len(member_info)
    n_persons = scale.persons - n_members
    member_mentions = [rng.randint(50, 400) for _ in range(n_members)]
    authorless = scale.mentions // 20
    counts = _zipf_counts(rng, n_persons, scale.mentions - authorless - sum(member_mentions))
    hosts = [h if h not in ("blog", "forum") else _host(u) for _, u, h in sources]
    open_idx = list(range(N_COMMUNITY_SOURCES, len(sources)))
    community_idx = list(range(min(N_COMMUNITY_SOURCES, len(sources))))

    persons: list[tuple[str, str]] = []
    accounts: list[tuple[Any, ...]] = []
    idents: list[tuple[str, str, str]] = []
    # per person: (pid, [(account_id, name, home source index)], class, role)
    people: list[tuple[str, list[tuple[str, str, int]], str, str | None]] = []
    created = "2024-01-01T00:00:00Z"

    def add_account(
        pid: str, name: str, src: int, ids: tuple[Identifier, ...], platform: str
    ) -> str:
        site = hosts[src]
        acc = Account(
            site=site,
            name=name,
            identifiers=ids,
            profile_url=ids[0].value if ids and ids[0].kind == "url" else None,
            platform=platform,
        )
        key = account_key(acc, f"https://{site}/x")
        aid = short_hash(key, size=32)
        accounts.append(
            (aid, key, site, platform, name, fold(name), acc.profile_url, len(ids), pid)
        )
        idents.extend((i.kind, i.value, aid) for i in ids)
        return aid

    for name, (role, pid) in member_info.items():
        handle = next(h for n, _, h in member_names() if n == name)
        src = rng.choice(community_idx) if community_idx else 0
        ids = (Identifier("url", f"https://forum.acme.example/u/{handle}"),)
        aid = add_account(pid, name, src, ids, "discourse")
        people.append((pid, [(aid, name, src)], "member", role))

    known = {i: k for i, k in zip(range(0, n_persons, max(n_persons // 8, 1)), KNOWN, strict=False)}
    for i in range(n_persons):
        r = rng.random()
        if i in known:
            name, kind, value = known[i]
            if kind == "email":
                value = hashlib.sha256(value.encode()).hexdigest()
            ids: tuple[Identifier, ...] = (Identifier(kind, value),)
            klass = "identified"
        else:
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}" if r < 0.6 else _pseudo(rng)
            identified = rng.random() < 0.65
            ids = ()
            klass = "anonymous"
            if identified:
                klass = "identified"
        src = (
            rng.choice(open_idx)
            if rng.random() < 0.9 or not community_idx
            else rng.choice(community_idx)
        )
        if klass == "identified" and not ids:
            ids = _identifiers(rng, i, name, hosts[src])
        pid = new_person_id(f"bench-person-{i}")
        persons.append((pid, created))
        platform = ("wordpress", "discourse", "feed", "phpbb")[src % 4]
        accs = [(add_account(pid, name, src, ids, platform), name, src)]
        if klass == "identified" and rng.random() < 0.1:
            src2 = rng.choice(open_idx)
            name2 = _pseudo(rng) if rng.random() < 0.5 else name
            ids2 = _identifiers(rng, i + 10_000_000, name2, hosts[src2])
            accs.append((add_account(pid, name2, src2, ids2, "feed"), name2, src2))
        people.append((pid, accs, klass, None))

    conn.execute("BEGIN")
    conn.executemany("INSERT INTO persons (id, created) VALUES (?, ?)", persons)
    conn.executemany(
        "INSERT OR IGNORE INTO accounts (id, key, site, platform, name, name_folded, "
        "profile_url, n_identifiers, person_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        accounts,
    )
    conn.executemany(
        "INSERT OR IGNORE INTO identifiers (kind, value, account_id) VALUES (?, ?, ?)", idents
    )
    conn.execute("COMMIT")
    say(f"persons and accounts: {len(people)} persons, {len(accounts)} accounts")

    # --- mentions, in time order -------------------------------------------------------
    slots: list[int] = []  # person index per mention; -1 = no author
    for p, n in enumerate(member_mentions + counts):
        slots.extend([p] * n)
    slots.extend([-1] * (scale.mentions - len(slots)))
    rng.shuffle(slots)
    span = DAYS * 86400
    start = END - timedelta(days=DAYS)
    # A mild growth over the two years, and fewer mentions at night and on weekends.
    times = sorted(int(span * rng.random() ** 0.8) for _ in range(scale.mentions))
    cum: list[float] = []
    acc_w = 0.0
    for rank in range(len(VOCAB)):
        acc_w += 1 / (rank + 1)
        cum.append(acc_w)
    threads: list[deque[str]] = [deque(maxlen=8) for _ in sources]
    sql = (
        "INSERT INTO mentions (id, watchlist, source, source_kind, url, entry_id, content_hash, "
        "thread_url, parent_url, space, title, text, published, undated, fetched, language, "
        "sentiment, matched, context, account_id, author_name, person_id, author_class, "
        "author_role) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?)"
    )
    batch: list[tuple[Any, ...]] = []
    conn.execute("BEGIN")
    for n, (slot, t) in enumerate(zip(slots, times, strict=True)):
        published = start + timedelta(seconds=t)
        if slot >= 0:
            pid, accs, klass, role = people[slot]
            aid, author, src = accs[0] if len(accs) == 1 or rng.random() < 0.7 else accs[1]
            if rng.random() < 0.25:
                src = rng.choice(open_idx)
        else:
            pid = aid = role = None
            author, klass = "", "anonymous"
            src = rng.choice(open_idx)
        sname, _, _ = sources[src]
        host = hosts[src]
        community = src < N_COMMUNITY_SOURCES
        url = f"https://{host}/{published:%Y/%m}/{n:07d}-{rng.randrange(1 << 30):x}"
        reply = threads[src] and rng.random() < 0.3
        if reply:
            root = threads[src][rng.randrange(len(threads[src]))]
            url = f"{root}#comment-{n}"
            thread_url, parent_url = root, root
            context = rng.random() < 0.5
        else:
            thread_url, parent_url, context = url, None, False
            threads[src].append(url)
        brand = None if context else rng.choice(BRAND)
        title = ("Re: " if reply else "") + _text(rng, cum, rng.randint(4, 9), None).capitalize()
        text = _text(rng, cum, rng.randint(44, 66), brand)
        matched = "[]" if context else json.dumps([rng.choice(MATCHED)])
        sentiment = None if rng.random() < 0.1 else round(rng.uniform(-1, 1), 3)
        pub = published.strftime("%Y-%m-%dT%H:%M:%SZ")
        fetched = (published + timedelta(minutes=rng.randint(5, 600))).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        batch.append(
            (
                short_hash(WATCHLIST, url, size=32),
                WATCHLIST,
                sname,
                "feed",
                url,
                url if rng.random() < 0.5 else f"tag:{host},2025:{n}",
                short_hash(fold(title), fold(text), size=32),
                thread_url,
                parent_url,
                "community" if community else "open",
                title,
                text,
                pub,
                0,
                fetched,
                "fr" if rng.random() < 0.6 else "en",
                sentiment,
                matched,
                int(context),
                aid,
                author,
                pid,
                klass,
                role,
            )
        )
        if len(batch) >= 50_000:
            conn.executemany(sql, batch)
            batch.clear()
            if (n + 1) % 200_000 == 0:
                conn.execute("COMMIT")
                conn.execute("BEGIN")
                say(f"mentions: {n + 1:,} ({time.monotonic() - started:.0f} s)")
    conn.executemany(sql, batch)
    conn.execute("COMMIT")

    say(f"indexes and full-text index ({time.monotonic() - started:.0f} s)")
    conn.execute("BEGIN")
    for _, _, ddl in saved:
        conn.execute(ddl)
    conn.execute("INSERT INTO mentions_fts (mentions_fts) VALUES ('rebuild')")
    conn.execute(
        "UPDATE sources SET last_scan = ?1, last_success = ?1 WHERE watchlist = ?2",
        (END.strftime("%Y-%m-%dT%H:%M:%SZ"), WATCHLIST),
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    os.replace(tmp, path)
    say(f"built {path.name} in {time.monotonic() - started:.0f} s")


def cached_db(scale: Scale, *, force: bool = False, log: Any = None) -> tuple[Path, Path]:
    """The (database, watchlist) of this scale, built once per generator version."""
    path = db_path(scale)
    if force or not path.exists() or not watchlist_path(scale).exists():
        build(path, scale, log=log)
    return path, watchlist_path(scale)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.gen_db", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="a tenth of the full size")
    ap.add_argument("--force", action="store_true", help="rebuild even if cached")
    args = ap.parse_args(argv)
    db, wl = cached_db(
        QUICK if args.quick else FULL,
        force=args.force,
        log=lambda m: print(m, file=sys.stderr, flush=True),
    )
    print(db)
    print(wl)


if __name__ == "__main__":
    main()
