"""Ground truth beside the batches (`truth/`), which the pipeline never reads.

- `offenders.csv`: incident_id, person_id: every participant of every exported case,
  solved or not (background offenders included).
- `phases.csv`: person_id, date, phase (rest, phase1, phase2, phase3, inactive) for
  every day of every plus and mixed user.
- `persons.csv`: person_id, group, core, sex, home and rural anchors, spread, peak
  hour, base catch probability, offences and linked cases in the period, rank.
- `episodes.csv`: one row per card-fraud case: incident_id, card_ref, person_id,
  start_at, end_at, n_transactions, total_nok (approved), max_36h_nok, scripted.
- `incidents.csv`: per case: principal person, true time, state that day, regime,
  template, true level, caught, arrest, solved_at, repeat_of, card source.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from gjenganger.synth import modus
from gjenganger.synth.batches import incident_ids
from gjenganger.synth.clock import HOUR, Clock, iso
from gjenganger.synth.columns import Columns, lookup
from gjenganger.synth.cycles import STATE_NAMES, States
from gjenganger.synth.population import GROUPS, Population

WINDOW_HOURS = 36


def offenders(crew: Columns, seq_of_gen, person_ids: pl.Series) -> pl.DataFrame:
    """`offenders.csv`: every participant of every exported case."""
    seq = seq_of_gen(crew["gen"])
    order = np.lexsort((crew["person"], seq))
    frame = pl.DataFrame(
        [
            incident_ids(seq[order]),
            lookup(person_ids, crew["person"][order], "person_id"),
        ]
    )
    return frame.sort("incident_id", "person_id")


def phases(states: States, pop: Population, person_ids, clock: Clock) -> pl.DataFrame:
    """`phases.csv`: the state of every plus and mixed user on every day."""
    n_cyc = pop.n_cycling
    dates = pl.date_range(
        clock.date_of(0), clock.date_of(clock.days - 1), "1d", eager=True
    )
    names = np.array(STATE_NAMES, dtype=object)
    return pl.DataFrame(
        {
            "person_id": lookup(person_ids, np.repeat(np.arange(n_cyc), clock.days)),
            "date": pl.concat([dates] * n_cyc) if n_cyc else dates.clear(),
            "phase": names[states.state[:n_cyc].ravel()],
        }
    ).sort("person_id", "date")


def persons(
    pop: Population, person_ids: pl.Series, crew: Columns, linked_persons
) -> pl.DataFrame:
    """`persons.csv`: every person's group, anchors, habits, counts and rank."""
    n_off = np.bincount(crew["person"], minlength=pop.n)
    n_linked = np.bincount(linked_persons, minlength=pop.n)
    rank = np.empty(pop.n, dtype=np.int64)
    rank[np.lexsort((person_ids.to_numpy().astype(str), -n_off))] = np.arange(
        1, pop.n + 1
    )
    return pl.DataFrame(
        {
            "person_id": person_ids,
            "group": np.array(GROUPS, dtype=object)[pop.group],
            "core": pop.core,
            "sex": np.where(pop.female, "F", "M"),
            "home_lat": np.round(pop.home_lat, 6),
            "home_lon": np.round(pop.home_lon, 6),
            "rural_lat": np.round(pop.rural_lat, 6),
            "rural_lon": np.round(pop.rural_lon, 6),
            "spread_km": np.round(pop.spread_km, 3),
            "peak_hour": np.round(pop.peak_hour[:, 0], 2),
            "catch_base": np.round(pop.catch, 4),
            "n_offences": n_off,
            "n_linked_cases": n_linked,
            "rank": rank,
        }
    ).sort("person_id")


def max_window_total(
    episode: np.ndarray, at: np.ndarray, amount: np.ndarray, n_ep: int
) -> np.ndarray:
    """Largest `amount` sum in any WINDOW_HOURS window, per episode (sorted input)."""
    out = np.zeros(n_ep)
    if not len(episode):
        return out
    key = episode.astype(np.int64) * (np.int64(1) << 36) + at
    cs = np.r_[0.0, np.cumsum(amount)]
    start = np.searchsorted(key, key - WINDOW_HOURS * HOUR, side="left")
    window = cs[np.arange(len(key)) + 1] - cs[start]
    np.maximum.at(out, episode, window)
    return out


def episodes(
    frauds: Columns, tx: Columns, card_refs, person_ids: pl.Series
) -> pl.DataFrame:
    """One row per exported card-fraud case (`tx` sorted by episode, time)."""
    n_ep = int(frauds["card"].max(initial=-1)) + 1
    approved = np.where(tx["approved"], tx["amount"], 0.0)
    counts = np.bincount(tx["episode"], minlength=n_ep)
    total = np.bincount(tx["episode"], weights=approved, minlength=n_ep)
    first = np.full(n_ep, np.iinfo(np.int64).max)
    last = np.full(n_ep, np.iinfo(np.int64).min)
    np.minimum.at(first, tx["episode"], tx["at"])
    np.maximum.at(last, tx["episode"], tx["at"])
    best = max_window_total(tx["episode"], tx["at"], approved, n_ep)
    c = frauds["card"]
    return (
        pl.DataFrame(
            {
                "incident_id": incident_ids(frauds["seq"]),
                "card_ref": lookup(card_refs, c),
                "person_id": lookup(person_ids, frauds["person"]),
                "start_at": first[c],
                "end_at": last[c],
                "n_transactions": counts[c],
                "total_nok": np.round(total[c], 2),
                "max_36h_nok": np.round(best[c], 2),
                "scripted": frauds["scripted"],
            }
        )
        .with_columns(iso(pl.col("start_at")), iso(pl.col("end_at")))
        .sort("incident_id")
    )


def _ids_or_null(seq: np.ndarray) -> pl.Series:
    ids = incident_ids(np.maximum(seq, 0))
    return pl.select(pl.when(pl.lit(pl.Series(seq >= 0))).then(ids)).to_series()


def incidents(
    rows: Columns,
    pop: Population,
    states: States,
    person_ids: pl.Series,
    seq_of_gen,
    clock: Clock,
) -> pl.DataFrame:
    """`incidents.csv`: per exported case its principal, true time, state, regime,
    template, level, catch, solve time, repeat and card source."""
    day = np.clip(rows["day"], 0, clock.days - 1)
    state = np.full(rows.n, -1)
    s = rows["person"] < pop.n_steady
    state[s] = states.state[rows["person"][s], day[s]]
    rep, src = rows["repeat_of"], rows["source"]
    rep_seq = np.where(
        np.isin(rep, rows["gen"]), seq_of_gen(np.where(rep >= 0, rep, rows["gen"])), -1
    )
    src_seq = np.where(
        np.isin(src, rows["gen"]), seq_of_gen(np.where(src >= 0, src, rows["gen"])), -1
    )
    return (
        pl.DataFrame(
            {
                "incident_id": incident_ids(rows["seq"]),
                "person_id": lookup(person_ids, rows["person"]),
                "group": lookup(GROUPS, pop.group[rows["person"]]),
                "occurred_at": rows["t"],
                "state": lookup(
                    (*STATE_NAMES, "background"),
                    np.where(state < 0, len(STATE_NAMES), state),
                ),
                "regime": lookup(modus.REGIMES, rows["regime"]),
                "template": lookup([t.name for t in modus.TEMPLATES], rows["template"]),
                "level": rows["level"].astype(np.int64),
                "participants": rows["participants"].astype(np.int64),
                "caught": rows["caught"],
                "arrest_at_scene": rows["arrest"],
                "solved_at": pl.Series(
                    np.where(rows["solved_at"] >= 0, rows["solved_at"], 0)
                ),
                "_has_solved": rows["solved_at"] >= 0,
                "repeat_of": _ids_or_null(rep_seq),
                "card_source": _ids_or_null(src_seq),
                "scripted": rows["scripted"],
            }
        )
        .with_columns(
            iso(pl.col("occurred_at")),
            pl.when(pl.col("_has_solved"))
            .then(iso(pl.col("solved_at")))
            .alias("solved_at"),
        )
        .drop("_has_solved")
        .sort("incident_id")
    )
