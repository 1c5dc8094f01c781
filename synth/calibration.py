"""Measure a generated data set against the report's figures (from its files only).

`python -m gjenganger.synth.calibration OUT` prints the figures as JSON (with the
world the folder was generated in and the figures the worlds move, see
`world_figures`); the tests in `tests/test_synth_calibration.py` assert on the same
functions, and docs/synthetic-data.md quotes them.
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from gjenganger.synth import world_figures

#: Cases reported in the last days may still be solved later: measure before this.
SETTLE_DAYS = 120
TRUTH_FILES = ("offenders", "phases", "persons", "episodes", "incidents")


def load(out: Path) -> dict[str, pl.DataFrame]:
    """Batches (all versions, final versions, current links) and truth, as text."""
    out = Path(out)
    read = lambda p: pl.read_csv(p, infer_schema_length=0)  # noqa: E731
    versions = read(out / "inbox" / "*" / "incidents.*")
    links = read(out / "inbox" / "*" / "incident_persons.*")
    current = links.sort("updated_at").group_by("incident_id", "person_id").last()
    data = {
        "versions": versions,
        "final": versions.sort("updated_at").group_by("incident_id").last(),
        "links": links,
        "current": current.filter(pl.col("retracted") == "false"),
        "tx": read(out / "inbox" / "*" / "card_transactions.*"),
        "custody": read(out / "inbox" / "*" / "custody.*"),
    }
    data |= {n: read(out / "truth" / f"{n}.csv") for n in TRUTH_FILES}
    return data


def period(d) -> tuple[date, date]:
    """First and last day of the generated period (from truth)."""
    dates = (
        d["phases"]["date"]
        if d["phases"].height
        else d["incidents"]["occurred_at"].str.slice(0, 10)
    )
    return date.fromisoformat(dates.min()), date.fromisoformat(dates.max())


def solve_rates(
    d, by: str = "group", incidents: pl.DataFrame | None = None
) -> dict[str, float]:
    """Share of settled cases solved with the true principal linked, per `by`."""
    first, last = period(d)
    cutoff = (last - timedelta(days=SETTLE_DAYS)).isoformat()
    cases = (
        (d["incidents"] if incidents is None else incidents)
        .filter(pl.col("occurred_at") < cutoff)
        .select("incident_id", "person_id", by)
    )
    solved = (
        d["final"]
        .filter(pl.col("status") == "solved")
        .select("incident_id")
        .join(d["current"].select("incident_id", "person_id"), on="incident_id")
    )
    hit = cases.join(
        solved.with_columns(pl.lit(True).alias("hit")),
        on=["incident_id", "person_id"],
        how="left",
    )
    rate = (
        hit.group_by(by).agg(pl.col("hit").fill_null(False).mean().alias("r")).sort(by)
    )
    return {k: round(v, 4) for k, v in zip(rate[by], rate["r"], strict=True)}


def top_share(d, share: float = 0.05) -> float:
    """Share of all true offences done by the most active `share` of offenders."""
    counts = d["offenders"].group_by("person_id").len().sort("len", descending=True)
    top = max(1, round(share * counts.height))
    return round(counts["len"].head(top).sum() / counts["len"].sum(), 4)


def runs(phases: pl.DataFrame, active_as_one: bool) -> pl.DataFrame:
    """Maximal runs of one phase per person, not touching the period's ends."""
    p = phases.sort("person_id", "date")
    label = (
        (
            pl.when(pl.col("phase").is_in(["phase1", "phase2", "phase3"]))
            .then(pl.lit("active"))
            .otherwise(pl.col("phase"))
        )
        if active_as_one
        else pl.col("phase")
    )
    p = p.with_columns(label.alias("label"))
    p = p.with_columns(
        (pl.col("label") != pl.col("label").shift(1).over("person_id"))
        .fill_null(True)
        .cum_sum()
        .over("person_id")
        .alias("run")
    )
    out = p.group_by("person_id", "run").agg(
        pl.col("label").first(),
        pl.len().alias("days"),
        pl.col("date").min().alias("a"),
        pl.col("date").max().alias("b"),
    )
    first, last = phases["date"].min(), phases["date"].max()
    return out.filter((pl.col("a") > first) & (pl.col("b") < last))


def run_lengths(d) -> dict[str, dict[str, float]]:
    """Min, max, mean and count of run lengths per phase (and active periods)."""
    both = pl.concat(
        [
            runs(d["phases"], True).filter(pl.col("label") == "active"),
            runs(d["phases"], False),
        ]
    )
    stats = (
        both.group_by("label")
        .agg(
            pl.col("days").min().alias("min"),
            pl.col("days").max().alias("max"),
            pl.col("days").mean().round(1).alias("mean"),
            pl.len().alias("n"),
        )
        .sort("label")
    )
    return {r.pop("label"): r for r in stats.iter_rows(named=True)}


def person_days(d) -> pl.DataFrame:
    """Every day of every cycling person with the cases they truly did that day."""
    inc = d["final"].select(
        "incident_id", "planned", "entry_method", "value_nok", "arrest_at_scene"
    )
    days = (
        d["offenders"]
        .join(d["incidents"].select("incident_id", "occurred_at"), on="incident_id")
        .join(inc, on="incident_id")
        .with_columns(pl.col("occurred_at").str.slice(0, 10).alias("date"))
    )
    return d["phases"].join(days, on=["person_id", "date"], how="left")


def phase_profile(d) -> dict[str, dict[str, float]]:
    """Per phase: mean cases a day, planned share, skilled-entry share, arrest share."""
    pdays = person_days(d)
    daily = pdays.group_by("person_id", "date", "phase").agg(
        pl.col("incident_id").count().alias("n")
    )
    out = {
        r["phase"]: {"cases_per_day": round(r["n"], 2)}
        for r in daily.group_by("phase").agg(pl.col("n").mean()).iter_rows(named=True)
    }
    cases = pdays.filter(pl.col("incident_id").is_not_null())
    prof = cases.group_by("phase").agg(
        (pl.col("planned").drop_nulls() == "true").mean().alias("planned"),
        pl.col("entry_method")
        .is_in(["cylinder_snap", "window_frame"])
        .mean()
        .alias("skilled"),
        (pl.col("arrest_at_scene") == "true").mean().alias("arrest"),
        pl.col("value_nok").cast(pl.Float64).median().alias("median_value_nok"),
    )
    for r in prof.iter_rows(named=True):
        out[r.pop("phase")] |= {
            k: v if v is None else round(v, 3) for k, v in r.items()
        }
    return out


def home_burglary_share(d) -> float:
    """Share of private homes among plus and mixed users' burglaries."""
    top = (
        d["persons"]
        .filter(pl.col("group").is_in(["plus", "mixed"]))
        .select("person_id")
    )
    b = (
        d["offenders"]
        .join(top, on="person_id")
        .join(d["final"], on="incident_id")
        .filter(pl.col("offence_code").str.starts_with("burglary_"))
    )
    return round((b["offence_code"] == "burglary_home").mean(), 4)


def world_name(out: Path) -> str | None:
    """The world named in `truth/world.json` (None for folders made before worlds)."""
    path = Path(out) / "truth" / "world.json"
    return (
        json.loads(path.read_text(encoding="utf-8"))["name"] if path.exists() else None
    )


def measure(out: Path) -> dict:
    """All calibration figures of one output folder."""
    d = load(out)
    first, last = period(d)
    years = ((last - first).days + 1) / 365
    groups = d["persons"].select("person_id", "group")
    per_person = (
        d["offenders"]
        .join(groups, on="person_id")
        .group_by("person_id", "group")
        .len()
        .group_by("group")
        .agg(
            pl.col("len").mean().round(1).alias("mean"),
            pl.col("len").max().alias("max"),
            pl.len().alias("persons"),
        )
        .sort("group")
    )
    top10 = (
        d["persons"]
        .filter(pl.col("group").is_in(["plus", "mixed"]))
        .sort(pl.col("n_offences").cast(pl.Int64), descending=True)
        .head(10)["person_id"]
    )
    top_cases = d["incidents"].filter(pl.col("person_id").is_in(top10.implode()))
    ep = d["episodes"].filter(pl.col("scripted") == "true")
    cycling = d["incidents"].filter(pl.col("group").is_in(["plus", "mixed"]))
    return {
        "world": world_name(out),
        "period": [first.isoformat(), last.isoformat()],
        "incidents": d["final"].height,
        "incidents_per_year": round(d["final"].height / years),
        "offenders": d["offenders"]["person_id"].n_unique(),
        "top5pct_share_of_offences": top_share(d),
        "offences_per_person": {
            r.pop("group"): r for r in per_person.iter_rows(named=True)
        },
        "solve_rate_by_group": solve_rates(d),
        "solve_rate_top10_plus_mixed": round(
            top_cases.join(d["current"], on=["incident_id", "person_id"]).height
            / max(1, top_cases.height),
            4,
        ),
        "solve_rate_by_phase_plus_mixed": solve_rates(d, "state", cycling),
        "run_lengths_days": run_lengths(d),
        "phase_profile": phase_profile(d),
        "home_share_of_plus_mixed_burglaries": home_burglary_share(d),
        "retracted_link_share": round(
            d["links"]
            .group_by("incident_id", "person_id")
            .agg((pl.col("retracted") == "true").any().alias("r"))["r"]
            .mean(),
            4,
        ),
        "null_coordinates_share": round(d["final"]["lat"].is_null().mean(), 4),
        "episode_44k": ep.row(0, named=True) if ep.height else None,
        "world_figures": world_figures.measure(d),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: print the figures of OUT as JSON."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m gjenganger.synth.calibration OUT", file=sys.stderr)
        return 2
    print(json.dumps(measure(Path(args[0])), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
