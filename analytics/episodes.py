"""Card-use episodes (sprees): runs of one card's transactions, with NOK totals.

The report's clearest picture of a repeat offender at work is a stolen card drained
of at least NOK 44,000 in a day and a half. This module finds such *episodes* in the
card transactions (the `episodes` table); a person's events are laid out in time
for the timeline page by `person_timeline`.

Everything here is pure: Polars frames and parameters in, new frames out; no DuckDB,
no paths. Input frames have the columns of `gjenganger.store` (see
docs/architecture.md); timestamps are naive local time.

Definitions
-----------
- An **episode** is a run of transactions on one card (`card_ref`) with no gap
  between consecutive transactions longer than `max_gap_hours`. Declined attempts
  belong to the episode (they show the card being tried) but carry no NOK.
- `total_nok` is the sum of *approved* amounts; `attempted_nok` includes declined.
- `max_36h_nok` is the largest approved NOK total inside any closed window of
  `window_hours` (36 h by default): "at least NOK 44,000 in a day and a half".
  The maximum over all windows is attained by a window ending at a transaction, so a
  backward rolling sum per transaction is exact.
- The **person** of an episode is the person linked to its fraud case (role order
  convicted > charged > suspect), else the rank-1 attribution candidate, which is a
  *hypothesis* (`is_hypothesis = True`, `attribution_p`), never shown as linked.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

__all__ = [
    "DEFAULT_MAX_GAP_HOURS",
    "DEFAULT_WINDOW_HOURS",
    "EPISODE_COLUMNS",
    "assign_episodes",
    "attach_persons",
    "detect_episodes",
    "max_window_total",
    "top_candidates",
]

DEFAULT_MAX_GAP_HOURS = 24.0
DEFAULT_WINDOW_HOURS = 36.0

# The columns of `detect_episodes` + `attach_persons`, in order (the DuckDB table).
EPISODE_COLUMNS: tuple[str, ...] = (
    "episode_id",
    "incident_id",
    "card_ref",
    "person_id",
    "person_source",
    "is_hypothesis",
    "attribution_p",
    "n_persons_linked",
    "start_at",
    "end_at",
    "duration_h",
    "n_transactions",
    "n_approved",
    "n_declined",
    "n_merchants",
    "merchant_categories",
    "total_nok",
    "attempted_nok",
    "max_36h_nok",
    "max_36h_start_at",
    "max_36h_end_at",
    "n_incidents",
)

_ROLE_ORDER = {"convicted": 0, "charged": 1, "suspect": 2}


def _hours(expr: pl.Expr) -> pl.Expr:
    """A Duration expression as float hours."""
    return expr.dt.total_microseconds().cast(pl.Float64) / 3.6e9


# --------------------------------------------------------------------- episodes
def assign_episodes(
    transactions: pl.DataFrame, *, max_gap_hours: float = DEFAULT_MAX_GAP_HOURS
) -> pl.DataFrame:
    """Transactions sorted by card and time, each with its `episode_id`.

    A new episode starts at a card's first transaction and wherever the gap to the
    previous transaction of the same card exceeds `max_gap_hours` (a cumulative sum
    of those break flags numbers the episodes). Adds `episode_id` (card_ref and
    start time, stable across runs), `amount_approved_nok` (0 for declined) and
    `cum_nok` (approved NOK so far in the episode).
    """
    if max_gap_hours <= 0:
        raise ValueError(f"max_gap_hours must be > 0, got {max_gap_hours}")
    gap = timedelta(hours=max_gap_hours)
    tx = transactions.sort("card_ref", "at", "transaction_id")
    new_episode = (pl.col("card_ref") != pl.col("card_ref").shift(1)).fill_null(
        True
    ) | ((pl.col("at") - pl.col("at").shift(1)) > gap).fill_null(True)
    tx = tx.with_columns(
        _seq=new_episode.cast(pl.Int64).cum_sum(),
        amount_approved_nok=pl.when(pl.col("approved"))
        .then(pl.col("amount_nok"))
        .otherwise(0.0)
        .cast(pl.Float64),
    )
    tx = tx.with_columns(
        episode_id=pl.concat_str(
            pl.col("card_ref"),
            pl.lit(":"),
            pl.col("at").min().over("_seq").dt.strftime("%Y%m%dT%H%M%S"),
        ),
    ).with_columns(
        cum_nok=pl.col("amount_approved_nok").cum_sum().over("_seq"),
    )
    return tx.drop("_seq")


def max_window_total(
    events: pl.DataFrame,
    *,
    by: str,
    at: str = "at",
    value: str = "amount_approved_nok",
    window_hours: float = DEFAULT_WINDOW_HOURS,
) -> pl.DataFrame:
    """The largest `value` total inside any closed `window_hours` window, per `by`.

    Returns one row per group: `by`, `max_window_nok`, `window_start_at` (first
    contributing event) and `window_end_at` (last one). A backward rolling sum
    ending at each event is exact, because any window can be slid right until it
    ends at its last event without losing an event.
    """
    window = timedelta(hours=window_hours)
    ev = events.select(by, at, value).sort(by, at)
    ev = ev.with_columns(
        _win=pl.col(value)
        .rolling_sum_by(at, window_size=window, closed="both")
        .over(by)
        .round(2)
    )
    best = (
        ev.sort(by, "_win", at, descending=[False, True, False])
        .group_by(by, maintain_order=True)
        .first()
        .select(by, pl.col("_win").alias("max_window_nok"), pl.col(at).alias("_end"))
    )
    starts = (
        ev.join(best, on=by)
        .filter(
            (pl.col(at) >= pl.col("_end") - window)
            & (pl.col(at) <= pl.col("_end"))
            & (pl.col(value) > 0)
        )
        .group_by(by)
        .agg(pl.col(at).min().alias("window_start_at"))
    )
    return (
        best.join(starts, on=by, how="left")
        .with_columns(
            window_start_at=pl.col("window_start_at").fill_null(pl.col("_end"))
        )
        .rename({"_end": "window_end_at"})
        .select(by, "max_window_nok", "window_start_at", "window_end_at")
    )


def detect_episodes(
    transactions: pl.DataFrame,
    *,
    max_gap_hours: float = DEFAULT_MAX_GAP_HOURS,
    window_hours: float = DEFAULT_WINDOW_HOURS,
) -> pl.DataFrame:
    """One row per card-use episode, largest `max_36h_nok` first.

    Columns: episode_id, incident_id (the case with most of the episode's
    transactions), card_ref, start_at, end_at, duration_h, n_transactions,
    n_approved, n_declined, n_merchants (distinct merchant_ref, online counted as
    one), merchant_categories (comma-separated, sorted), total_nok (approved),
    attempted_nok (all), max_36h_nok with max_36h_start_at/max_36h_end_at, and
    n_incidents. Persons are added by `attach_persons`.
    """
    if transactions.height == 0:
        return _empty_episodes()
    tx = assign_episodes(transactions, max_gap_hours=max_gap_hours)
    main_incident = (
        tx.group_by("episode_id", "incident_id")
        .agg(pl.len().alias("_n"), pl.col("at").min().alias("_first"))
        .sort("episode_id", "_n", "_first", descending=[False, True, False])
        .group_by("episode_id", maintain_order=True)
        .first()
        .select("episode_id", "incident_id")
    )
    agg = tx.group_by("episode_id").agg(
        pl.col("card_ref").first(),
        pl.col("at").min().alias("start_at"),
        pl.col("at").max().alias("end_at"),
        pl.len().cast(pl.Int64).alias("n_transactions"),
        pl.col("approved").sum().cast(pl.Int64).alias("n_approved"),
        (~pl.col("approved")).sum().cast(pl.Int64).alias("n_declined"),
        pl.coalesce(pl.col("merchant_ref"), pl.col("merchant_category"))
        .n_unique()
        .cast(pl.Int64)
        .alias("n_merchants"),
        pl.col("merchant_category")
        .unique()
        .sort()
        .str.join(",")
        .alias("merchant_categories"),
        pl.col("amount_approved_nok").sum().round(2).alias("total_nok"),
        pl.col("amount_nok").sum().round(2).alias("attempted_nok"),
        pl.col("incident_id").n_unique().cast(pl.Int64).alias("n_incidents"),
    )
    windows = max_window_total(tx, by="episode_id", window_hours=window_hours).rename(
        {
            "max_window_nok": "max_36h_nok",
            "window_start_at": "max_36h_start_at",
            "window_end_at": "max_36h_end_at",
        }
    )
    out = (
        agg.join(main_incident, on="episode_id")
        .join(windows, on="episode_id")
        .with_columns(duration_h=_hours(pl.col("end_at") - pl.col("start_at")).round(3))
        .with_columns(
            person_id=pl.lit(None, pl.String),
            person_source=pl.lit(None, pl.String),
            is_hypothesis=pl.lit(None, pl.Boolean),
            attribution_p=pl.lit(None, pl.Float64),
            n_persons_linked=pl.lit(0, pl.Int64),
        )
    )
    return out.select(EPISODE_COLUMNS).sort(
        "max_36h_nok", "start_at", "episode_id", descending=[True, False, False]
    )


def _empty_episodes() -> pl.DataFrame:
    """An episodes frame with no rows and the right schema."""
    ts = pl.Datetime("us")
    schema = {
        "episode_id": pl.String,
        "incident_id": pl.String,
        "card_ref": pl.String,
        "person_id": pl.String,
        "person_source": pl.String,
        "is_hypothesis": pl.Boolean,
        "attribution_p": pl.Float64,
        "n_persons_linked": pl.Int64,
        "start_at": ts,
        "end_at": ts,
        "duration_h": pl.Float64,
        "n_transactions": pl.Int64,
        "n_approved": pl.Int64,
        "n_declined": pl.Int64,
        "n_merchants": pl.Int64,
        "merchant_categories": pl.String,
        "total_nok": pl.Float64,
        "attempted_nok": pl.Float64,
        "max_36h_nok": pl.Float64,
        "max_36h_start_at": ts,
        "max_36h_end_at": ts,
        "n_incidents": pl.Int64,
    }
    return pl.DataFrame(schema=schema)


# ---------------------------------------------------------------------- persons
def top_candidates(candidates: pl.DataFrame | None) -> pl.DataFrame:
    """The rank-1 attribution candidate per incident, from the newest `as_of`.

    `candidates` has incident_id, person_id, p, rank, as_of (model_version
    optional); None or empty gives an empty frame. Returns incident_id, person_id,
    p.
    """
    empty = pl.DataFrame(
        schema={"incident_id": pl.String, "person_id": pl.String, "p": pl.Float64}
    )
    if candidates is None or candidates.height == 0:
        return empty
    c = candidates
    if "as_of" in c.columns:
        c = c.filter(pl.col("as_of") == pl.col("as_of").max().over("incident_id"))
    if "rank" in c.columns:
        c = c.filter(pl.col("rank") == pl.col("rank").min().over("incident_id"))
    return (
        c.sort("incident_id", "p", "person_id", descending=[False, True, False])
        .group_by("incident_id", maintain_order=True)
        .first()
        .select(
            pl.col("incident_id").cast(pl.String),
            pl.col("person_id").cast(pl.String),
            pl.col("p").cast(pl.Float64),
        )
    )


def _principal_links(links: pl.DataFrame) -> pl.DataFrame:
    """Per incident: the principal linked person and the number linked."""
    if links.height == 0:
        return pl.DataFrame(
            schema={
                "incident_id": pl.String,
                "_linked_person": pl.String,
                "_n_linked": pl.Int64,
            }
        )
    return (
        links.with_columns(
            _r=pl.col("role").replace_strict(
                _ROLE_ORDER, default=9, return_dtype=pl.Int8
            )
        )
        .sort("incident_id", "_r", "person_id")
        .group_by("incident_id", maintain_order=True)
        .agg(
            pl.col("person_id").first().alias("_linked_person"),
            pl.col("person_id").n_unique().cast(pl.Int64).alias("_n_linked"),
        )
    )


def attach_persons(
    episodes: pl.DataFrame,
    links: pl.DataFrame,
    candidates: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Episodes with the person of their fraud case filled in.

    A linked person (from `links`: current, not retracted) gives
    person_source='linked', is_hypothesis=False. Otherwise the rank-1 attribution
    candidate gives person_source='attributed', is_hypothesis=True and
    attribution_p. Otherwise person_id stays null (person_source 'none').
    """
    principal = _principal_links(links)
    top = top_candidates(candidates).rename(
        {"person_id": "_cand_person", "p": "_cand_p"}
    )
    out = (
        episodes.drop(
            "person_id",
            "person_source",
            "is_hypothesis",
            "attribution_p",
            "n_persons_linked",
            strict=False,
        )
        .join(principal, on="incident_id", how="left")
        .join(top, on="incident_id", how="left")
    )
    linked = pl.col("_linked_person").is_not_null()
    attributed = ~linked & pl.col("_cand_person").is_not_null()
    out = out.with_columns(
        person_id=pl.when(linked)
        .then(pl.col("_linked_person"))
        .otherwise(pl.col("_cand_person")),
        person_source=pl.when(linked)
        .then(pl.lit("linked"))
        .when(attributed)
        .then(pl.lit("attributed"))
        .otherwise(pl.lit("none")),
        is_hypothesis=attributed,
        attribution_p=pl.when(attributed).then(pl.col("_cand_p")),
        n_persons_linked=pl.col("_n_linked").fill_null(0).cast(pl.Int64),
    )
    return out.select(EPISODE_COLUMNS)
