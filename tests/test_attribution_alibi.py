"""Custody is an alibi (issue #14, item 4).

A person in remand, prison or treatment for the whole offence window of a case that
needs presence is no candidate for it; partial overlap is evidence the model weighs
(and the `why` gives the share); an arrest is never an alibi.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from test_linkage_model import synthetic_world

from gjenganger.analytics import attribution as at
from gjenganger.analytics import linkage as lk
from gjenganger.analytics.pair_features import case_arrays
from gjenganger.maps.i18n import custody_note

D = datetime
AS_OF = date(2025, 12, 31)


def custody_frame(rows: list[tuple]) -> pl.DataFrame:
    """Custody rows (custody_id, person_id, kind, start_at, end_at) as the store has
    them."""
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
    ).with_columns(updated_at=pl.col("start_at"))


def days(t: datetime) -> float:
    return (t - D(1970, 1, 1)).total_seconds() / 86400


# ------------------------------------------------------------------ the rule
def test_only_a_stay_covering_the_whole_window_of_a_presence_case_is_an_alibi():
    persons = np.array(["Pa", "Pb"])
    custody = lk.make_custody(
        custody_frame(
            [
                # remand turning into prison: one stay of 1-20 March
                ("c1", "Pa", "remand", D(2025, 3, 1), D(2025, 3, 5, 12)),
                ("c2", "Pa", "prison", D(2025, 3, 5, 12), D(2025, 3, 20)),
                ("c3", "Pb", "arrest", D(2025, 3, 1), D(2025, 3, 20)),
                ("c4", "Pb", "treatment", D(2025, 6, 1), None),  # ongoing
            ]
        ),
        persons,
        days(D(2025, 7, 1)),
    )
    windows = [
        ("Pa", D(2025, 3, 4), D(2025, 3, 7), True),  # across remand -> prison
        ("Pa", D(2025, 2, 28), D(2025, 3, 2), False),  # begins before the stay
        ("Pa", D(2025, 3, 19), D(2025, 3, 21), False),  # ends after it
        ("Pb", D(2025, 3, 4), D(2025, 3, 7), False),  # an arrest is no alibi
        ("Pb", D(2025, 6, 10), D(2025, 6, 11), True),  # ongoing treatment
    ]
    p = np.array([0 if w[0] == "Pa" else 1 for w in windows])
    t0 = np.array([days(w[1]) for w in windows])
    t1 = np.array([days(w[2]) for w in windows])
    presence = np.ones(len(windows), bool)
    got = lk.in_custody_throughout(t0, t1, presence, p, custody)
    assert got.tolist() == [w[3] for w in windows]
    # fraud can be done from a cell: never excluded
    assert not lk.in_custody_throughout(t0, t1, ~presence, p, custody).any()
    offences = np.array(
        [lk.OFFENCE_CODES.index(c) for c in ("burglary_home", "card_fraud", "robbery")]
    )
    assert lk.needs_presence(offences).tolist() == [True, False, True]


def test_the_why_note_says_the_share_of_the_window():
    assert custody_note(0.6, "remand", "nb") == "i varetekt 60 % av tidsvinduet"
    assert custody_note(0.6, "remand", "en") == (
        "in remand for 60 % of the offence window"
    )
    assert custody_note(0.0, "remand", "nb") is None


# ------------------------------------------------------------------ attribution
def _open_copy(row: dict, iid: str, start: datetime, hours: float) -> dict:
    """An open, unlinked case like `row` (same place and modus) at `start`."""
    return row | {
        "incident_id": iid,
        "status": "open",
        "occurred_from": start,
        "occurred_to": start + timedelta(hours=hours),
        "reported_at": start + timedelta(hours=hours + 2),
        "updated_at": start + timedelta(hours=hours + 3),
    }


@pytest.fixture(scope="module")
def world():
    """The synthetic world plus three open cases at one of P's known places:
    `A` inside P's remand-then-prison stay, `B` half inside a remand, `C` inside an
    arrest; and P's custody."""
    inc, links, _ = synthetic_world(
        seed=5, n_persons=15, cases_per_person=40, n_occasional=150
    )
    person = links["person_id"].value_counts(sort=True)["person_id"][0]
    mine = inc.join(links.filter(pl.col("person_id") == person), on="incident_id")
    row = mine.sort("occurred_from").row(mine.height // 2, named=True)
    row = {k: v for k, v in row.items() if k in inc.columns}
    t = row["occurred_from"] + timedelta(days=2)
    extra = pl.DataFrame(
        [
            _open_copy(row, "XA", t, 4),
            _open_copy(row, "XB", t + timedelta(days=30), 10),
            _open_copy(row, "XC", t + timedelta(days=60), 2),
        ],
        schema=inc.schema,
    )
    custody = custody_frame(
        [
            ("k1", person, "remand", t - timedelta(days=2), t + timedelta(hours=1)),
            ("k2", person, "prison", t + timedelta(hours=1), t + timedelta(days=9)),
            (
                "k3",
                person,
                "remand",
                t + timedelta(days=25),
                t + timedelta(days=30, hours=5),
            ),
            (
                "k4",
                person,
                "arrest",
                t + timedelta(days=60, hours=-1),
                t + timedelta(days=60, hours=5),
            ),
        ]
    )
    return pl.concat([inc, extra]), links, custody, person


def _candidates(run: at.AttributionRun, iid: str) -> pl.DataFrame:
    return run.model.candidates.filter(pl.col("incident_id") == iid)


@pytest.mark.slow
def test_a_case_inside_a_remand_never_gets_that_person(world):
    inc, links, custody, person = world
    free = at.attribute(inc, links, None, AS_OF, seed=0)
    held = at.attribute(inc, links, custody, AS_OF, seed=0)
    for iid in ("XA", "XB", "XC"):  # without custody: P is a candidate of each
        assert person in _candidates(free, iid)["person_id"].to_list()
    # A: inside remand then prison, not a candidate at all
    assert person not in _candidates(held, "XA")["person_id"].to_list()
    assert _candidates(held, "XA").height > 0  # the others still are
    # B: half inside a remand, still a candidate, and the why gives the share
    b = _candidates(held, "XB").filter(pl.col("person_id") == person)
    assert b.height == 1
    assert b["in_custody_share"][0] == pytest.approx(0.5, abs=0.01)
    # C: an arrest covering the whole window is weighed, not an alibi
    c = _candidates(held, "XC").filter(pl.col("person_id") == person)
    assert c.height == 1 and c["in_custody_share"][0] == pytest.approx(1.0)


def test_the_candidate_filter_drops_exactly_the_alibi_rows(world):
    from gjenganger.analytics.candidates import select_candidates

    inc, links, custody, person = world
    cases = case_arrays(inc)
    index = lk.make_links(cases.incident_id, links)
    persons_cases = index.cases_of()
    eligible = np.arange(len(index.persons))
    q = np.flatnonzero(np.isin(cases.incident_id, ["XA", "XB", "XC"]))
    cust = lk.make_custody(custody, index.persons, days(D(2026, 1, 1)))
    all_rq, all_rp = select_candidates(cases, q, persons_cases, eligible)
    rq, rp = select_candidates(cases, q, persons_cases, eligible, custody=cust)
    k = int(np.flatnonzero(index.persons == person)[0])
    ids = cases.incident_id[q]
    before = {(ids[a], b) for a, b in zip(all_rq, all_rp, strict=True)}
    after = {(ids[a], b) for a, b in zip(rq, rp, strict=True)}
    assert before - after == {("XA", k)}
