"""Crime linkage, the shared ground: links, custody and the space-time metric.

The linkage model has two layers, following the linkage literature, each in a
module of its own:

1. **Case-case** (`pair_model.PairModel`): is pair (a, b) done by the same person?
   Trained on pairs of solved cases (`pair_sampling`).
2. **Case-person** (`person_evidence.case_person_features`): the evidence that
   person P did case q, summarising q against P's known cases, for the persons
   `candidates.select_candidates` pre-selects. `analytics.attribution` turns that
   evidence into calibrated probabilities over persons plus "none of them".

This module holds what every layer shares: the case-person links and the custody
periods as index arrays, the time gap beyond which pairs are not modelled and the
space-time metric. All randomness elsewhere takes an explicit `seed`.

Custody is an alibi: a person in remand, prison or residential treatment for the
whole offence window of a case that needs the offender at the scene (`ALIBI_KINDS`,
`PRESENCE_GROUPS`: burglary, theft, vehicle crime, vandalism, violence) cannot have
done it (`in_custody_throughout`). Partial overlap, and any arrest, is evidence the
model weighs (`person_evidence.custody_overlap`), never an exclusion: an arrest
lasts hours and is often for that very case or one beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from gjenganger.data_schema.contract import OFFENCE_CODES, OFFENCE_GROUPS

MAX_GAP_DAYS = 365.0  # pairs further apart in time are not modelled (Porter's `thres`)
TAU_DAYS_PER_KM = 14.0  # space-time metric: 14 days of gap weigh like 1 km
#: custody kinds that keep a person from every scene for as long as they last
#: (contract `CUSTODY_KINDS` less `arrest`, which is weighed, never an alibi)
ALIBI_KINDS: tuple[str, ...] = ("remand", "prison", "treatment")
#: offence groups (contract `OFFENCE_GROUPS`) whose offender must be at the scene:
#: burglary, theft and vehicle crime (acquisitive), vandalism, violence; fraud, drugs
#: and other can be done from a cell or by someone else with the person's help
PRESENCE_GROUPS: tuple[str, ...] = ("acquisitive", "vandalism", "violence")


# ------------------------------------------------------------------ links
@dataclass(frozen=True)
class Links:
    """Case-person links as index arrays into a `CaseArrays` and a person list."""

    persons: np.ndarray  # person_id strings, index = person index
    case_idx: np.ndarray  # int, one per link
    person_idx: np.ndarray  # int, one per link

    def cases_of(self) -> list[np.ndarray]:
        """Sorted case indices of every person (list indexed by person index)."""
        order = np.lexsort((self.case_idx, self.person_idx))
        ci, pi = self.case_idx[order], self.person_idx[order]
        bounds = np.searchsorted(pi, np.arange(len(self.persons) + 1))
        return [ci[bounds[k] : bounds[k + 1]] for k in range(len(self.persons))]

    def person_sets(self, n_cases: int, width: int = 4) -> np.ndarray:
        """(n_cases, width) person indices per case, -1 padded (co-offenders)."""
        out = np.full((n_cases, width), -1, dtype=np.int64)
        order = np.argsort(self.case_idx, kind="stable")
        ci, pi = self.case_idx[order], self.person_idx[order]
        first = np.searchsorted(ci, ci, side="left")
        slot = np.arange(len(ci)) - first
        keep = slot < width
        out[ci[keep], slot[keep]] = pi[keep]
        return out


def make_links(incident_ids: np.ndarray, links: pl.DataFrame) -> Links:
    """Index `links` (incident_id, person_id) against the case order `incident_ids`."""
    pos = {iid: k for k, iid in enumerate(incident_ids.tolist())}
    lk = (
        links.select("incident_id", "person_id")
        .unique()
        .sort("person_id", "incident_id")
    )
    ci = np.array([pos.get(i, -1) for i in lk["incident_id"].to_list()], dtype=np.int64)
    persons, pi = np.unique(lk["person_id"].to_numpy().astype(str), return_inverse=True)
    ok = ci >= 0
    return Links(persons=persons, case_idx=ci[ok], person_idx=pi[ok].astype(np.int64))


def share_person(sets: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """True where cases ia and ib have a linked person in common."""
    a, b = sets[ia], sets[ib]
    eq = (a[:, :, None] == b[:, None, :]) & (a[:, :, None] >= 0)
    return eq.any(axis=(1, 2))


# ------------------------------------------------------------------ custody
@dataclass(frozen=True)
class Custody:
    """Custody intervals per person index (days since epoch).

    `start`/`end`: every period of every kind (the overlap evidence); `alibi_start`
    / `alibi_end`: the `ALIBI_KINDS` stays, touching or overlapping ones merged, so
    a remand that turns into prison is one stay."""

    start: list[np.ndarray] = field(default_factory=list)
    end: list[np.ndarray] = field(default_factory=list)
    alibi_start: list[np.ndarray] = field(default_factory=list)
    alibi_end: list[np.ndarray] = field(default_factory=list)


def _days(col: pl.Expr) -> pl.Expr:
    """A timestamp column as float days since 1970-01-01."""
    return col.cast(pl.Datetime("us")).dt.epoch("us") / 86_400e6


def _per_person(frame: pl.DataFrame, pos: dict[str, int], n: int) -> tuple[list, list]:
    """(starts, ends) per person index from rows (person_id, s, e)."""
    starts = [np.zeros(0) for _ in range(n)]
    ends = [np.zeros(0) for _ in range(n)]
    for (pid,), g in frame.group_by("person_id"):
        k = pos.get(pid)
        if k is not None:
            starts[k], ends[k] = g["s"].to_numpy(), g["e"].to_numpy()
    return starts, ends


def make_custody(
    custody: pl.DataFrame | None, persons: np.ndarray, until_days: float
) -> Custody:
    """Index custody periods (arrest, remand, prison, treatment) by person; an
    ongoing period (no end) lasts until `until_days`."""
    n = len(persons)
    if custody is None or not custody.height:
        empty = [np.zeros(0) for _ in range(n)]
        return Custody(empty, empty, empty, empty)
    pos = {p: k for k, p in enumerate(persons.tolist())}
    rows = custody.select(
        "person_id",
        pl.col("kind")
        if "kind" in custody.columns
        else pl.lit(None, pl.String).alias("kind"),
        _days(pl.col("start_at")).alias("s"),
        _days(pl.col("end_at")).fill_null(until_days).alias("e"),
    ).sort("person_id", "s", "e")
    starts, ends = _per_person(rows, pos, n)
    stays = (
        rows.filter(pl.col("kind").is_in(ALIBI_KINDS))
        .with_columns(
            _reach=pl.col("e").cum_max().shift(1).over("person_id"),
        )
        .with_columns(
            _stay=(pl.col("_reach").is_null() | (pl.col("s") > pl.col("_reach")))
            .cum_sum()
            .over("person_id")
        )
        .group_by("person_id", "_stay")
        .agg(pl.col("s").min(), pl.col("e").max())
        .sort("person_id", "s")
    )
    alibi_start, alibi_end = _per_person(stays, pos, n)
    return Custody(starts, ends, alibi_start, alibi_end)


def needs_presence(offence: np.ndarray) -> np.ndarray:
    """True where the offence (an index into the contract's `OFFENCE_CODES`, -1
    unknown) is of a `PRESENCE_GROUPS` group: the offender was at the scene."""
    codes = [
        k for k, c in enumerate(OFFENCE_CODES) if OFFENCE_GROUPS[c] in PRESENCE_GROUPS
    ]
    return np.isin(offence, codes)


def in_custody_throughout(
    t0: np.ndarray,
    t1: np.ndarray,
    presence: np.ndarray,
    persons: np.ndarray,
    custody: Custody | None,
) -> np.ndarray:
    """Per row, True where person `persons[r]` spent the whole window [t0[r], t1[r]]
    (days) of a case that needs presence (`presence[r]`, see `needs_presence`) in an
    `ALIBI_KINDS` stay: the person cannot have done it."""
    out = np.zeros(len(persons), bool)
    if custody is None or not custody.alibi_start or not len(persons):
        return out
    rows = np.flatnonzero(presence)
    stays = np.fromiter(
        map(len, custody.alibi_start), np.int64, len(custody.alibi_start)
    )
    rows = rows[stays[persons[rows]] > 0]
    if not len(rows):
        return out
    order = rows[np.argsort(persons[rows], kind="stable")]
    uniq, first = np.unique(persons[order], return_index=True)
    for p, part in zip(uniq, np.split(order, first[1:]), strict=True):
        s, e = custody.alibi_start[p], custody.alibi_end[p]
        k = np.searchsorted(s, t0[part], side="right") - 1  # the last stay begun
        ok = k >= 0
        k = np.maximum(k, 0)
        out[part] = ok & (e[k] >= t1[part])
    return out
