"""Series of open cases: per attributed person, and among unattributed cases.

Two kinds of series, both hypotheses:

- **person**: the open cases whose best candidate is person P with probability at
  least `min_p` (from `analytics.attribution`), i.e. P's likely unsolved series.
- **linked**: open cases with no confident attribution, grouped among themselves
  by the case-case linkage model. Candidate pairs are each case's `neighbours`
  nearest cases within `radius` in the space-time metric (km, km, days /
  TAU_DAYS_PER_KM; cKDTree), so the work grows linearly with the cases;
  their link probability comes from the pair model; the graph of pairs with
  p >= `link_p` is split into connected components and each component is cut by
  average-linkage clustering on 1 - p at 1 - `link_p` (Porter 2016's
  hierarchical clustering of crimes on Bayes factors, with probabilities).
  Cases without coordinates are not clustered.

`summarise` gives each series its span (first/last offence time), area (convex
hull, km²) and radius (max distance from the centroid), the dominant offence code,
target type and entry method with the share of cases having all three, and the
mean probability.
"""

# ruff: noqa: N803, N806 - X, K, F, A, B, L: the usual maths notation

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, QhullError, cKDTree

from gjenganger.analytics.linkage import TAU_DAYS_PER_KM
from gjenganger.analytics.pair_features import CaseArrays, pair_matrix

SERIES_COLUMNS = (
    "series_id",
    "kind",
    "person_id",
    "n_cases",
    "first_at",
    "last_at",
    "span_days",
    "area_km2",
    "radius_km",
    "centroid_lat",
    "centroid_lon",
    "main_offence_code",
    "main_target_type",
    "main_entry_method",
    "modus_share",
    "mean_p",
)


def person_series(candidates: pl.DataFrame, min_p: float = 0.5) -> pl.DataFrame:
    """Members of person series: rank-1 candidates with p >= `min_p`.

    `candidates` has incident_id, person_id, p, rank. Returns series_id, kind,
    person_id, incident_id, p.
    """
    best = candidates.filter((pl.col("rank") == 1) & (pl.col("p") >= min_p))
    return best.select(
        pl.concat_str([pl.lit("P-"), pl.col("person_id")]).alias("series_id"),
        pl.lit("person").alias("kind"),
        "person_id",
        "incident_id",
        pl.col("p").cast(pl.Float64),
    ).sort("series_id", "incident_id")


def cluster_cases(
    cases: CaseArrays,
    idx: np.ndarray,
    pair_logit,
    *,
    radius: float = 2.0,
    link_p: float = 0.5,
    neighbours: int = 30,
) -> tuple[np.ndarray, np.ndarray]:
    """Group cases `idx` into series by link probability.

    `pair_logit(X, q_case_indices) -> log-odds`. Returns (label per idx, -1 for
    a case in no series of two or more; mean within-series link p per idx).
    """
    idx = np.asarray(idx, dtype=np.int64)
    labels = np.full(len(idx), -1, dtype=np.int64)
    mean_p = np.full(len(idx), np.nan)
    xy = cases.has_xy[idx]
    sub = idx[xy]
    if len(sub) < 2:
        return labels, mean_p
    pts = np.c_[cases.x_km[sub], cases.y_km[sub], cases.t_mid[sub] / TAU_DAYS_PER_KM]
    k = min(neighbours + 1, len(sub))
    dist, nb = cKDTree(pts).query(pts, k=k, distance_upper_bound=radius)
    src = np.repeat(np.arange(len(sub)), k).reshape(len(sub), k)
    ok = np.isfinite(dist) & (nb != src)
    a, b = np.minimum(src[ok], nb[ok]), np.maximum(src[ok], nb[ok])
    if len(a) == 0:
        return labels, mean_p
    # each pair once (hash-based unique, then sorted: the same as np.unique, faster)
    key = pl.Series(a * len(sub) + b).unique().sort().to_numpy()
    a, b = key // len(sub), key % len(sub)
    p = 1.0 / (
        1.0 + np.exp(-pair_logit(pair_matrix(cases, sub[a], cases, sub[b]), sub[a]))
    )
    keep = p >= link_p
    a, b, p = a[keep], b[keep], p[keep]
    n = len(sub)
    graph = coo_matrix((p, (a, b)), shape=(n, n)).tocsr()
    graph = (graph + graph.T).tocsr()
    sub_labels = np.full(n, -1, dtype=np.int64)
    sub_meanp = np.full(n, np.nan)
    groups = _components(graph, np.arange(n), link_p)
    for label, mem in enumerate(groups):
        sub_labels[mem] = label
        block = graph[mem][:, mem].toarray()
        iu = np.triu_indices(len(mem), k=1)
        sub_meanp[mem] = float(block[iu].mean())
    labels[xy] = sub_labels
    mean_p[xy] = sub_meanp
    return labels, mean_p


MAX_DENSE = 1500  # largest component clustered with a dense distance matrix


def _components(graph, members: np.ndarray, link_p: float) -> list[np.ndarray]:
    """Series (index arrays, >= 2 cases) within `members` of the symmetric graph.

    Connected components of the edges with p >= `link_p`, each cut by average
    linkage on 1 - p at 1 - `link_p`. A component too big for a dense matrix is
    first split by raising the edge threshold.
    """
    sub = graph[members][:, members]
    sub = sub.multiply(sub >= link_p).tocsr()
    ncomp, comp = connected_components(sub, directed=False)
    out: list[np.ndarray] = []
    for c in np.flatnonzero(np.bincount(comp, minlength=ncomp) >= 2):
        local = np.flatnonzero(comp == c)
        mem = members[local]
        if len(mem) > MAX_DENSE and link_p < 0.99:
            out += _components(graph, mem, min(0.99, link_p + 0.1))
            continue
        if len(mem) == 2:
            out.append(mem)
            continue
        dist = 1.0 - sub[local][:, local].toarray()
        np.fill_diagonal(dist, 0.0)
        tree = linkage(dist[np.triu_indices(len(mem), k=1)], method="average")
        lab = fcluster(tree, t=1.0 - link_p, criterion="distance")
        for g in np.unique(lab):
            if (lab == g).sum() >= 2:
                out.append(mem[lab == g])
    return out


def linked_series(
    cases: CaseArrays, idx: np.ndarray, pair_logit, **kwargs
) -> pl.DataFrame:
    """Members of series among cases `idx` (series_id L-0001, ...)."""
    labels, mean_p = cluster_cases(cases, idx, pair_logit, **kwargs)
    ok = labels >= 0
    return pl.DataFrame(
        {
            "series_id": [f"L-{k + 1:04d}" for k in labels[ok]],
            "kind": "linked",
            "person_id": pl.Series([None] * int(ok.sum()), dtype=pl.String),
            "incident_id": cases.incident_id[idx[ok]],
            "p": mean_p[ok],
        },
        schema={
            "series_id": pl.String,
            "kind": pl.String,
            "person_id": pl.String,
            "incident_id": pl.String,
            "p": pl.Float64,
        },
    ).sort("series_id", "incident_id")


def _hull(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 3:
        return 0.0
    try:
        return float(ConvexHull(np.c_[x, y]).volume)  # 2-D "volume" is the area
    except QhullError:  # collinear or identical points
        return 0.0


def summarise(members: pl.DataFrame, incidents: pl.DataFrame) -> pl.DataFrame:
    """One row per series (`SERIES_COLUMNS`) from its members and their incidents."""
    from gjenganger.analytics.geo import to_utm33

    if members.is_empty():
        return pl.DataFrame(schema=_summary_schema())
    m = members.join(incidents, on="incident_id", how="left")
    rows = []
    for (sid,), g in m.group_by(["series_id"], maintain_order=True):
        lat = g["lat"].cast(pl.Float64).drop_nulls().to_numpy()
        lon = g["lon"].cast(pl.Float64).drop_nulls().to_numpy()
        area = radius = 0.0
        clat = clon = None
        if len(lat):
            x, y = to_utm33(lat, lon)
            x, y = x / 1000.0, y / 1000.0
            area = _hull(x, y)
            radius = float(np.max(np.hypot(x - x.mean(), y - y.mean())))
            clat, clon = float(lat.mean()), float(lon.mean())

        def mode(col: str, frame: pl.DataFrame = g) -> str | None:
            vc = frame[col].drop_nulls().value_counts(sort=True)
            return vc[col][0] if vc.height else None

        main = (mode("offence_code"), mode("target_type"), mode("entry_method"))
        same = (
            (g["offence_code"] == main[0])
            & (g["target_type"] == main[1])
            & (g["entry_method"].fill_null("") == (main[2] or ""))
        )
        first, last = g["occurred_from"].min(), g["occurred_to"].max()
        rows.append(
            {
                "series_id": sid,
                "kind": g["kind"][0],
                "person_id": g["person_id"][0],
                "n_cases": g.height,
                "first_at": first,
                "last_at": last,
                "span_days": round((last - first).total_seconds() / 86400.0, 2),
                "area_km2": round(area, 3),
                "radius_km": round(radius, 3),
                "centroid_lat": clat,
                "centroid_lon": clon,
                "main_offence_code": main[0],
                "main_target_type": main[1],
                "main_entry_method": main[2],
                "modus_share": round(float(same.mean()), 3),
                "mean_p": round(float(g["p"].mean()), 4),
            }
        )
    return pl.DataFrame(rows, schema=_summary_schema()).sort(
        ["n_cases", "series_id"], descending=[True, False]
    )


def _summary_schema() -> dict:
    return {
        "series_id": pl.String,
        "kind": pl.String,
        "person_id": pl.String,
        "n_cases": pl.Int64,
        "first_at": pl.Datetime("us"),
        "last_at": pl.Datetime("us"),
        "span_days": pl.Float64,
        "area_km2": pl.Float64,
        "radius_km": pl.Float64,
        "centroid_lat": pl.Float64,
        "centroid_lon": pl.Float64,
        "main_offence_code": pl.String,
        "main_target_type": pl.String,
        "main_entry_method": pl.String,
        "modus_share": pl.Float64,
        "mean_p": pl.Float64,
    }


def build_series(
    candidates: pl.DataFrame,
    open_cases: np.ndarray,
    cases: CaseArrays,
    incidents: pl.DataFrame,
    pair_logit,
    *,
    min_p: float = 0.5,
    link_p: float = 0.5,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(series summary, members) for the open cases of one attribution run.

    `open_cases` are case indices into `cases`; those without a rank-1 candidate
    at `min_p` or more are clustered among themselves.
    """
    people = person_series(candidates, min_p)
    done = set(people["incident_id"].to_list())
    rest = np.array(
        [i for i in open_cases.tolist() if cases.incident_id[i] not in done],
        dtype=np.int64,
    )
    members = people
    if pair_logit is not None and len(rest) >= 2:
        members = pl.concat(
            [people, linked_series(cases, rest, pair_logit, link_p=link_p)]
        )
    return summarise(members, incidents), members
