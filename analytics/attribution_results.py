"""Attribution results: ranked candidates per open case, with checkable evidence.

An `Attribution` is one method's answer: every candidate of every open case with
its calibrated probability and rank, and per case the probability that none of
the candidates did it. The best candidates carry the evidence an analyst can
check (`_why`): nearest known case, best-matching known case, matching modus,
repeat target, known cases and custody (`in_custody_share`, the share of the
offence window the person was in custody; the pages say it in words, "i varetekt
60 % av tidsvinduet", `maps.i18n.custody_note`).
"""

# ruff: noqa: N806 - F: the usual maths notation

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from gjenganger.analytics.attribution_context import Context, Rows
from gjenganger.analytics.person_evidence import PERSON_FEATURES

HYPOTHESIS = "hypothesis: statistical attribution for an analyst to judge, not a link"


@dataclass
class Attribution:
    """One method's attribution: full candidate distribution per open case."""

    method: str
    candidates: pl.DataFrame  # incident_id, person_id, p, rank, why columns
    cases: pl.DataFrame  # incident_id, p_none, n_candidates
    none_prior: float | None = None


def _why(ctx: Context, rows: Rows, sel: np.ndarray, ev) -> dict[str, list]:
    """Evidence an analyst can check, for the rows `sel` (`ev`: their evidence
    with every known case counted, `attribution_context.full_evidence`)."""
    c = ctx.cases
    F = ev.X
    col = {n: k for k, n in enumerate(PERSON_FEATURES)}
    qi = rows.q[rows.row_case[sel]]
    best = ev.best_case
    ok = best >= 0
    b = np.where(ok, best, 0)
    fields = {
        "offence_code": c.offence,
        "target_type": c.target,
        "entry_method": c.entry,
        "planned": c.planned,
    }
    match = {k: (v[qi] == v[b]) & (v[qi] >= 0) & ok for k, v in fields.items()}
    grp = (c.participants[qi] > 1) & (c.participants[b] > 1) & ok
    # the matching field names per row, built column-wise (no Python loop per row)
    flags = pl.DataFrame({**match, "co_offending": grp})
    matching = flags.select(
        pl.concat_list(
            [pl.when(pl.col(n)).then(pl.lit(n)) for n in flags.columns]
        ).list.drop_nulls()
    ).to_series()
    near = ev.nearest_case
    ids = c.incident_id

    def id_or_none(k: np.ndarray) -> pl.Series:
        return pl.Series(ids[np.maximum(k, 0)]).set(pl.Series(k < 0), None)

    return {
        "nearest_case_km": np.round(F[:, col["min_distance_km"]], 3),
        "nearest_case_days": np.round(F[:, col["min_gap_days"]], 2),
        "nearest_incident_id": id_or_none(near),
        "best_match_incident_id": id_or_none(best),
        "matching_modus": matching,
        "repeat_target": F[:, col["repeat_target"]] == 1,
        "known_cases": ev.n_known,
        "in_custody_share": np.round(F[:, col["custody_overlap"]], 3),
    }


WHY_TOP = 5  # evidence is assembled for the candidates that are shown and stored


def ranked_attribution(
    ctx: Context,
    rows: Rows,
    p: np.ndarray,
    pn: np.ndarray,
    method: str,
    prior,
    why,
) -> Attribution:
    """`method`'s attribution from calibrated row probabilities `p` and P(none)
    per case `pn`: the candidates ranked within each case (with the evidence of
    the best `WHY_TOP` when `why`, a function of the selected rows giving their
    full evidence, `attribution_context.full_evidence`), and one row per case."""
    ids = ctx.cases.incident_id
    n = len(rows.q)
    order = np.lexsort((-p, rows.row_case))
    rc = rows.row_case[order]
    rank = np.empty(len(p), np.int64)
    rank[order] = np.arange(len(p)) - np.searchsorted(rc, rc, side="left") + 1
    cols = {
        "incident_id": ids[rows.q[rows.row_case]],
        "person_id": ctx.links.persons[rows.row_person],
        "p": p,
        "rank": rank,
    }
    cand = pl.DataFrame(cols)
    if why:
        sel = np.flatnonzero(rank <= WHY_TOP)
        extra = pl.DataFrame(_why(ctx, rows, sel, why(sel))).with_columns(
            pl.Series("_row", sel)
        )
        cand = (
            cand.with_row_index("_row")
            .with_columns(pl.col("_row").cast(pl.Int64))
            .join(
                extra.with_columns(pl.col("_row").cast(pl.Int64)), on="_row", how="left"
            )
            .drop("_row")
        )
    cand = cand.sort(["incident_id", "rank"])
    ncand = np.bincount(rows.row_case, minlength=n)
    cases = pl.DataFrame(
        {"incident_id": ids[rows.q], "p_none": pn, "n_candidates": ncand}
    )
    return Attribution(method, cand, cases.sort("incident_id"), prior)


def empty_frames(ctx: Context) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(candidates, cases) of an attribution with no candidate: every open case of
    `ctx` with P(none) = 1."""
    ids = ctx.cases.incident_id[ctx.open_idx]
    cand = pl.DataFrame(
        schema={
            "incident_id": pl.String,
            "person_id": pl.String,
            "p": pl.Float64,
            "rank": pl.Int64,
        }
    )
    cases = pl.DataFrame(
        {
            "incident_id": ids,
            "p_none": np.ones(len(ids)),
            "n_candidates": np.zeros(len(ids), np.int64),
        }
    )
    return cand, cases


def top_candidates(att: Attribution, k: int = 5) -> list[dict]:
    """One object per open case: incident_id, p_none, candidates (best first, <= k)."""
    cand = att.candidates.filter(pl.col("rank") <= k)
    why_cols = [
        c for c in cand.columns if c not in ("incident_id", "person_id", "p", "rank")
    ]
    grouped: dict[str, list[dict]] = {}
    for r in cand.sort(["incident_id", "rank"]).iter_rows(named=True):
        entry = {
            "person_id": r["person_id"],
            "p": round(float(r["p"]), 4),
            "rank": r["rank"],
        }
        if why_cols:
            entry["why"] = {c: r[c] for c in why_cols}
        grouped.setdefault(r["incident_id"], []).append(entry)
    return [
        {
            "incident_id": iid,
            "p_none": round(float(pn), 4),
            "candidates": grouped.get(iid, []),
            "label": HYPOTHESIS,
        }
        for iid, pn in att.cases.select("incident_id", "p_none").iter_rows()
    ]
