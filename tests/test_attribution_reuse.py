"""Night-to-night reuse of attribution evidence gives the same answer as recomputing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from gjenganger.analytics import attribution as at
from gjenganger.analytics import attribution_reuse as ar
from gjenganger.analytics import linkage as lk


@pytest.fixture(scope="module")
def store_db(tmp_path_factory):
    """Five months of generated data, ingested."""
    from gjenganger.flows.steps.ingest import ingest
    from gjenganger.store import db
    from gjenganger.synth.config import SynthConfig
    from gjenganger.synth.generator import generate

    root = tmp_path_factory.mktemp("reuse")
    generate(
        SynthConfig(
            seed=3, start=dt.date(2025, 1, 1), days=150, scale=0.15, batch_days=5
        ),
        root / "data",
    )
    con = db.connect(root / "db.duckdb")
    ingest(con, root / "data" / "inbox")
    yield con
    con.close()


def frames(con, day):
    from gjenganger.store import frames

    return (
        frames.load_incidents(con, day),
        frames.load_links(con, day),
        frames.load_custody(con, day),
    )


@pytest.mark.slow
def test_reused_rows_give_the_attribution_of_computing_every_row(store_db):
    d1, d2 = dt.date(2025, 5, 20), dt.date(2025, 5, 25)
    first = at.attribute(*frames(store_db, d1), d1, keep_evidence=True)
    prev = at.Previous(first.fitted, first.evidence, first.fingerprints)
    reused = at.attribute(*frames(store_db, d2), d2, previous=prev, keep_evidence=True)
    nothing = at.Previous(first.fitted, first.evidence.clear(), first.fingerprints)
    fresh = at.attribute(
        *frames(store_db, d2), d2, previous=nothing, keep_evidence=True
    )
    assert reused.mode == fresh.mode == "reuse"
    assert reused.timings["rows_reused"] > 0.5 * fresh.timings["rows_computed"]
    assert reused.timings["rows_computed"] > 0  # new cases and changed persons
    assert "rows_reused" not in fresh.timings or fresh.timings["rows_reused"] == 0
    key = ["incident_id", "person_id"]
    a = reused.model.candidates.sort(key)
    b = fresh.model.candidates.sort(key)
    assert a.select(key, "rank").equals(b.select(key, "rank"))
    np.testing.assert_allclose(a["p"].to_numpy(), b["p"].to_numpy(), rtol=0, atol=1e-9)
    # the stored table after tonight's update holds tonight's evidence for every row
    persons, cases = reused.dirty
    kept = first.evidence.filter(
        ~pl.col("person_id").is_in(list(persons))
        & ~pl.col("incident_id").is_in(list(cases))
    )
    table = pl.concat([kept.join(reused.evidence, on=key, how="anti"), reused.evidence])
    assert table.select(key).is_unique().all()
    now = fresh.evidence.join(table, on=key, how="left", suffix="_t")
    assert now["n_known_t"].null_count() == 0  # every row of tonight is in the table
    for c in ar.FEATURE_COLUMNS:
        same = (now[c] == now[f"{c}_t"]) | (now[c].is_nan() & now[f"{c}_t"].is_nan())
        assert same.all(), c
    assert reused.evidence.height < fresh.evidence.height / 2


@pytest.mark.slow
def test_a_first_night_trains_and_a_reused_night_keeps_the_pair_models(store_db):
    d1, d2 = dt.date(2025, 5, 20), dt.date(2025, 5, 21)
    first = at.attribute(*frames(store_db, d1), d1, keep_evidence=True)
    assert first.mode == "full" and first.fitted.as_of == d1
    prev = at.Previous(first.fitted, first.evidence, first.fingerprints)
    second = at.attribute(*frames(store_db, d2), d2, previous=prev)
    assert second.fitted is first.fitted
    assert not second.stage1_trained  # no link retracted: stage 1 kept too


def _without(links: pl.DataFrame, incident_id: str) -> pl.DataFrame:
    """`links` with the links of one incident retracted."""
    return links.filter(pl.col("incident_id") != incident_id)


@pytest.mark.slow
def test_a_retracted_training_link_trains_the_kept_stage1_model_again(store_db):
    d1, d2 = dt.date(2025, 5, 20), dt.date(2025, 5, 21)
    first = at.attribute(*frames(store_db, d1), d1, keep_evidence=True)
    assert first.stage1_trained and first.fitted.stage1 is not None
    assert first.fitted.stage1_as_of == d1
    prev = at.Previous(first.fitted, first.evidence, first.fingerprints)
    incidents, links, custody = frames(store_db, d2)
    trained_on = set(first.ctx.cases.incident_id[first.ctx.train_idx])
    solved = links["incident_id"].unique().to_list()
    inside = next(i for i in solved if i in trained_on)
    outside = next(i for i in solved if i not in trained_on)
    second = at.attribute(
        incidents, _without(links, inside), custody, d2, previous=prev
    )
    assert second.stage1_trained
    assert second.fitted.pairs is first.fitted.pairs  # the pair models are kept
    assert second.fitted.stage1 is not first.fitted.stage1
    assert second.fitted.stage1_as_of == d2
    # a retracted link that labelled no training case leaves stage 1 as it was
    kept = at.attribute(incidents, _without(links, outside), custody, d2, previous=prev)
    assert not kept.stage1_trained and kept.fitted.stage1 is first.fitted.stage1


def _links() -> lk.Links:
    return lk.Links(
        persons=np.array(["A", "B"]),
        case_idx=np.array([0, 1, 2]),
        person_idx=np.array([0, 1, 1]),
    )


def test_a_changed_case_changes_only_its_persons_fingerprint():
    h = np.array([5, 7, 9], np.uint64)
    fp1, n1 = ar.person_fingerprints(h, _links(), None, np.array([0, 1]))
    h2 = h.copy()
    h2[2] = 10
    fp2, n2 = ar.person_fingerprints(h2, _links(), None, np.array([0, 1]))
    assert fp1[0] == fp2[0] and fp1[1] != fp2[1]
    assert n1.tolist() == n2.tolist() == [1, 2]


def test_open_custody_keeps_the_fingerprint_and_a_new_stay_changes_it():
    h = np.array([5, 7, 9], np.uint64)
    t = dt.datetime(2025, 3, 1, 12)
    open_stay = pl.DataFrame(
        {"person_id": ["A"], "start_at": [t], "end_at": [None]},
        schema_overrides={"end_at": pl.Datetime},
    )
    a1, _ = ar.person_fingerprints(h, _links(), open_stay, np.array([0, 1]))
    a2, _ = ar.person_fingerprints(h, _links(), open_stay.clone(), np.array([0, 1]))
    closed = open_stay.with_columns(end_at=pl.lit(t + dt.timedelta(days=3)))
    a3, _ = ar.person_fingerprints(h, _links(), closed, np.array([0, 1]))
    assert a1.tolist() == a2.tolist()
    assert a3[0] != a1[0] and a3[1] == a1[1]


def test_changed_names_new_and_changed_keys_only():
    before = pl.DataFrame({"k": ["a", "b", "c"], "fp": [1, 2, 3]})
    now = pl.DataFrame({"k": ["a", "b", "d"], "fp": [1, 5, 4]})
    assert ar.changed(now, before, "k") == {"b", "d"}


@pytest.mark.slow
def test_the_nightly_step_stores_state_and_reuses_it_the_next_night(store_db):
    from gjenganger.flows.steps.attribution import build_attribution

    first = build_attribution(store_db, dt.date(2025, 5, 10))
    second = build_attribution(store_db, dt.date(2025, 5, 11))
    assert first["mode"] == "full" and second["mode"] == "reuse"
    assert second["pair_models"].startswith("reused")
    dup = store_db.execute(
        "select count(*) from (select incident_id, person_id from"
        " attribution_evidence group by all having count(*) > 1)"
    ).fetchone()[0]
    assert dup == 0
    missing = store_db.execute(
        "select count(*) from attribution_candidates c anti join attribution_evidence e"
        " using (incident_id, person_id) where c.as_of = '2025-05-11'"
    ).fetchone()[0]
    assert missing == 0
    # the same night again (a rerun after an upgrade): nothing changed, every row
    # is reused, the first chunks compute none, and the stored evidence is unchanged
    before = store_db.execute("select * from attribution_evidence order by all").pl()
    again = build_attribution(store_db, dt.date(2025, 5, 11))
    computed = again["seconds"]["rows_computed"]
    assert again["mode"] == "reuse" and computed < second["seconds"]["rows_computed"]
    after = store_db.execute("select * from attribution_evidence order by all").pl()
    assert after.equals(before)
    # a week later the pair models are trained again
    later = build_attribution(store_db, dt.date(2025, 5, 18))
    assert later["mode"] == "full" and "older than 7 days" in later["pair_models"]


def test_the_evidence_sink_takes_empty_chunks_first():
    """Chunks arrive from worker threads in any order; one that computed no row
    (all reused) may come first. The table is made once, from the first chunk."""
    import duckdb

    from gjenganger.store.attribution import EvidenceSink

    con = duckdb.connect()
    sink = EvidenceSink(con)
    chunk = pl.DataFrame(
        {"incident_id": ["I1", "I2"], "person_id": ["A", "B"], "n_known": [3, 4]}
    )
    sink(chunk.clear())
    sink(chunk)
    sink(chunk.clear())
    assert sink.rows == 2
    assert con.execute(f"select count(*) from {sink.TABLE}").fetchone()[0] == 2


@pytest.mark.slow
def test_a_write_deletes_the_hypotheses_of_nights_past_keep_days(store_db):
    from gjenganger.flows.steps.attribution import HYPOTHESIS_TABLES, build_attribution

    def nights(table):
        return [
            r[0].isoformat()
            for r in store_db.execute(
                f"select distinct as_of from {table}"
                " where as_of between '2025-04-01' and '2025-04-30' order by 1"
            ).fetchall()
        ]

    build_attribution(store_db, dt.date(2025, 4, 1), keep_days=14)
    build_attribution(store_db, dt.date(2025, 4, 12), keep_days=14)
    assert nights("attribution_candidates") == ["2025-04-01", "2025-04-12"]
    last = build_attribution(store_db, dt.date(2025, 4, 20), keep_days=14)
    assert last["old_hypothesis_rows_deleted"] > 0
    for table in HYPOTHESIS_TABLES:  # 04-01 is past 04-20 - 14 days; 04-12 is not
        assert nights(table) == ["2025-04-12", "2025-04-20"], table
    # writing an earlier night again leaves the later ones alone
    build_attribution(store_db, dt.date(2025, 4, 12), keep_days=14)
    assert nights("attribution_candidates") == ["2025-04-12", "2025-04-20"]


@pytest.mark.slow
def test_attribution_reports_its_stages_and_every_tenth_of_the_open_cases(store_db):
    import re

    day = dt.date(2025, 5, 20)
    heard: list[str] = []
    run = at.attribute(
        *frames(store_db, day), day, chunk_cases=100, progress=heard.append
    )
    n_open = len(run.ctx.open_idx)
    assert n_open > 1000  # more than ten chunks, so every tenth is heard of
    assert heard[0].endswith("pair models trained")
    assert heard[1].startswith("ranking model trained on")
    scored = [
        int(re.match(r"scored ([\d,]+) of", m).group(1).replace(",", ""))
        for m in heard[2:]
    ]
    assert len(scored) == 10 and scored == sorted(scored) and scored[-1] == n_open
    assert all(m.endswith(f"of {n_open:,} open cases") for m in heard[2:])
