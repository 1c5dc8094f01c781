"""A linkage attack on the research snapshot: how many research keys (cases,
persons, ...) can be tied back to exactly one operational id, without any key.

The attacker holds the operational database and the published snapshot and knows
how the snapshot is made (`docs/research.md`). They rebuild every snapshot table
from the operational data with the same coarsening but keep the operational ids
(the "twin", `gjenganger.store.research.write_twin`), then join each snapshot
table to its twin on every column the two share: all but the key columns
(`*_key`), null-safe. The candidates of a research key are the operational ids
that fit every row it occurs in, in every table, with the same number of rows per
table (a person with 3 links can only be a person with 3 links). Candidates feed
back: the rows of a key-only table (`case_persons`) must join candidates of all
their keys at once. Rounds repeat until nothing changes; a key with one candidate
left is re-identified. The true id always stays a candidate (the tests check it),
so a unique match is a correct re-identification, never a guess.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

#: keys whose candidates start from their row counts alone when the research and
#: operational keys with equal counts pair up into at most this many pairs
DEGREE_PAIRS = 20_000_000


def _columns(con, db: str, table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns"
            " where table_catalog = ? and table_name = ? order by ordinal_position",
            [db, table],
        ).fetchall()
    ]


def _keyed_tables(con) -> dict[str, list[str]]:
    """Snapshot table -> its key columns (tables without keys hold no one)."""
    out = {}
    for (t,) in con.execute(
        "select table_name from information_schema.tables"
        " where table_catalog = 'snap' and table_name <> 'about' order by all"
    ).fetchall():
        keys = [c for c in _columns(con, "snap", t) if c.endswith("_key")]
        if keys:
            out[t] = keys
    return out


def _values(con, table: str, keys: list[str]) -> list[str]:
    """The columns of a snapshot table the attack joins on: all but its keys."""
    return [c for c in _columns(con, "snap", table) if c not in keys]


def _same(cols: list[str]) -> list[str]:
    return [f'r."{c}" is not distinct from t."{c}"' for c in cols]


def _degrees(con, tables: dict[str, list[str]], key: str) -> None:
    """`rdeg_<key>` / `tdeg_<key>`: per research and twin value of `key`, its row
    count in each table holding it, as one comparable string."""
    holders = [t for t, keys in tables.items() if key in keys]

    def side(prefix: str) -> str:
        parts = [
            f"select {key} as id, '{t}=' || count(*) as n from {prefix}{t}"
            f" where {key} is not null group by all"
            for t in holders
        ]
        return (
            f"select id, string_agg(n, ',' order by n) as deg"
            f" from ({' union all '.join(parts)}) group by id"
        )

    con.execute(f"create or replace temp table rdeg_{key} as {side('r_')}")
    con.execute(f"create or replace temp table tdeg_{key} as {side('twin.')}")


def _seed_by_degree(con, key: str, known: set) -> None:
    """Candidates of `key` from row counts alone, when that is a small join."""
    pairs = con.execute(
        f"select sum(a.n * b.n) from (select deg, count(*) as n from rdeg_{key}"
        f" group by all) a join (select deg, count(*) as n from tdeg_{key}"
        f" group by all) b using (deg)"
    ).fetchone()[0]
    if pairs is not None and pairs <= DEGREE_PAIRS:
        con.execute(
            f"create or replace temp table cand_{key} as select a.id as rk,"
            f" b.id as ok from rdeg_{key} a join tdeg_{key} b using (deg)"
        )
        _cover(con, key, known)


def _cover(con, key: str, known: set) -> None:
    con.execute(
        f"create or replace temp table cov_{key} as"
        f" select rk, count(*) as n from cand_{key} group by rk"
    )
    known.add(key)


def _driver(con, table: str, keys: list[str], known: set) -> str | None:
    """The known key whose candidates cover every row of `table` (so none is
    null there) and make the fewest pairs; None when no key covers the table."""
    best, fewest = None, None
    for k in keys:
        if k not in known:
            continue
        missing, pairs = con.execute(
            f"select count(*) filter (where v.rk is null), sum(v.n)"
            f" from r_{table} r left join cov_{k} v on v.rk = r.{k}"
        ).fetchone()
        if not missing and (fewest is None or (pairs or 0) < fewest):
            best, fewest = k, pairs or 0
    return best


def _within(rel: str, key: str, r: str, t: str) -> str:
    """Rows of `rel` whose research value `r` of `key` has no candidates yet or
    has twin value `t` among them."""
    return (
        f"select x.* from ({rel}) x left join cov_{key} v on v.rk = x.{r}"
        f" left join cand_{key} c on c.rk = x.{r} and c.ok = x.{t}"
        f" where x.{r} is null or v.rk is null or c.rk is not null"
    )


def _match(con, table: str, keys: list[str], known: set) -> bool:
    """`m_<table>`: (row, research and twin value of each key) for each research
    row and each twin row that fits it on every shared value and every known
    candidate. False (nothing built) when there is neither a value nor a
    covering key to join on."""
    values = _values(con, table, keys)
    driver = _driver(con, table, keys, known)
    if not values and driver is None:
        return False
    source, conds = f"r_{table}", _same(values)
    if driver:  # materialised first, so the join cannot start from the values
        source = "drive"
        con.execute(
            f"create or replace temp table drive as select r.*, c.ok as _drive"
            f" from r_{table} r join cand_{driver} c on c.rk = r.{driver}"
        )
        conds.insert(0, f"t.{driver} = r._drive")
    conds += [f"(r.{k} is null) = (t.{k} is null)" for k in keys if k != driver]
    sel = ", ".join(f"r.{k} as r_{k}, t.{k} as t_{k}" for k in keys)
    rel = (
        f"select r._row, {sel} from {source} r"
        f" join twin.{table} t on {' and '.join(conds)}"
    )
    for k in keys:
        if k in known and k != driver:
            rel = _within(rel, k, f"r_{k}", f"t_{k}")
    con.execute(f"create or replace temp table m_{table} as {rel}")
    return True


def _narrow(con, table: str, key: str, known: set) -> None:
    """Candidates of `key` that fit every row of `table` holding it, within its
    earlier candidates, with the same row counts per table on both sides; keys
    `table` does not hold keep theirs."""
    fits = (
        f"select m.rk, m.ok from (select r_{key} as rk, t_{key} as ok,"
        f" count(distinct _row) as n from m_{table} where r_{key} is not null"
        f" group by all) m join (select {key} as rk, count(*) as n from r_{table}"
        f" group by all) x on x.rk = m.rk and x.n = m.n"
        f" join rdeg_{key} a on a.id = m.rk join tdeg_{key} b on b.id = m.ok"
        f" where a.deg = b.deg"
    )
    if key in known:
        fits = (
            f"{_within(fits, key, 'rk', 'ok')} union all select c.* from cand_{key} c"
            f" anti join r_{table} r on r.{key} = c.rk"
        )
    con.execute(f"create or replace temp table cand_{key} as {fits}")
    _cover(con, key, known)


def _summary(con, key: str) -> dict:
    n, unique, median = con.execute(
        f"select count(*), count(*) filter (where v.n = 1), median(v.n)"
        f" from rdeg_{key} r left join cov_{key} v on v.rk = r.id"
    ).fetchone()
    return {
        "keys": n,
        "unique": unique,
        "share": unique / n if n else 0.0,
        "median_candidates": median,
    }


def attack(con, snapshot_path: str | Path, twin_builder, max_rounds: int = 8) -> dict:
    """Link the snapshot at `snapshot_path` back to the operational data in `con`
    (a writable connection; its temp tables `cand_<key>` keep the candidates).

    `twin_builder(con, db)` writes the snapshot's tables with operational ids
    into the attached database `db`. Returns per key column: research keys, how
    many have exactly one candidate and that share, the median number of
    candidates (None for a key no table could narrow); and the rounds run.
    """
    con.execute(f"attach '{snapshot_path}' as snap (read_only)")
    con.execute("attach ':memory:' as twin")
    try:
        twin_builder(con, "twin")
        tables = _keyed_tables(con)
        for t in tables:
            con.execute(
                f"create or replace temp table r_{t} as"
                f" select row_number() over () as _row, * from snap.{t}"
            )
        keys = sorted({k for ks in tables.values() for k in ks})
        known: set[str] = set()
        valued = {k for t, ks in tables.items() for k in ks if _values(con, t, ks)}
        for k in keys:
            _degrees(con, tables, k)
            if k not in valued:  # found in key-only tables: start from counts
                _seed_by_degree(con, k, known)
        sizes, rounds = None, 0
        while rounds < max_rounds:
            rounds += 1
            for t, ks in tables.items():
                if _match(con, t, ks, known):
                    for k in ks:
                        _narrow(con, t, k, known)
            now = {
                k: con.execute(f"select count(*) from cand_{k}").fetchone()[0]
                for k in known
            }
            if now == sizes:
                break
            sizes = now
        out = {"rounds": rounds}
        for k in keys:
            if k not in known:
                con.execute(f"create temp table cov_{k} (rk varchar, n bigint)")
            out[k] = _summary(con, k)
        return out
    finally:
        con.execute("detach snap")
        con.execute("detach twin")


def attack_files(db_path: str | Path, snapshot_path: str | Path) -> dict:
    """`attack` on files: the operational database (opened read-only) against a
    published snapshot; for benchmarks and the command line."""
    from gjenganger.store.research import write_twin

    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'Europe/Oslo'")
        con.execute(f"attach '{db_path}' as op (read_only)")
        con.execute("use op")
        return attack(con, snapshot_path, write_twin)
    finally:
        con.close()


def uniqueness(snapshot_path: str | Path, table: str) -> dict:
    """k-anonymity of one snapshot table on its own: its rows, the share of rows
    whose published values (every column but the keys) no other row shares, and
    the median size of a row's class of rows with the same values."""
    con = duckdb.connect(str(snapshot_path), read_only=True)
    try:
        cols = [
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns"
                " where table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
            if not r[0].endswith("_key")
        ]
        part = ", ".join(f'"{c}"' for c in cols)
        n, unique, median = con.execute(
            f"with k as (select count(*) over (partition by {part}) as k"
            f" from {table}) select count(*), avg((k = 1)::int), median(k) from k"
        ).fetchone()
    finally:
        con.close()
    return {"rows": n, "unique_share": unique, "median_class": median}


def ids_in(blob: bytes, ids: set[bytes]) -> set[bytes]:
    """The ids of `ids` found anywhere in `blob`, as raw bytes: every position
    holding an id's first byte is tried with every id length (a set lookup, so
    any id format works and ids glued to other bytes are found too)."""
    if not ids:
        return set()
    lengths = sorted({len(i) for i in ids})
    firsts = {i[:1] for i in ids}
    found = set()
    for first in firsts:
        start = blob.find(first)
        while start >= 0:
            for n in lengths:
                if blob[start : start + n] in ids:
                    found.add(blob[start : start + n])
            start = blob.find(first, start + 1)
    return found


def operational_ids(con) -> set[bytes]:
    """Every operational identifier of the database in `con`: incidents, persons,
    cards, card transactions, custody periods and card episodes."""
    sources = {
        "incidents": "incident_id",
        "incident_persons": "person_id",
        "custody": "custody_id, person_id",
        "card_transactions": "transaction_id, card_ref",
        "episodes": "episode_id, card_ref, person_id",
    }
    out: set[bytes] = set()
    for table, cols in sources.items():
        if not con.execute(
            "select count(*) from information_schema.tables where table_name = ?",
            [table],
        ).fetchone()[0]:
            continue
        for col in cols.split(", "):
            out |= {
                r[0].encode()
                for r in con.execute(
                    f"select distinct {col} from {table} where {col} is not null"
                ).fetchall()
            }
    return out


if __name__ == "__main__":  # python -m gjenganger.store.research_attack DB SNAPSHOT
    import json
    import sys

    result = attack_files(sys.argv[1], sys.argv[2])
    result["cases_k_anonymity"] = uniqueness(sys.argv[2], "cases")
    print(json.dumps(result, indent=2))
