"""Issue #16, class 4: the research snapshot cannot be linked back.

A linkage attack (`gjenganger.store.research_attack`) that holds the whole
operational database and knows the snapshot's rules joins every snapshot table to
the operational data on every column they share; on generated worlds of several
sizes it must tie under 5 % of cases, persons and card episodes to one id. The
bundle holds no operational id in any byte; episode ids are not the operational
`card_ref:timestamp`; ids differ from one build to the next (by design).
"""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gjenganger.flows.steps import research as step
from gjenganger.store import research
from gjenganger.store import research_attack as ra

KEY = b"s" * 32
#: column of a research key -> the re-key map that makes it
MAPS = {
    "case_key": "rk_case",
    "person_key": "rk_person",
    "series_key": "rk_series",
    "episode_key": "rk_episode",
}
#: generated worlds: (seed, days, scale)
WORLDS = [(1, 90, 0.2), (2, 60, 0.1), (3, 150, 0.3)]


def _world(root, seed: int, days: int, scale: float):
    """A generated world, ingested, with episodes and phases: a writable
    connection to its operational database."""
    from gjenganger.flows.steps.episodes import build_episodes
    from gjenganger.flows.steps.ingest import ingest
    from gjenganger.flows.steps.phases import build_phases
    from gjenganger.store import db
    from gjenganger.synth.config import SynthConfig
    from gjenganger.synth.generator import generate

    cfg = SynthConfig(
        seed=seed, start=dt.date(2025, 1, 6), days=days, scale=scale, batch_days=days
    )
    generate(cfg, root / "data")
    con = db.connect(root / "db.duckdb")
    ingest(con, root / "data" / "inbox")
    build_episodes(con)
    build_phases(con)
    return con


@pytest.fixture(
    scope="module", params=WORLDS, ids=lambda w: f"seed{w[0]}-{w[1]}d-x{w[2]}"
)
def world(request, tmp_path_factory):
    """One world, its snapshot (fixed salt) and the attack on it."""
    root = tmp_path_factory.mktemp("linkage")
    con = _world(root, *request.param)
    step.build_snapshot(con, root / "research", KEY)
    snap = root / "research" / "gjenganger.duckdb"
    result = ra.attack(con, snap, research.write_twin)
    yield {"con": con, "root": root, "snap": snap, "attack": result}
    con.close()


# ---------------------------------------------------------------- the attack
@pytest.mark.slow
def test_the_attack_ties_under_5_percent_of_cases_persons_and_episodes(world):
    got = world["attack"]
    for key in ("case_key", "person_key", "episode_key"):
        assert got[key]["keys"] > 0, key
        assert got[key]["share"] < 0.05, (key, got[key])
    # and not by luck of a tiny class: the median key keeps several candidates
    assert got["case_key"]["median_candidates"] >= research.K
    assert got["person_key"]["median_candidates"] >= research.K


def _truth_missing(con, cols) -> dict[str, int]:
    """Per key column, research keys whose true operational id the attack
    dropped from its candidates (a sound attack drops none)."""
    out = {}
    for col in cols:
        name = MAPS[col]
        prefix = research.ID_SOURCES[name][0]
        truth = step.rekey(research.operational_ids(con, name), KEY, prefix)
        con.register("truth", truth)
        out[col] = con.execute(
            f"select count(*) from rdeg_{col} r join truth t on t.research_id = r.id"
            f" anti join cand_{col} c on c.rk = t.research_id"
            f" and c.ok = t.operational_id"
        ).fetchone()[0]
        con.unregister("truth")
    return out


@pytest.mark.slow
def test_the_attack_keeps_every_true_id_among_its_candidates(world):
    """A unique match is a correct re-identification: the attack never drops the
    truth (were the twin rebuilt differently, this would fail)."""
    assert _truth_missing(world["con"], MAPS) == dict.fromkeys(MAPS, 0)


@pytest.mark.slow
def test_a_top_list_series_leads_to_no_other_table(world):
    """Series are linkable by nature (a day-by-day series is unique); their key
    is their own, so a found series reaches no case, link or episode."""
    snap = duckdb.connect(str(world["snap"]), read_only=True)
    holders = {
        t
        for (t,) in snap.execute(
            "select table_name from information_schema.columns"
            " where column_name = 'series_key'"
        ).fetchall()
    }
    keys = {
        c
        for (c,) in snap.execute(
            "select column_name from information_schema.columns"
            " where column_name like '%_key'"
        ).fetchall()
    }
    series = {
        r[0] for r in snap.execute("select series_key from person_days").fetchall()
    }
    others = set()
    for table in ("cases", "case_persons", "episodes"):
        for col in [c for c in keys if c != "series_key"]:
            try:
                others |= {
                    r[0] for r in snap.execute(f"select {col} from {table}").fetchall()
                }
            except duckdb.BinderException:
                continue
    snap.close()
    assert holders == {"person_days", "use_periods"}
    assert series and not series & others
    assert world["attack"]["series_key"]["keys"] == len(series)


@pytest.mark.slow
def test_the_attack_finds_an_uncoarsened_snapshot(world, monkeypatch, tmp_path):
    """The attack has teeth: on the old snapshot (exact times and places, cases and
    persons joined) it ties nearly every case and most persons."""
    old = {
        "cases": research.View(
            "old cases",
            """select rk_case.research_id as case_key, i.offence_code,
                      i.target_type, i.value_nok, round(i.lat, 4) as lat,
                      round(i.lon, 4) as lon, i.reported_at, i.occurred_from
               from mart_incidents i
               join rk_case on rk_case.operational_id = i.incident_id""",
            ("mart_incidents",),
        ),
        "case_persons": research.View(
            "old links",
            """select rk_case.research_id as case_key,
                      rk_person.research_id as person_key, l.role
               from mart_links l
               join rk_case on rk_case.operational_id = l.incident_id
               join rk_person on rk_person.operational_id = l.person_id""",
            ("mart_links",),
        ),
        "episodes": research.View(
            "old episodes, a person key null where none is known",
            """select rk_case.research_id as case_key,
                      rk_person.research_id as person_key, e.start_at, e.total_nok
               from episodes e
               join rk_case on rk_case.operational_id = e.incident_id
               left join rk_person on rk_person.operational_id = e.person_id""",
            ("episodes",),
        ),
    }
    monkeypatch.setattr(research, "VIEWS", old)
    # the old layout's columns have no descriptions (a new one must have)
    monkeypatch.setattr(research.meta, "add_comments", lambda *_: None)
    con = world["con"]
    step.build_snapshot(con, tmp_path / "old", KEY)
    got = ra.attack(con, tmp_path / "old" / "gjenganger.duckdb", research.write_twin)
    assert got["case_key"]["share"] > 0.95
    assert got["person_key"]["share"] > 0.5
    assert _truth_missing(con, ("case_key", "person_key")) == {
        "case_key": 0,
        "person_key": 0,
    }


@pytest.mark.slow
def test_cases_are_k_anonymous_at_every_detail_level_but_the_last(world):
    """Each row shares its published values with at least K rows, unless it fell
    to the coarsest level; the uniqueness figure stays under 5 %."""
    figure = ra.uniqueness(world["snap"], "cases")
    assert figure["unique_share"] < 0.05 and figure["median_class"] >= research.K
    snap = duckdb.connect(str(world["snap"]), read_only=True)
    for table, view in research.VIEWS.items():
        if not view.levels:
            continue
        last = len(view.levels) - 1
        cols = [
            c
            for (c,) in snap.execute(
                "select column_name from information_schema.columns"
                " where table_name = ?",
                [table],
            ).fetchall()
            if not c.endswith("_key")
        ]
        small = snap.execute(
            f"select count(*) from (select detail, count(*) as n from {table}"
            f" where detail < {last} group by {', '.join(cols)}) where n < ?",
            [research.K],
        ).fetchone()[0]
        assert small == 0, table
    snap.close()


@pytest.mark.slow
def test_the_documented_columns_are_the_published_ones(world):
    snap = duckdb.connect(str(world["snap"]), read_only=True)
    tables = [r[0] for r in snap.execute("show tables").fetchall()]
    assert {"cases", "case_persons", "episodes", "ref_offence_codes"} <= set(tables)
    for table in tables:
        cols = [r[0] for r in snap.execute(f"describe {table}").fetchall()]
        assert cols == step.documented_columns(table), table
    snap.close()
    assert step.DOC.read_text(encoding="utf-8") == step.render_doc()


# ---------------------------------------------------------------- the bytes
def _bundle_values(bundle) -> bytes:
    """Every text value of every table of the bundle, decoded (compressed strings
    are invisible to a raw scan)."""
    con = duckdb.connect()
    out = []
    con.execute(f"attach '{bundle / 'gjenganger.duckdb'}' as s (read_only)")
    sources = [
        f"s.{t}"
        for (t,) in con.execute(
            "select table_name from information_schema.tables where table_catalog = 's'"
        ).fetchall()
    ]
    sources += [f"'{p}'" for p in sorted((bundle / "parquet").glob("*.parquet"))]
    for src in sources:
        for row in con.execute(f"select * from {src}").fetchall():
            out.append("\t".join(str(v) for v in row))
    con.close()
    return "\n".join(out).encode()


@pytest.mark.slow
def test_no_operational_id_is_in_any_byte_of_the_research_bundle(world):
    ids = ra.operational_ids(world["con"])
    shapes = {re.sub(rb"[0-9]", b"9", re.sub(rb"[A-Za-z]", b"a", i)) for i in ids}
    # incident, person, card, transaction, custody and episode ids all present
    assert len(shapes) >= 5 and any(b":" in s for s in shapes)
    bundle = world["root"] / "research"
    files = [p for p in bundle.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} == {".duckdb", ".parquet", ".html", ".md"}
    for path in files:
        assert ra.ids_in(path.read_bytes(), ids) == set(), path.name
    assert ra.ids_in(_bundle_values(bundle), ids) == set()


@pytest.mark.slow
def test_episode_ids_are_not_the_operational_card_and_time(world):
    con = world["con"]
    operational = {
        r[0] for r in con.execute("select episode_id from episodes").fetchall()
    }
    snap = duckdb.connect(str(world["snap"]), read_only=True)
    cols = {r[0] for r in snap.execute("describe episodes").fetchall()}
    keys = {r[0] for r in snap.execute("select episode_key from episodes").fetchall()}
    snap.close()
    assert operational and len(keys) == len(operational)
    assert not cols & {"episode_id", "card_ref", "card_key", "case_key"}
    assert not keys & operational
    assert not any(re.search(r":\d{8}T", k) for k in keys)
    assert all(re.fullmatch(r"E[a-p]{20}", k) for k in keys)


@pytest.mark.slow
def test_the_same_night_built_twice_has_new_ids_and_the_same_rows(
    world, tmp_path, monkeypatch
):
    """By design: a fresh random salt per build, never stored; only the ids
    differ. With the same salt the ids repeat."""
    import secrets

    salts = []
    draw = secrets.token_bytes

    def spy(n):
        salts.append(draw(n))
        return salts[-1]

    monkeypatch.setattr(secrets, "token_bytes", spy)
    con = world["con"]
    for name in ("a", "b"):
        step.build_snapshot(con, tmp_path / name)
    step.build_snapshot(con, tmp_path / "c", KEY)
    assert len(salts) == 2 and salts[0] != salts[1]

    def read(name: str) -> dict:
        snap = duckdb.connect(str(tmp_path / name / "gjenganger.duckdb"), True)
        out = {}
        for table in ("cases", "case_persons", "episodes"):
            cols = [r[0] for r in snap.execute(f"describe {table}").fetchall()]
            key = next(c for c in cols if c.endswith("_key"))
            rest = [c for c in cols if c != key] or ["1"]
            out[table] = (
                {r[0] for r in snap.execute(f"select {key} from {table}").fetchall()},
                sorted(
                    snap.execute(f"select {', '.join(rest)} from {table}").fetchall(),
                    key=repr,
                ),
            )
        snap.close()
        return out

    a, b, c = read("a"), read("b"), read("c")
    for table in a:
        assert not a[table][0] & b[table][0], table  # no id survives a rebuild
        assert a[table][1] == b[table][1], table  # the same rows otherwise
    fixed = duckdb.connect(str(world["snap"]), read_only=True)
    same = {r[0] for r in fixed.execute("select case_key from cases").fetchall()}
    fixed.close()
    assert same == c["cases"][0]
    blob = b"".join(
        p.read_bytes() for d in "ab" for p in (tmp_path / d).rglob("*") if p.is_file()
    )
    assert not any(s in blob for s in salts)


# ------------------------------------------------- the rules, property-based
@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abc"), st.sampled_from("xyz"), st.integers(0, 3)),
        min_size=1,
        max_size=60,
    )
)
def test_generalising_keeps_every_row_and_k_rows_alike_per_level(rows):
    con = duckdb.connect()
    con.register(
        "src",
        pa.table(
            {
                "k": [f"K{i:04d}" for i in range(len(rows))],
                "a": [r[0] for r in rows],
                "b": [r[1] for r in rows],
                "c": [r[2] for r in rows],
            }
        ),
    )
    view = research.View(
        "t", "select * from src", (), (("a", "b", "c"), ("a", "b"), ("a",), ())
    )
    research._generalise(con, "main.out", view)
    out = con.execute("select k, a, b, c, detail from out order by k").fetchall()
    assert [r[0] for r in out] == [f"K{i:04d}" for i in range(len(rows))]
    for (_, a, b, c, detail), src in zip(out, rows, strict=True):
        kept = view.levels[detail]
        assert (a, b, c) == tuple(
            v if name in kept else None for name, v in zip("abc", src, strict=True)
        )
    small = con.execute(
        "select count(*) from (select count(*) as n from out where detail < 3"
        " group by a, b, c, detail) where n < ?",
        [research.K],
    ).fetchone()[0]
    assert small == 0
    con.close()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=80))
def test_no_persons_link_count_singles_them_out(counts):
    """Microaggregation: every published count is shared by K persons (when at
    least K persons have a rare count); common counts stay exact."""
    con = duckdb.connect()
    persons = [f"P{i:05d}" for i in range(len(counts))]
    con.register(
        "links",
        pa.table(
            {
                "person_id": [
                    p for p, n in zip(persons, counts, strict=True) for _ in range(n)
                ]
            }
        ),
    )
    con.execute("create table mart_links as select *, 'x' as incident_id from links")
    maps = {"rk_person": pa.table({"operational_id": persons, "research_id": persons})}
    research.build_tables(con, "memory", maps)
    published = dict(
        con.execute(
            "select person_key, count(*) from case_persons group by all"
        ).fetchall()
    )
    assert set(published) == set(persons)
    share = {}
    for n in published.values():
        share[n] = share.get(n, 0) + 1
    common = {n for n in set(counts) if counts.count(n) >= research.K}
    rare = [n for n in counts if n not in common]
    for person, n in zip(persons, counts, strict=True):
        if n in common:
            assert published[person] == n
    if len(rare) >= research.K:
        assert min(share.values()) >= research.K
    con.close()


def test_the_scan_finds_ids_glued_to_other_bytes():
    ids = {b"INC-00000001", b"PabcdefghijklmnO", b"CabcdefghijklmnO:20250101T101000"}
    blob = b"\x00\x07xxINC-00000001PabcdefghijklmnOyy\x10CabcdefghijklmnO:2025"
    assert ra.ids_in(blob, ids) == {b"INC-00000001", b"PabcdefghijklmnO"}
    assert ra.ids_in(b"INC-0000000 PabcdefghijklmN", ids) == set()
