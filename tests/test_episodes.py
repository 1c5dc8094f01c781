"""gjenganger.analytics.episodes and `gjenganger episodes`: card-use sprees, persons,
timelines.
"""

from __future__ import annotations

import datetime as dt
import json
import random

import polars as pl
import pytest

from gjenganger.analytics import episodes as ep
from gjenganger.analytics import person_timeline as pt
from gjenganger.analytics import timeline_bands as tb

D = dt.datetime
PERSON = "personAAAA1"
OTHER = "personBBBB2"


# ------------------------------------------------------------------ small frames
def tx_frame(rows: list[tuple]) -> pl.DataFrame:
    """Card transactions from (id, incident, card, at, amount, approved[, merchant,
    category, lat, lon]) tuples, with the store's columns."""
    full = []
    for r in rows:
        tid, inc, card, at, amount, approved = r[:6]
        merchant = r[6] if len(r) > 6 else f"merch{tid}"
        category = r[7] if len(r) > 7 else "grocery"
        lat, lon = (r[8], r[9]) if len(r) > 9 else (63.43, 10.39)
        full.append(
            (
                tid,
                inc,
                card,
                at,
                float(amount),
                category,
                merchant,
                approved,
                False,
                lat,
                lon,
            )
        )
    return pl.DataFrame(
        full,
        schema={
            "transaction_id": pl.String,
            "incident_id": pl.String,
            "card_ref": pl.String,
            "at": pl.Datetime("us"),
            "amount_nok": pl.Float64,
            "merchant_category": pl.String,
            "merchant_ref": pl.String,
            "approved": pl.Boolean,
            "pin_used": pl.Boolean,
            "lat": pl.Float64,
            "lon": pl.Float64,
        },
        orient="row",
    )


def incident_frame(rows: list[dict]) -> pl.DataFrame:
    """Incidents with the store's columns; each dict overrides a plain burglary."""
    base = {
        "offence_code": "burglary_business",
        "target_type": "business",
        "entry_method": "cylinder_snap",
        "planned": True,
        "participants": 1,
        "value_nok": 10000.0,
        "lat": 63.43,
        "lon": 10.39,
        "municipality_no": "5001",
        "status": "open",
        "arrest_at_scene": False,
        "reported_at": D(2025, 3, 10),
        "updated_at": D(2025, 3, 10),
        "occurred_from": D(2025, 3, 1, 1),
        "occurred_to": D(2025, 3, 1, 3),
    }
    out = [{**base, **r} for r in rows]
    frame = pl.DataFrame(out).with_columns(
        pl.col("value_nok").cast(pl.Float64),
        pl.col("lat").cast(pl.Float64),
        pl.col("lon").cast(pl.Float64),
        pl.col("participants").cast(pl.Int64),
        pl.col("planned").cast(pl.Boolean),
        pl.col("entry_method").cast(pl.String),
    )
    return frame.with_columns(offence_group=pl.lit("acquisitive"))


def links_frame(rows: list[tuple[str, str]], role: str = "suspect") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "incident_id": [r[0] for r in rows],
            "person_id": [r[1] for r in rows],
            "role": [role] * len(rows),
        },
        schema={"incident_id": pl.String, "person_id": pl.String, "role": pl.String},
    )


def custody_frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "custody_id": pl.String,
            "person_id": pl.String,
            "kind": pl.String,
            "start_at": pl.Datetime("us"),
            "end_at": pl.Datetime("us"),
        },
        orient="row",
    )


def candidates_frame(rows: list[tuple[str, str, float, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "incident_id": pl.String,
            "person_id": pl.String,
            "p": pl.Float64,
            "rank": pl.Int64,
        },
        orient="row",
    ).with_columns(as_of=pl.lit(dt.date(2025, 3, 10)))


def spree_tx() -> pl.DataFrame:
    """A 44,700-kr spree over 35 h 40 min (one decline), plus a small online card."""
    ats = [
        D(2025, 3, 1, 4, 10),
        D(2025, 3, 1, 5),
        D(2025, 3, 1, 7, 30),
        D(2025, 3, 1, 11),
        D(2025, 3, 1, 15, 40),
        D(2025, 3, 2, 4, 20),
        D(2025, 3, 2, 9),
        D(2025, 3, 2, 15, 50),
    ]
    amounts = [4800, 9900, 2500, 12000, 300, 8000, 6500, 1000]
    approved = [True, True, True, True, False, True, True, True]
    merchants = ["m1", "m2", "m3", "m1", "m3", None, "m4", "m5"]
    cats = [
        "electronics",
        "grocery",
        "kiosk",
        "electronics",
        "kiosk",
        "atm",
        "clothing",
        "fuel",
    ]
    rows = [
        (f"T{i}", "INC-card", "cardXXXXXX1", at, amt, ok, m, c)
        for i, (at, amt, ok, m, c) in enumerate(
            zip(ats, amounts, approved, merchants, cats, strict=True)
        )
    ]
    rows.append(
        (
            "T9",
            "INC-online",
            "cardYYYYYY2",
            D(2025, 3, 2, 11),
            900,
            True,
            None,
            "online",
            None,
            None,
        )
    )
    return tx_frame(rows)


# ------------------------------------------------------------------ episodes
def test_a_spree_is_one_episode_with_its_totals_counts_and_duration():
    found = ep.detect_episodes(spree_tx())
    spree = found.filter(pl.col("card_ref") == "cardXXXXXX1").row(0, named=True)
    assert spree["n_transactions"] == 8
    assert (spree["n_approved"], spree["n_declined"]) == (7, 1)
    assert spree["total_nok"] == 44700.0
    assert spree["attempted_nok"] == 45000.0
    assert spree["max_36h_nok"] == 44700.0
    assert spree["duration_h"] == pytest.approx(35 + 40 / 60, abs=1e-3)
    assert spree["n_merchants"] == 6  # m1..m5 and the ATM (no merchant_ref)
    assert spree["merchant_categories"] == "atm,clothing,electronics,fuel,grocery,kiosk"
    assert spree["incident_id"] == "INC-card"
    assert spree["max_36h_start_at"] == D(2025, 3, 1, 4, 10)
    assert spree["max_36h_end_at"] == D(2025, 3, 2, 15, 50)
    # largest 36-hour total first
    assert found["max_36h_nok"].to_list() == sorted(found["max_36h_nok"], reverse=True)


def test_a_gap_longer_than_the_parameter_splits_a_card_into_two_episodes():
    tx = tx_frame(
        [
            ("a", "I1", "cardAAAAAA", D(2025, 1, 1, 10), 100, True),
            ("b", "I1", "cardAAAAAA", D(2025, 1, 1, 20), 200, True),
            ("c", "I1", "cardAAAAAA", D(2025, 1, 2, 21), 400, True),  # 25 h later
        ]
    )
    assert ep.detect_episodes(tx, max_gap_hours=24).height == 2
    assert ep.detect_episodes(tx, max_gap_hours=26).height == 1
    ids = ep.assign_episodes(tx, max_gap_hours=24)["episode_id"].to_list()
    assert ids == ["cardAAAAAA:20250101T100000"] * 2 + ["cardAAAAAA:20250102T210000"]


def test_the_36_hour_window_is_closed_and_counts_only_approved_amounts():
    tx = tx_frame(
        [
            ("a", "I1", "cardAAAAAA", D(2025, 1, 1, 0), 1000, True),
            ("b", "I1", "cardAAAAAA", D(2025, 1, 1, 12), 5000, False),  # declined
            ("c", "I1", "cardAAAAAA", D(2025, 1, 2, 12), 2000, True),  # exactly +36 h
            ("d", "I1", "cardAAAAAA", D(2025, 1, 2, 13), 4000, True),  # +37 h
        ]
    )
    row = ep.detect_episodes(tx).row(0, named=True)
    assert row["total_nok"] == 7000.0
    assert row["max_36h_nok"] == 6000.0  # c + d (a and d are 37 h apart)
    assert (row["max_36h_start_at"], row["max_36h_end_at"]) == (
        D(2025, 1, 2, 12),
        D(2025, 1, 2, 13),
    )
    only_ac = ep.detect_episodes(tx.filter(pl.col("transaction_id") != "d"))
    assert only_ac["max_36h_nok"].item() == 3000.0  # a..c, 36 h apart, closed window


def test_max_window_total_equals_brute_force_on_random_sprees():
    rng = random.Random(7)
    for _ in range(30):
        n = rng.randint(1, 40)
        start = D(2025, 1, 1)
        rows = []
        for i in range(n):
            at = start + dt.timedelta(minutes=rng.randint(0, 60 * 24 * 6))
            rows.append(
                (
                    f"t{i}",
                    "I1",
                    "cardAAAAAA",
                    at,
                    rng.randint(1, 9000),
                    rng.random() > 0.2,
                )
            )
        tx = tx_frame(rows)
        got = ep.max_window_total(
            ep.assign_episodes(tx, max_gap_hours=1e6), by="card_ref"
        )["max_window_nok"].item()
        win = dt.timedelta(hours=36)
        brute = max(
            sum(r[4] for r in rows if r[5] and s[3] <= r[3] <= s[3] + win) for s in rows
        )
        assert got == pytest.approx(brute)


def test_no_transactions_give_no_episodes_with_the_full_schema():
    found = ep.detect_episodes(spree_tx().head(0))
    assert found.height == 0
    assert tuple(found.columns) == ep.EPISODE_COLUMNS


def test_a_linked_person_wins_and_an_attributed_one_is_marked_a_hypothesis():
    found = ep.detect_episodes(spree_tx())
    links = links_frame([("INC-card", PERSON)])
    cands = candidates_frame(
        [
            ("INC-online", OTHER, 0.62, 1),
            ("INC-online", PERSON, 0.3, 2),
            ("INC-card", OTHER, 0.9, 1),
        ]
    )
    out = {r["card_ref"]: r for r in ep.attach_persons(found, links, cands).to_dicts()}
    card = out["cardXXXXXX1"]
    assert (card["person_id"], card["person_source"], card["is_hypothesis"]) == (
        PERSON,
        "linked",
        False,
    )
    assert card["attribution_p"] is None
    online = out["cardYYYYYY2"]
    assert (online["person_id"], online["person_source"]) == (OTHER, "attributed")
    assert online["is_hypothesis"] is True
    assert online["attribution_p"] == pytest.approx(0.62)


def test_the_newest_attribution_run_gives_the_candidate():
    old = candidates_frame([("I1", OTHER, 0.9, 1)]).with_columns(
        as_of=pl.lit(dt.date(2025, 1, 1))
    )
    new = candidates_frame([("I1", PERSON, 0.55, 1)])
    top = ep.top_candidates(pl.concat([old, new]))
    assert top.rows() == [("I1", PERSON, 0.55)]


# ------------------------------------------------------------------ person events
def timeline_inputs():
    incidents = incident_frame(
        [
            {
                "incident_id": "INC-card",
                "offence_code": "card_fraud",
                "target_type": "person",
                "entry_method": "card_no_pin",
                "value_nok": 44700.0,
                "lat": None,
                "lon": None,
                "occurred_from": D(2025, 3, 1, 4),
                "occurred_to": D(2025, 3, 2, 16),
            },
            {
                "incident_id": "INC-online",
                "offence_code": "card_fraud",
                "target_type": "online",
                "entry_method": "online",
                "value_nok": 900.0,
                "lat": None,
                "lon": None,
                "occurred_from": D(2025, 3, 2, 10),
                "occurred_to": D(2025, 3, 2, 12),
            },
            {
                "incident_id": "INC-mail",
                "offence_code": "mail_theft",
                "target_type": "mailbox",
                "entry_method": "none",
                "planned": False,
                "value_nok": 200.0,
                "occurred_from": D(2025, 3, 1, 4),
                "occurred_to": D(2025, 3, 1, 6),
            },
            {
                "incident_id": "INC-bod",
                "offence_code": "burglary_storage",
                "target_type": "storage_room",
                "value_nok": 15000.0,
                "occurred_from": D(2025, 2, 27, 18),
                "occurred_to": D(2025, 3, 1, 7),
            },
            {
                "incident_id": "INC-shop",
                "offence_code": "burglary_business",
                "entry_method": "smash_window",
                "planned": False,
                "value_nok": 3000.0,
                "arrest_at_scene": True,
                "status": "solved",
                "occurred_from": D(2025, 3, 3, 2),
                "occurred_to": D(2025, 3, 3, 2, 30),
            },
            {
                "incident_id": "INC-else",
                "offence_code": "vandalism",
                "target_type": "other",
                "occurred_from": D(2025, 3, 1, 2),
                "occurred_to": D(2025, 3, 1, 3),
            },
        ]
    )
    links = links_frame(
        [
            ("INC-card", PERSON),
            ("INC-mail", PERSON),
            ("INC-shop", PERSON),
            ("INC-else", OTHER),
        ]
    )
    cands = candidates_frame(
        [
            ("INC-bod", PERSON, 0.62, 1),
            ("INC-online", PERSON, 0.41, 1),
            ("INC-else", PERSON, 0.99, 1),
        ]
    )
    custody = custody_frame(
        [
            ("C1", PERSON, "arrest", D(2025, 3, 2, 17), D(2025, 3, 2, 20)),
            ("C2", PERSON, "remand", D(2025, 3, 2, 20), D(2025, 3, 5, 12)),
            ("C3", OTHER, "prison", D(2025, 1, 1), None),
        ]
    )
    return incidents, links, spree_tx(), custody, cands


def person_events(**kw) -> pl.DataFrame:
    incidents, links, tx, custody, cands = timeline_inputs()
    return pt.person_events(
        PERSON, incidents, links, tx, custody, candidates=cands, **kw
    )


def test_person_events_have_one_lane_per_kind_and_mark_attributed_cases_as_not_linked():
    ev = person_events()
    assert tuple(ev.columns) == pt.EVENT_COLUMNS
    lanes = dict(ev.group_by("lane").len().iter_rows())
    assert lanes == {"fraud": 2, "acquisitive": 3, "card": 9, "arrest": 2, "custody": 1}
    status = {
        r["event_id"]: (r["is_linked"], r["attribution_p"])
        for r in ev.iter_rows(named=True)
    }
    assert status["INC-card"] == (True, None)
    assert status["INC-bod"] == (False, pytest.approx(0.62))
    assert status["T9"] == (
        False,
        pytest.approx(0.41),
    )  # card use of an attributed case
    assert "INC-else" not in status  # linked to someone else: never a hypothesis here
    assert ev["at"].to_list() == sorted(ev["at"].to_list())


def test_an_arrest_at_the_scene_without_a_recorded_arrest_is_shown_in_the_arrest_lane():
    ev = person_events()
    arrests = ev.filter(pl.col("lane") == "arrest")
    assert set(arrests["custody_kind"]) == {"arrest", "arrest_at_scene"}
    assert arrests.filter(pl.col("custody_kind") == "arrest_at_scene")[
        "incident_id"
    ].to_list() == ["INC-shop"]


def test_a_window_keeps_the_events_that_overlap_it():
    ev = person_events(start=D(2025, 3, 1), end=D(2025, 3, 2))
    assert ev["at"].min() >= D(2025, 2, 27)
    assert "INC-bod" in ev["event_id"].to_list()  # its window runs into 1 March
    assert ev.filter(pl.col("at") > D(2025, 3, 2)).height == 0


def test_the_summary_counts_card_fraud_nok_once_and_finds_the_largest_36_hours():
    ev = person_events()
    eps = ep.attach_persons(ep.detect_episodes(spree_tx()), *timeline_inputs()[1:2])
    s = pt.person_summary(ev, eps)
    # linked: mail 200 + shop 3000 + INC-card through its approved tx (44 700);
    # the hypotheses (bod 15000, p 0.62; online 900 via its tx, p 0.41) apart
    assert s["nok_total"] == 200 + 3000 + 44700
    assert s["hypotheses_nok"] == 15000 + 900
    assert s["n_linked"] == 3 and s["n_hypotheses"] == 2
    assert s["max_36h_nok"] >= 44700
    assert s["top_episodes"][0]["card_ref"] == "cardXXXXXX1"


# ------------------------------------------------------------------ bands
def test_phase_bands_join_consecutive_days_of_one_phase():
    days = pl.DataFrame(
        {
            "person_id": [PERSON] * 6,
            "date": [dt.date(2025, 3, d) for d in (1, 2, 3, 4, 5, 7)],
            "path_phase": ["phase1", "phase1", "phase2", "phase2", "rest", "rest"],
        }
    )
    bands = tb.phase_bands(days)
    assert bands.select("label", "start_at", "end_at").rows() == [
        ("phase1", D(2025, 3, 1), D(2025, 3, 3)),
        ("phase2", D(2025, 3, 3), D(2025, 3, 5)),
        ("rest", D(2025, 3, 5), D(2025, 3, 6)),
        ("rest", D(2025, 3, 7), D(2025, 3, 8)),  # a missing day breaks the run
    ]


def test_use_period_bands_run_to_the_midnight_after_their_last_day():
    periods = pl.DataFrame(
        {
            "person_id": [PERSON],
            "period_no": [3],
            "start": [dt.date(2025, 3, 1)],
            "end": [dt.date(2025, 3, 9)],
        }
    )
    bands = tb.use_period_bands(periods)
    assert bands.rows() == [("use_period", "#3", D(2025, 3, 1), D(2025, 3, 10))]
    clipped = tb.clip_bands(bands, D(2025, 3, 5), D(2025, 3, 6))
    assert clipped.select("start_at", "end_at").row(0) == (D(2025, 3, 5), D(2025, 3, 6))


# ------------------------------------------------------------------ the command
def ingest_small_db(tmp_path):
    """A database with the spree (linked to PERSON, whose link to one other case is
    retracted) and an attributed-only person, ingested through the real path."""
    from batchkit import incident, link, write_batch

    from gjenganger.flows.steps.ingest import ingest
    from gjenganger.store import db

    ts = "2025-03-10T09:00:00+01:00"
    incidents = [
        incident(
            "card",
            offence_code="card_fraud",
            target_type="person",
            entry_method="card_no_pin",
            value_nok="44700",
            lat=None,
            lon=None,
            occurred_from="2025-03-01T04:00:00+01:00",
            occurred_to="2025-03-02T16:00:00+01:00",
            reported_at=ts,
            updated_at=ts,
        ),
        incident(
            "bod",
            offence_code="burglary_storage",
            target_type="storage_room",
            occurred_from="2025-02-28T18:00:00+01:00",
            occurred_to="2025-03-01T07:00:00+01:00",
            reported_at=ts,
            updated_at=ts,
        ),
        incident(
            "gone",
            offence_code="mail_theft",
            target_type="mailbox",
            occurred_from="2025-03-01T04:00:00+01:00",
            occurred_to="2025-03-01T05:00:00+01:00",
            reported_at=ts,
            updated_at=ts,
        ),
    ]
    links = [
        link("INC-card", PERSON, updated_at=ts),
        link("INC-gone", PERSON, updated_at=ts, retracted="true"),
    ]
    txs = []
    for i, r in enumerate(
        spree_tx().filter(pl.col("card_ref") == "cardXXXXXX1").iter_rows(named=True)
    ):
        txs.append(
            {
                "transaction_id": f"TX-{i}",
                "incident_id": "INC-card",
                "card_ref": r["card_ref"],
                "at": r["at"].isoformat(),
                "amount_nok": f"{r['amount_nok']:.2f}",
                "merchant_category": r["merchant_category"],
                "merchant_ref": f"merchant-{r['merchant_ref']}"
                if r["merchant_ref"]
                else "",
                "approved": str(r["approved"]).lower(),
                "pin_used": "false",
                "lat": "63.430000",
                "lon": f"{10.39 + i / 1000:.6f}",
                "updated_at": ts,
            }
        )
    custody = [
        {
            "custody_id": "CU-1",
            "person_id": PERSON,
            "kind": "arrest",
            "start_at": "2025-03-02T17:00:00",
            "end_at": "2025-03-02T20:00:00",
            "updated_at": ts,
        }
    ]
    inbox = tmp_path / "inbox"
    write_batch(
        inbox,
        "2025-03-10",
        {
            "incidents": incidents,
            "incident_persons": links,
            "card_transactions": txs,
            "custody": custody,
        },
        exported_at="2025-03-11T01:30:00+01:00",
    )
    path = tmp_path / "small.duckdb"
    con = db.connect(path)
    try:
        results = ingest(con, inbox)
        assert all(r.status != "rejected" for r in results), results
        con.execute(
            "create or replace table attribution_candidates as select * from (values "
            f"('INC-bod', '{OTHER}', 0.62, 1, date '2025-03-10', 'test')) "
            "t(incident_id, person_id, p, rank, as_of, model_version)"
        )
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    return ingest_small_db(tmp_path_factory.mktemp("episodes"))


def test_the_episodes_command_prints_the_spree_as_json(small_db, capsys):
    from gjenganger.cli import main

    assert (
        main(["episodes", "--db", str(small_db), "--min-nok", "40000", "--json"]) == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1
    row = rows[0]
    for key in (
        "incident_id",
        "card_ref",
        "person_id",
        "start_at",
        "end_at",
        "n_transactions",
        "total_nok",
        "max_36h_nok",
    ):
        assert key in row
    assert row["person_id"] == PERSON and row["person_source"] == "linked"
    assert row["start_at"] == "2025-03-01T04:10:00"
    assert row["max_36h_nok"] == 44700.0
    assert row["duration_h"] == pytest.approx(35.667, abs=0.01)


def test_the_episodes_command_filters_by_person_and_prints_a_table(small_db, capsys):
    from gjenganger.cli import main

    assert main(["episodes", "--db", str(small_db), "--person", OTHER]) == 0
    assert "no episodes match" in capsys.readouterr().out
    assert main(["episodes", "--db", str(small_db), "--person", PERSON]) == 0
    out = capsys.readouterr().out
    assert "44,700" in out and f"{PERSON} (linked)" in out


def test_the_episodes_command_writes_the_episodes_table(small_db, tmp_path, capsys):
    import shutil

    from gjenganger.cli import main
    from gjenganger.store import db

    copy = tmp_path / "copy.duckdb"
    shutil.copy(small_db, copy)
    assert main(["episodes", "--db", str(copy), "--write", "--json"]) == 0
    capsys.readouterr()
    con = db.connect(copy, read_only=True, migrate=False)
    try:
        cols = [r[0] for r in con.execute("describe episodes").fetchall()]
        n = con.execute("select count(*) from episodes").fetchone()[0]
    finally:
        con.close()
    assert cols[: len(ep.EPISODE_COLUMNS)] == list(ep.EPISODE_COLUMNS)
    assert "as_of" in cols and n == 1


def test_the_episodes_command_fails_with_one_line_on_a_missing_database(
    tmp_path, capsys
):
    from gjenganger.cli import main

    assert main(["episodes", "--db", str(tmp_path / "nope.duckdb")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gjenganger: ") and err.count("\n") == 1
    assert (
        main(["episodes", "--db", str(tmp_path / "nope.duckdb"), "--as-of", "x"]) == 2
    )
