"""A linkage attack on the research snapshot: how many research cases and persons
can be tied back to exactly one operational incident or person, without any key.

The attacker holds the operational database and the published snapshot and knows
how the snapshot is made (`docs/research.md`). They rebuild every snapshot table
from the operational data with the same coarsening but keep the operational ids
(the "twin"), then join each snapshot table to its twin on every column the two
share (all but the `*_key` columns; null-safe). The candidates of a research key
(case, person, card, series) are the operational ids that fit every row it occurs
in, in every table, with the same number of rows per table (a case without
persons can only be an incident without persons). Candidates feed back: a case's
persons must be candidates of those persons, a person's cases candidates of those
cases. Rounds repeat until nothing changes; a key with one candidate left is
linked. The true id always stays a candidate (checked by the tests), so a unique
match is a correct re-identification, never a guess.
"""

from __future__ import annotations

from pathlib import Path

#: the research keys of the snapshot, by column name -> what they stand for
KEYS = {
    "case_key": "cases",
    "person_key": "persons",
    "card_key": "cards",
    "series_key": "series",
}


def _columns(con, db: str, table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns"
            " where table_catalog = ? and table_name = ? order by ordinal_position",
            [db, table],
        ).fetchall()
    ]


def _tables(con, db: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables"
            " where table_catalog = ? and table_name <> 'about' order by table_name",
            [db],
        ).fetchall()
    ]


def _same(cols: list[str]) -> str:
    return " and ".join(f'r."{c}" is not distinct from t."{c}"' for c in cols) or "1=1"


def _covers(con, table: str, key: str, known: set) -> bool:
    """Every research value of `key` in `table` already has candidates."""
    if key not in known:
        return False
    return not con.execute(
        f"select count(*) from r_{table} r anti join cov_{key} v on v.rk = r.{key}"
        f" where r.{key} is not null"
    ).fetchone()[0]


def _within(rel: str, key: str, r: str, t: str) -> str:
    """Rows of `rel` whose research value `r` of `key` has no candidates yet or
    has twin value `t` among them."""
    return (
        f"select x.* from ({rel}) x left join cov_{key} v on v.rk = x.{r}"
        f" left join cand_{key} c on c.rk = x.{r} and c.ok = x.{t}"
        f" where x.{r} is null or v.rk is null or c.rk is not null"
    )


def _match_table(con, table: str, keys: list[str], values: list[str], known: set):
    """`m_<table>`: (row, research key..., twin key...) for each research row and
    each twin row that fits it on every value and every known key candidate.
    False (nothing built) when there is neither a value nor a covering key to
    join on."""
    driver = next((k for k in keys if _covers(con, table, k, known)), None)
    if not values and driver is None:
        return False
    conds = [_same(values)]
    join = ""
    if driver:
        join = f"join cand_{driver} c0 on c0.rk = r.{driver} "
        conds.append(f"t.{driver} = c0.ok")
    conds += [f"(r.{k} is null) = (t.{k} is null)" for k in keys]
    sel = ", ".join(f"r.{k} as r_{k}, t.{k} as t_{k}" for k in keys)
    rel = (
        f"select r._row, {sel} from r_{table} r {join}"
        f"join twin.{table} t on {' and '.join(conds)}"
    )
    for k in keys:
        if k in known and k != driver:
            rel = _within(rel, k, f"r_{k}", f"t_{k}")
    con.execute(f"create or replace temp table m_{table} as {rel}")
    return True


def _degrees(con, tables: dict[str, list[str]], key: str) -> None:
    """`deg_<key>`: per research and twin key value, its number of rows per table
    (0 where absent), as one string so the two sides compare in one join."""
    holders = [t for t, keys in tables.items() if key in keys]

    def side(prefix: str) -> str:
        parts = [
            f"select {key} as id, '{t}' as tbl, count(*) as n from {prefix}{t}"
            f" where {key} is not null group by all"
            for t in holders
        ]
        return (
            f"select id, string_agg(tbl || '=' || n, ',' order by tbl) as deg"
            f" from ({' union all '.join(parts)}) group by id"
        )

    con.execute(
        f"create or replace temp table rdeg_{key} as {side('r_')};"
        f"create or replace temp table tdeg_{key} as {side('twin.')}"
    )


def _narrow(con, table: str, key: str, known: set) -> None:
    """Candidates of `key` that fit every row of `table` holding it, within its
    earlier candidates, with the same number of rows per table on both sides;
    keys `table` does not hold keep theirs."""
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
    con.execute(
        f"create or replace temp table cand_{key} as {fits};"
        f"create or replace temp table cov_{key} as"
        f" select distinct rk from cand_{key}"
    )
    known.add(key)


def _sizes(con, known: set) -> dict[str, int]:
    return {
        k: con.execute(f"select count(*) from cand_{k}").fetchone()[0] for k in known
    }


def attack(con, snapshot_path: str | Path, twin_builder, max_rounds: int = 6) -> dict:
    """Link the snapshot at `snapshot_path` back to the operational data in `con`.

    `twin_builder(con, db)` writes the snapshot's tables with operational ids into
    the attached database `db` (`gjenganger.store.research.write_twin`). Returns
    per key kind (cases, persons, cards, series): research keys, how many have
    exactly one candidate and that share, the median number of candidates; and the
    rounds run. The candidate tables stay as temp tables `cand_<key>`.
    """
    con.execute(f"attach '{snapshot_path}' as snap (read_only)")
    con.execute("attach ':memory:' as twin")
    try:
        twin_builder(con, "twin")
        tables = {}
        for t in _tables(con, "snap"):
            cols = _columns(con, "snap", t)
            keys = [c for c in cols if c in KEYS]
            if not keys:
                continue  # places only (hotspot cells): nothing to link
            tables[t] = keys
            con.execute(
                f"create or replace temp table r_{t} as"
                f" select row_number() over () as _row, * from snap.{t}"
            )
        all_keys = sorted({k for keys in tables.values() for k in keys})
        for k in all_keys:
            _degrees(con, tables, k)
        known: set[str] = set()
        before: dict[str, int] = {}
        rounds = 0
        for rounds in range(1, max_rounds + 1):
            for t, keys in _order(tables, known):
                values = [c for c in _columns(con, "snap", t) if c not in KEYS]
                if _match_table(con, t, keys, values, known):
                    for k in keys:
                        _narrow(con, t, k, known)
            sizes = _sizes(con, known)
            if sizes == before:
                break
            before = sizes
        return {"rounds": rounds, **{KEYS[k]: _summary(con, k) for k in all_keys}}
    finally:
        con.execute("detach snap")
        con.execute("detach twin")


def _order(tables: dict[str, list[str]], known: set):
    """Tables with values to join on first, then those holding only keys."""
    return sorted(tables.items(), key=lambda kv: (kv[0] == "case_persons", kv[0]))


def _summary(con, key: str) -> dict:
    n, unique, median = con.execute(
        f"with c as (select rk, count(*) as n from cand_{key} group by rk)"
        f" select (select count(distinct id) from rdeg_{key}),"
        f" count(*) filter (where n = 1), median(n) from c"
    ).fetchone()
    return {
        "keys": n,
        "unique": unique,
        "share": unique / n if n else 0.0,
        "median_candidates": median,
    }
