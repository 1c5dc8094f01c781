"""The top list: persons ranked by their linked cases in a window, and concentration.

A person's **score** is the sum, over their linked (not retracted) cases that
occurred in the window, of `severity weight x value factor`:

- severity weight by offence code (`SEVERITY`): violence, robbery and drug import
  3.0; home burglary 2.5; other burglaries and vehicle theft 2.0; card and
  identity fraud, drug sale 1.5; petty theft, vandalism, other fraud 1.0; drug
  use and other 0.5. Serious and costly offences weigh more, as in the report's
  level model and its cost figures; drug use, which every user commits daily,
  weighs least.
- value factor `1 + 0.5 * log10(1 + value_nok / 1000)`: NOK 0 -> 1.0,
  10,000 -> 1.52, 100,000 -> 2.0, 1.2 million -> 2.54 (unknown value = 1.0). The
  logarithm keeps one NOK 1.2 million night from outweighing a hundred
  break-ins.

"As known on the as-of date": the frames come from `store.load_*(con, as_of)`
(links as then, retractions applied); a case counts in the window when its
`occurred_from` falls in the `window_days` days ending on `as_of`. The trend
compares the case count with the window before.

`concentration` gives the figures the report quotes ("5 % of offenders commit over
half of all offences"): the share of linked cases by the top 5 % of persons, the
Gini coefficient and a Lorenz curve table.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

from gjenganger.data_schema.contract import OFFENCE_GROUPS

SEVERITY: dict[str, float] = {
    "violence": 3.0,
    "robbery": 3.0,
    "drug_import": 3.0,
    "burglary_home": 2.5,
    "burglary_business": 2.0,
    "burglary_public": 2.0,
    "burglary_construction": 2.0,
    "burglary_cabin": 2.0,
    "burglary_storage": 2.0,
    "vehicle_theft": 2.0,
    "card_fraud": 1.5,
    "identity_fraud": 1.5,
    "drug_sale": 1.5,
    "theft_from_vehicle": 1.0,
    "bicycle_theft": 1.0,
    "shoplifting": 1.0,
    "mail_theft": 1.0,
    "other_theft": 1.0,
    "other_fraud": 1.0,
    "vandalism": 1.0,
    "drug_use": 0.5,
    "other": 0.5,
}
VALUE_SCALE_NOK = 1000.0
VALUE_WEIGHT = 0.5
TOPLIST_COLUMNS = (
    "rank",
    "person_id",
    "cases",
    "score",
    "est_value_nok",
    "group_mix",
    "level_mix",
    "first_case_at",
    "last_case_at",
    "prev_cases",
    "trend",
)


def _bounds(as_of: date, window_days: int) -> tuple[datetime, datetime, datetime]:
    end = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    start = end - timedelta(days=window_days)
    return start, end, start - timedelta(days=window_days)


def case_weight() -> pl.Expr:
    """Severity x value factor per case (see module docstring)."""
    sev = pl.col("offence_code").replace_strict(
        SEVERITY, default=1.0, return_dtype=pl.Float64
    )
    val = (
        1.0
        + VALUE_WEIGHT
        * (1.0 + pl.col("value_nok").cast(pl.Float64) / VALUE_SCALE_NOK).log10()
    )
    return sev * val.fill_null(1.0)


def _linked_cases(
    incidents: pl.DataFrame, links: pl.DataFrame, start, end
) -> pl.DataFrame:
    inc = incidents.filter(
        (pl.col("occurred_from") >= start)
        & (pl.col("occurred_from") < end)
        & (pl.col("reported_at") < end)
    )
    return links.select("incident_id", "person_id").unique().join(inc, on="incident_id")


def _levels(frame: pl.DataFrame) -> pl.Series | None:
    try:
        from gjenganger.analytics.sophistication import levels
    except ImportError:  # pragma: no cover - the module is part of the project
        return None
    return levels(frame)


def rank_persons(
    incidents: pl.DataFrame,
    links: pl.DataFrame,
    as_of: date,
    *,
    window_days: int = 365,
) -> pl.DataFrame:
    """Every person with a linked case in the window, best first (`TOPLIST_COLUMNS`).

    `group_mix` and `level_mix` are JSON objects (`{"acquisitive": 12, ...}`,
    `{"1": 3, "2": 9}`) counting the person's cases in the window.
    """
    start, end, prev_start = _bounds(as_of, window_days)
    cur = _linked_cases(incidents, links, start, end)
    prev = _linked_cases(incidents, links, prev_start, start)
    if cur.is_empty():
        return pl.DataFrame(schema=_schema())
    lv = _levels(cur)
    cur = cur.with_columns(
        case_weight().alias("w"),
        pl.col("offence_code")
        .replace_strict(OFFENCE_GROUPS, default="other")
        .alias("grp"),
        (lv if lv is not None else pl.lit(None, pl.Int8)).alias("level"),
    )
    agg = cur.group_by("person_id").agg(
        pl.len().alias("cases"),
        pl.col("w").sum().alias("score"),
        pl.col("value_nok").cast(pl.Float64).sum().alias("est_value_nok"),
        pl.col("grp").alias("grps"),
        pl.col("level").alias("lvls"),
        pl.col("occurred_from").min().alias("first_case_at"),
        pl.col("occurred_from").max().alias("last_case_at"),
    )
    pc = prev.group_by("person_id").agg(pl.len().alias("prev_cases"))
    agg = agg.join(pc, on="person_id", how="left").with_columns(
        pl.col("prev_cases").fill_null(0).cast(pl.Int64)
    )

    def mix(values: list) -> str:
        counts: dict[str, int] = {}
        for v in values:
            if v is not None:
                counts[str(v)] = counts.get(str(v), 0) + 1
        return json.dumps(dict(sorted(counts.items())))

    agg = agg.with_columns(
        pl.col("grps").map_elements(mix, return_dtype=pl.String).alias("group_mix"),
        pl.col("lvls").map_elements(mix, return_dtype=pl.String).alias("level_mix"),
        pl.when(pl.col("prev_cases") == 0)
        .then(pl.lit("new"))
        .when(pl.col("cases") >= 1.25 * pl.col("prev_cases"))
        .then(pl.lit("up"))
        .when(pl.col("cases") <= 0.8 * pl.col("prev_cases"))
        .then(pl.lit("down"))
        .otherwise(pl.lit("stable"))
        .alias("trend"),
    )
    out = agg.sort(["score", "cases", "person_id"], descending=[True, True, False])
    out = out.with_columns(
        pl.int_range(1, pl.len() + 1).cast(pl.Int64).alias("rank"),
        pl.col("cases").cast(pl.Int64),
        pl.col("score").round(3),
        pl.col("est_value_nok").fill_null(0.0).round(0),
    )
    return out.select(TOPLIST_COLUMNS)


def _schema() -> dict:
    return {
        "rank": pl.Int64,
        "person_id": pl.String,
        "cases": pl.Int64,
        "score": pl.Float64,
        "est_value_nok": pl.Float64,
        "group_mix": pl.String,
        "level_mix": pl.String,
        "first_case_at": pl.Datetime("us"),
        "last_case_at": pl.Datetime("us"),
        "prev_cases": pl.Int64,
        "trend": pl.String,
    }


def concentration(
    incidents: pl.DataFrame,
    links: pl.DataFrame,
    as_of: date,
    *,
    window_days: int = 365,
    top_share: float = 0.05,
    points: int = 20,
) -> dict:
    """Share of the window's linked cases by the top `top_share` of persons; Lorenz.

    A case co-offended by several persons counts once towards the total and once
    for the top group if any of them is in it. The Lorenz table orders persons from
    the least to the most active: row k gives the share of cases by the least
    active `share_persons` of persons.
    """
    start, end, _ = _bounds(as_of, window_days)
    cur = _linked_cases(incidents, links, start, end)
    per = cur.group_by("person_id").agg(pl.len().alias("n")).sort(["n", "person_id"])
    n_persons = per.height
    total_cases = cur["incident_id"].n_unique()
    if n_persons == 0:
        return {
            "persons": 0,
            "cases": 0,
            "top_persons": 0,
            "top_share_of_cases": None,
            "gini": None,
            "lorenz": [],
        }
    k = max(1, math.ceil(top_share * n_persons))
    top_ids = per.sort(["n", "person_id"], descending=[True, False]).head(k)[
        "person_id"
    ]
    top_cases = cur.filter(pl.col("person_id").is_in(top_ids.implode()))[
        "incident_id"
    ].n_unique()
    n = per["n"].to_numpy().astype(float)
    cum = np.concatenate([[0.0], np.cumsum(n) / n.sum()])
    xs = np.arange(n_persons + 1) / n_persons
    gini = float(1 - np.sum((cum[1:] + cum[:-1]) * np.diff(xs)))
    grid = np.linspace(0, 1, points + 1)
    lorenz = [
        {
            "share_persons": round(float(g), 4),
            "share_cases": round(float(np.interp(g, xs, cum)), 4),
        }
        for g in grid
    ]
    return {
        "persons": n_persons,
        "cases": int(total_cases),
        "top_persons": k,
        "top_share": top_share,
        "top_share_of_cases": round(top_cases / total_cases, 4),
        "gini": round(gini, 4),
        "lorenz": lorenz,
    }


def build(
    incidents: pl.DataFrame,
    links: pl.DataFrame,
    as_of: date,
    *,
    n: int = 20,
    window_days: int = 365,
) -> tuple[pl.DataFrame, dict]:
    """(the top `n` rows, the concentration figures) as known on `as_of`."""
    top = rank_persons(incidents, links, as_of, window_days=window_days).head(n)
    return top, concentration(incidents, links, as_of, window_days=window_days)
