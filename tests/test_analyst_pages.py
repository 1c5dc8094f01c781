"""Issue 17, analysts: the formatting helper, the replay map's groups and path, the
episodes page's order and sort keys, and the hypothesis list beside the pages."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest
from test_episodes import candidates_frame, incident_frame, links_frame

from gjenganger.analytics import person_timeline as pt
from gjenganger.flows.steps.analyst import bundle_episodes
from gjenganger.flows.steps.exports import CSV_NAME, README_NAME, export_hypotheses
from gjenganger.maps.analyst_index import render_episodes_page, render_toplist_page
from gjenganger.maps.event_map import PATH_STEPS, map_points
from gjenganger.maps.timeline_labels import page_format

D = dt.datetime
WHO = "personMAP01"


# ------------------------------------------------------------------ the formatter
def test_bokmal_writes_decimal_commas_thousand_spaces_and_day_month_year():
    nb = page_format("nb")
    assert nb.number(1234567.891, 2) == "1 234 567,89"
    assert nb.number(-1234.5, 1) == "-1 234,5"
    assert nb.nok(44_000) == "44 000 kr" and nb.nok(None) == "–"
    assert nb.p(0.6234) == "0,62"
    assert nb.date(dt.date(2026, 12, 6)) == "06.12.2026"
    assert nb.datetime(D(2026, 12, 6, 5, 7)) == "06.12.2026 05:07"
    assert nb.hours(22.23) == "22,2 t"
    assert nb.duration(1439.0) == "60,0 dager"  # custody in days, not "1439.0 t"
    assert nb.duration(3.0) == "3,0 t"


def test_english_writes_decimal_points_thousand_commas_and_iso_dates():
    en = page_format("en")
    assert en.number(1234567.891, 2) == "1,234,567.89"
    assert en.nok(44_000) == "NOK 44,000"
    assert en.p(0.6234) == "0.62"
    assert en.datetime(D(2026, 12, 6, 5, 7)) == "2026-12-06 05:07"
    assert en.duration(1439.0) == "60.0 days" and en.hours(1.25) == "1.2 h"
    with pytest.raises(ValueError, match="lang"):
        page_format("de")


# ------------------------------------------------------------------ the replay map
def map_events(rows: list[dict], linked: set[str], cands: list) -> pl.DataFrame:
    """The person's events (as the timeline step makes them) from incident rows."""
    incidents = incident_frame(rows)
    links = links_frame([(i, WHO) for i in sorted(linked)])
    candidates = candidates_frame(cands) if cands else None
    empty_tx = pl.DataFrame(
        schema={
            "transaction_id": pl.String,
            "incident_id": pl.String,
            "card_ref": pl.String,
            "at": pl.Datetime("us"),
            "amount_nok": pl.Float64,
            "merchant_category": pl.String,
            "merchant_ref": pl.String,
            "approved": pl.Boolean,
            "lat": pl.Float64,
            "lon": pl.Float64,
        }
    )
    empty_custody = pl.DataFrame(
        schema={
            "custody_id": pl.String,
            "person_id": pl.String,
            "kind": pl.String,
            "start_at": pl.Datetime("us"),
            "end_at": pl.Datetime("us"),
        }
    )
    return pt.person_events(
        WHO, incidents, links, empty_tx, empty_custody, candidates=candidates
    )


def test_near_identical_events_share_a_marker_by_place_day_and_standing():
    day = {"occurred_from": D(2025, 3, 1, 1), "occurred_to": D(2025, 3, 1, 3)}
    rows = [
        {"incident_id": "A", **day},
        {"incident_id": "B", "lat": 63.43002, **day},  # ~2 m north of A
        {"incident_id": "C", "lat": 63.4305, **day},  # ~55 m north: apart
        {  # the next day
            "incident_id": "E",
            "occurred_from": D(2025, 3, 2, 1),
            "occurred_to": D(2025, 3, 2, 3),
        },
        {"incident_id": "H", **day},  # a hypothesis on A's spot: its own marker
    ]
    events = map_events(rows, {"A", "B", "C", "E"}, [("H", WHO, 0.7, 1)])
    pts = map_points(events)
    group = dict(zip(pts["inc"], pts["g"], strict=True))
    assert group["A"] == group["B"]
    assert len({group["A"], group["C"], group["E"], group["H"]}) == 4
    assert pts["path_steps"] == PATH_STEPS


# ------------------------------------------------------------------ episodes page
def episodes_frame(n: int = 30) -> pl.DataFrame:
    """`n` episodes, one a day from 1 March 2025, totals that do not follow time."""
    starts = [D(2025, 3, 1, 8) + dt.timedelta(days=i, minutes=7 * i) for i in range(n)]
    return pl.DataFrame(
        {
            "incident_id": [f"INC-{i:03d}" for i in range(n)],
            "card_ref": [f"card{i:03d}" for i in range(n)],
            "start_at": starts,
            "end_at": [s + dt.timedelta(hours=5.5) for s in starts],
            "duration_h": [5.5] * n,
            "n_approved": [3 + i % 4 for i in range(n)],
            "n_declined": [i % 2 for i in range(n)],
            "n_merchants": [2 + i % 3 for i in range(n)],
            "total_nok": [float((i * 7919) % 50_000) + 0.4 for i in range(n)],
            "max_36h_nok": [float((i * 7919) % 50_000) for i in range(n)],
            "person_id": [WHO if i % 3 else None for i in range(n)],
            "person_source": ["linked" if i % 3 else "none" for i in range(n)],
            "attribution_p": [None] * n,
        }
    )


def test_the_bundle_lists_episodes_newest_first_with_sort_keys():
    as_of = dt.date(2025, 4, 15)
    listed = bundle_episodes(episodes_frame(), as_of)
    assert listed["start_at"].is_sorted(descending=True)
    page = render_episodes_page(listed, as_of=as_of)
    starts = re.findall(r'<td\s+data-v="(2025-[^"]+)"', page)
    assert starts == sorted(starts, reverse=True) and len(starts) == 30
    assert re.search(r'data-col="0"\s+aria-sort="descending">Start<', page)
    assert 'id="gj-filter"' in page and "<script" in page and "http" not in page


def test_the_episodes_page_names_an_attributed_person_only_from_the_threshold():
    as_of = dt.date(2025, 4, 15)
    frame = episodes_frame(3).with_columns(
        person_id=pl.lit(WHO),
        person_source=pl.lit("attributed"),
        attribution_p=pl.Series([0.9, 0.1, 0.3]),
    )
    listed = bundle_episodes(frame, as_of, min_p=0.3).sort("incident_id")
    assert listed["person_source"].to_list() == ["attributed", "none", "attributed"]
    assert listed["person_id"].to_list() == [WHO, None, WHO]
    assert listed["attribution_p"].to_list() == [0.9, None, 0.3]


# ------------------------------------------------------------------ hypothesis list
def test_the_hypothesis_list_keeps_what_an_analyst_reads(con, tmp_path):
    as_of = dt.date(2025, 3, 10)
    ps = [0.02, 0.299999, 0.3, 0.6234567891234, 0.91]
    for i, p in enumerate(ps):
        con.execute(
            "insert into attribution_candidates (as_of, model_version, incident_id,"
            " rank, person_id, p, p_none, in_custody_share, is_hypothesis, label)"
            " values (?, 'm', ?, 1, 'P1', ?, 0.123456789, 0.333333333, true,"
            " 'hypothesis: statistical attribution')",
            [as_of, f"INC-{i}", p],
        )
    summary = export_hypotheses(con, tmp_path, as_of, "nb", 0.3)
    assert summary["rows"] == 3 and summary["left_in_database"] == 2
    header = (tmp_path / CSV_NAME).read_text(encoding="utf-8").splitlines()[0]
    columns = header.split(",")
    assert len(columns) == len(set(columns)) and "label_1" not in columns
    assert "is_hypothesis" not in columns and columns[0] == "label"
    rows = pl.read_csv(tmp_path / CSV_NAME, infer_schema=False)
    assert rows["label"].unique().to_list() == ["hypotese"]
    assert min(float(p) for p in rows["p"]) >= 0.3
    assert rows["p"].to_list() == ["0.91", "0.623", "0.3"]  # most probable first
    for col in ("p", "p_none", "in_custody_share"):
        assert all(len(v.partition(".")[2]) <= 3 for v in rows[col]), col
    readme = (tmp_path / README_NAME).read_text(encoding="utf-8")
    assert "attribution_candidates" in readme and "p ≥ 0,3" in readme
    assert "De øvrige 2 kandidatene" in readme and "10.03.2025" in readme
    export_hypotheses(con, tmp_path, as_of, "en", 0.3)
    readme = (tmp_path / README_NAME).read_text(encoding="utf-8")
    assert "p ≥ 0.3" in readme and "table attribution_candidates" in readme
    assert "hypotese" not in readme.lower()


def test_the_index_writes_its_phase_notes_in_the_page_language():
    row = {
        "rank": 1,
        "person_id": WHO,
        "href": "timelines/x.html",
        "phase": "phase2",
        "phase_p": 0.55,
        "phase_uncertain": True,
        "nok_total": 1234.5,
        "span_end": D(2025, 3, 9, 22),
    }
    en = render_toplist_page([row], as_of=dt.date(2025, 3, 10), lang="en")
    assert "(p=0.55, uncertain)" in en and "usikker" not in en
    assert "NOK 1,234" in en and "2025-03-09" in en
    nb = render_toplist_page([row], as_of=dt.date(2025, 3, 10))
    assert "(p=0,55, usikker)" in nb and "1 234 kr" in nb and "09.03.2025" in nb


def test_no_attribution_run_gives_an_empty_hypothesis_list(con, tmp_path):
    con.execute("drop table attribution_candidates")
    summary = export_hypotheses(con, tmp_path, dt.date(2025, 3, 10), "en", 0.3)
    assert summary["rows"] == 0
    assert (tmp_path / CSV_NAME).read_text(encoding="utf-8") == "label\n"
