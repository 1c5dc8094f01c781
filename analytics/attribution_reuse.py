"""Night-to-night reuse of attribution evidence: fingerprints and stored rows.

The case-person evidence of a row (open case q, person P) depends only on q and
on P's known cases and custody and on the case-case pair models
(`person_evidence.case_person_features`). With the pair models kept, a row whose
case and person are both unchanged since the last night has the same evidence, so
only rows of changed cases, changed persons and new candidates are computed again;
everything downstream (relational features, scores, calibration, ranking, series)
is recomputed for every case.

Change is detected by fingerprints: a 64-bit sum of row hashes of a person's known
cases plus a hash of their custody intervals, and the row hash of each open case.
Pure functions: frames in, frames out.
"""

# ruff: noqa: N803, N806 - X, F: the usual maths notation

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from gjenganger.analytics.linkage import Links
from gjenganger.analytics.person_evidence import PERSON_FEATURES, PersonEvidence

FEATURE_COLUMNS = tuple(f"f_{name}" for name in PERSON_FEATURES)


#: the incident columns case-person evidence is computed from
#: (`pair_features.case_arrays`): a change elsewhere (status, updated_at, a corrected
#: report time) does not change any evidence row
EVIDENCE_COLUMNS = (
    "incident_id",
    "lat",
    "lon",
    "occurred_from",
    "occurred_to",
    "offence_code",
    "target_type",
    "entry_method",
    "planned",
    "participants",
    "value_nok",
)


def case_hashes(incidents: pl.DataFrame) -> np.ndarray:
    """One 64-bit hash per incident of the columns its evidence depends on."""
    return (
        incidents.select(EVIDENCE_COLUMNS)
        .hash_rows(seed=11)
        .to_numpy()
        .astype(np.uint64)
    )


def person_fingerprints(
    h: np.ndarray, links: Links, custody: pl.DataFrame | None, persons: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(fingerprint, known-case count) of each person index in `persons`.

    Wrapping uint64 sums are order-free, so the fingerprint depends on the set of
    known cases and their contents, and on the person's custody rows as recorded
    (an open-ended stay hashes as open: its growing end cannot change the overlap
    of a case that was already known, since such a case ended before last night).
    """
    n = len(links.persons)
    fp = np.zeros(n, np.uint64)
    with np.errstate(over="ignore"):
        np.add.at(fp, links.person_idx, h[links.case_idx])
        if custody is not None and custody.height:
            pos = pl.DataFrame(
                {"person_id": links.persons, "_p": np.arange(n, dtype=np.int64)}
            )
            c = custody.join(pos, on="person_id")
            np.add.at(
                fp, c["_p"].to_numpy(), c.drop("_p").hash_rows(seed=13).to_numpy()
            )
    count = np.bincount(links.person_idx, minlength=n)
    return fp[persons], count[persons]


@dataclass
class Fingerprints:
    persons: pl.DataFrame  # person_id, fp, n_known
    cases: pl.DataFrame  # incident_id, fp


def fingerprints(
    incident_ids: np.ndarray,
    h: np.ndarray,
    links: Links,
    custody: pl.DataFrame | None,
    eligible: np.ndarray,
    open_idx: np.ndarray,
) -> Fingerprints:
    """Fingerprints of the eligible persons and the open cases."""
    fp, n = person_fingerprints(h, links, custody, eligible)
    persons = pl.DataFrame(
        {"person_id": links.persons[eligible], "fp": fp, "n_known": n.astype(np.int64)}
    )
    cases = pl.DataFrame({"incident_id": incident_ids[open_idx], "fp": h[open_idx]})
    return Fingerprints(persons, cases)


def changed(now: pl.DataFrame, before: pl.DataFrame, key: str) -> set[str]:
    """Keys of `now` that are new or whose fingerprint differs from `before`."""
    j = now.join(before, on=key, how="left", suffix="_before")
    return set(
        j.filter(pl.col("fp_before").is_null() | (pl.col("fp") != pl.col("fp_before")))[
            key
        ].to_list()
    )


@dataclass
class Reuse:
    """Stored evidence rows addressable by (case index, person index)."""

    keys: np.ndarray  # sorted case * (n_persons + 1) + person
    X: np.ndarray  # float32
    best_case: np.ndarray
    nearest_case: np.ndarray
    n_known: np.ndarray
    width: int  # n_persons + 1


def reuse_index(
    evidence: pl.DataFrame,
    incident_ids: np.ndarray,
    persons: np.ndarray,
    dirty_persons: set[str],
    dirty_cases: set[str],
) -> Reuse:
    """Index last night's evidence rows by tonight's case and person indices,
    dropping rows of changed persons and cases (and rows naming a case that is
    no longer known)."""
    case_pos = pl.DataFrame(
        {
            "incident_id": incident_ids,
            "_q": np.arange(len(incident_ids), dtype=np.int64),
        }
    )
    person_pos = pl.DataFrame(
        {"person_id": persons, "_p": np.arange(len(persons), dtype=np.int64)}
    )
    ev = (
        evidence.filter(
            ~pl.col("person_id").is_in(list(dirty_persons))
            & ~pl.col("incident_id").is_in(list(dirty_cases))
        )
        .join(case_pos, on="incident_id")
        .join(person_pos, on="person_id")
        .join(
            case_pos.rename({"incident_id": "best_incident_id", "_q": "_best"}),
            on="best_incident_id",
            how="left",
        )
        .join(
            case_pos.rename({"incident_id": "nearest_incident_id", "_q": "_near"}),
            on="nearest_incident_id",
            how="left",
        )
        .filter(
            (pl.col("best_incident_id").is_null() | pl.col("_best").is_not_null())
            & (pl.col("nearest_incident_id").is_null() | pl.col("_near").is_not_null())
        )
    )
    width = len(persons) + 1
    keys = ev["_q"].to_numpy() * width + ev["_p"].to_numpy()
    order = np.argsort(keys, kind="stable")
    X = ev.select(FEATURE_COLUMNS).to_numpy().astype(np.float32, copy=False)
    return Reuse(
        keys=keys[order],
        X=X[order],  # float32 as stored: half the memory of float64
        best_case=ev["_best"].fill_null(-1).to_numpy()[order],
        nearest_case=ev["_near"].fill_null(-1).to_numpy()[order],
        n_known=ev["n_known"].to_numpy()[order],
        width=width,
    )


def lookup(reuse: Reuse, q_cases: np.ndarray, persons: np.ndarray) -> np.ndarray:
    """Position in `reuse` of each (case, person) row, -1 where not stored."""
    if len(reuse.keys) == 0:
        return np.full(len(q_cases), -1)
    key = q_cases * reuse.width + persons
    pos = np.searchsorted(reuse.keys, key)
    pos = np.clip(pos, 0, len(reuse.keys) - 1)
    return np.where(reuse.keys[pos] == key, pos, -1)


def take(ev: PersonEvidence, sel: np.ndarray) -> PersonEvidence:
    """The rows `sel` of an evidence set."""
    return PersonEvidence(
        ev.X[sel], ev.best_case[sel], ev.nearest_case[sel], ev.n_known[sel]
    )


def evidence_frame(
    incident_ids: np.ndarray,
    persons: np.ndarray,
    q_cases: np.ndarray,
    row_person: np.ndarray,
    ev: PersonEvidence,
) -> pl.DataFrame:
    """Evidence rows as a frame to store (features as float32)."""
    cols: dict = {
        "incident_id": incident_ids[q_cases],
        "person_id": persons[row_person],
    }
    X = ev.X.astype(np.float32)
    for j, name in enumerate(FEATURE_COLUMNS):
        cols[name] = X[:, j]
    cols["best_incident_id"] = np.where(
        ev.best_case >= 0, incident_ids[ev.best_case], None
    )
    cols["nearest_incident_id"] = np.where(
        ev.nearest_case >= 0, incident_ids[ev.nearest_case], None
    )
    cols["n_known"] = ev.n_known.astype(np.int32)
    return pl.DataFrame(cols)
