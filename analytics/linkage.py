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
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

MAX_GAP_DAYS = 365.0  # pairs further apart in time are not modelled (Porter's `thres`)
TAU_DAYS_PER_KM = 14.0  # space-time metric: 14 days of gap weigh like 1 km


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
    """Custody intervals per person index (days since epoch)."""

    start: list[np.ndarray] = field(default_factory=list)
    end: list[np.ndarray] = field(default_factory=list)


def make_custody(
    custody: pl.DataFrame | None, persons: np.ndarray, until_days: float
) -> Custody:
    """Index custody periods (arrest, remand, prison, treatment) by person."""
    n = len(persons)
    starts: list[list[float]] = [[] for _ in range(n)]
    ends: list[list[float]] = [[] for _ in range(n)]
    if custody is not None and custody.height:
        pos = {p: k for k, p in enumerate(persons.tolist())}
        s = (
            custody["start_at"].cast(pl.Datetime("us")).dt.epoch("us").to_numpy()
            / 86_400e6
        )
        e_raw = custody["end_at"].cast(pl.Datetime("us")).dt.epoch("us")
        e = e_raw.fill_null(int(until_days * 86_400e6)).to_numpy() / 86_400e6
        for pid, a, b in zip(custody["person_id"].to_list(), s, e, strict=True):
            k = pos.get(pid)
            if k is not None:
                starts[k].append(float(a))
                ends[k].append(float(b))
    return Custody([np.array(x) for x in starts], [np.array(x) for x in ends])
