"""Issue 6 acceptance on generated demo data: the 44,000-kr card episode end to end.

Generates a short demo period (the scripted episode sits 21 days before its end
for any seed), ingests it through the real path, then checks `gjenganger episodes`
against the generator's truth, opens the 48-hour timeline of the episode's person
in headless Chromium offline, builds an attribution-only person's page and the
analyst bundle.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import polars as pl
import pytest

from gjenganger.maps.offline import assert_no_remote_refs

try:  # tests/ is a rootdir folder (no __init__.py) in this project
    from browser_support import open_offline
except ImportError:  # pragma: no cover
    from tests.browser_support import open_offline

HYPOTHESIS_ONLY = "PhypothesisOnly01"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """(database path, truth folder, the scripted episode's truth row)."""
    from gjenganger.flows.steps.ingest import ingest
    from gjenganger.store import db
    from gjenganger.synth.config import SynthConfig
    from gjenganger.synth.generator import generate

    root = tmp_path_factory.mktemp("demo")
    cfg = SynthConfig(
        seed=42, start=dt.date(2024, 11, 27), days=45, scale=0.1, batch_days=15
    )
    generate(cfg, root / "data")
    path = root / "demo.duckdb"
    con = db.connect(path)
    try:
        results = ingest(con, root / "data" / "inbox")
        assert all(r.status != "rejected" for r in results)
        # one open, unlinked case attributed to a person who has no link at all
        open_case = con.execute(
            "select incident_id from mart_incidents where incident_id not in "
            "(select incident_id from mart_links) and offence_code <> 'card_fraud' "
            "order by incident_id limit 1"
        ).fetchone()[0]
        con.execute(
            "create or replace table attribution_candidates as select * from (values "
            f"('{open_case}', '{HYPOTHESIS_ONLY}', 0.62, 1, date '2025-01-10', 't')) "
            "t(incident_id, person_id, p, rank, as_of, model_version)"
        )
    finally:
        con.close()
    truth = pl.read_csv(root / "data" / "truth" / "episodes.csv")
    scripted = truth.filter(pl.col("scripted")).row(0, named=True)
    return path, root / "data" / "truth", scripted


def _local(ts: str) -> dt.datetime:
    """A truth timestamp (ISO with offset) as naive Europe/Oslo local time."""
    from zoneinfo import ZoneInfo

    aware = dt.datetime.fromisoformat(ts)
    return aware.astimezone(ZoneInfo("Europe/Oslo")).replace(tzinfo=None)


def test_episodes_min_nok_40000_lists_the_generated_44000_kr_episode(demo, capsys):
    from gjenganger.cli import main

    path, _, truth = demo
    assert main(["episodes", "--db", str(path), "--min-nok", "40000", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    found = [r for r in rows if r["card_ref"] == truth["card_ref"]]
    assert len(found) == 1, rows
    ep = found[0]
    assert ep["incident_id"] == truth["incident_id"]
    assert ep["person_id"] == truth["person_id"] and ep["person_source"] == "linked"
    assert ep["max_36h_nok"] >= 44000
    assert ep["max_36h_nok"] == pytest.approx(truth["max_36h_nok"], abs=0.01)
    assert ep["total_nok"] == pytest.approx(truth["total_nok"], abs=0.01)
    assert ep["n_transactions"] == truth["n_transactions"]
    true_hours = (
        _local(truth["end_at"]) - _local(truth["start_at"])
    ).total_seconds() / 3600
    assert abs(ep["duration_h"] - true_hours) <= 1.0
    assert 24 <= ep["duration_h"] <= 48  # "in a day and a half"
    assert dt.datetime.fromisoformat(ep["start_at"]) == _local(truth["start_at"])


@pytest.mark.browser
def test_the_48_hour_timeline_of_that_person_opens_offline_and_shows_a_card_amount(
    demo, tmp_path, capsys
):
    from gjenganger.cli import main
    from gjenganger.store import db

    path, _, truth = demo
    day = _local(truth["start_at"]).date()
    out = tmp_path / "timeline.html"
    args = [
        "timeline",
        "--db",
        str(path),
        "--person",
        truth["person_id"],
        "--from",
        day.isoformat(),
        "--to",
        (day + dt.timedelta(days=1)).isoformat(),
        "--out",
        str(out),
        "--json",
    ]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["max_36h_nok"] >= 44000 and summary["episodes"] >= 1
    page = out.read_text(encoding="utf-8")
    assert_no_remote_refs(page)

    con = db.connect(path, read_only=True, migrate=False)
    try:
        tx_id, amount = con.execute(
            "select transaction_id, amount_nok from mart_card_transactions "
            "where card_ref = ? and approved order by amount_nok desc limit 1",
            [truth["card_ref"]],
        ).fetchone()
    finally:
        con.close()
    seen = {}

    def hover(pg):
        pg.wait_for_function("() => window.gjTimeline && window.gjTimeline.ready")
        pg.evaluate("() => document.getElementById('gj-chart').scrollIntoView()")
        x, y = pg.evaluate(f"() => window.gjTimeline.pixelOf('{tx_id}')")
        pg.mouse.move(x, y)
        pg.wait_for_selector(".gj-tooltip .gj-amount", state="visible", timeout=5000)
        seen["amount"] = pg.inner_text(".gj-tooltip .gj-amount")
        seen["tooltip"] = pg.inner_text(".gj-tooltip")

    report = open_offline(
        out,
        wait_for="() => window.gjTimeline !== undefined",
        actions=hover,
        screenshot=tmp_path / "timeline-44k.png",
        viewport=(1400, 1000),
    )
    assert report.errors == [] and report.blocked == []
    assert int(re.sub(r"\D", "", seen["amount"])) == round(float(amount))
    assert "Kortbruk" in seen["tooltip"]
    assert report.screenshot.stat().st_size > 10_000


def test_a_person_known_only_through_attribution_is_never_shown_as_linked(
    demo, tmp_path, capsys
):
    from gjenganger.cli import main

    path, _, _ = demo
    out = tmp_path / "hyp.html"
    assert (
        main(
            [
                "timeline",
                "--db",
                str(path),
                "--person",
                HYPOTHESIS_ONLY,
                "--out",
                str(out),
                "--json",
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["linked"] == 0 and summary["hypotheses"] == 1
    page = out.read_text(encoding="utf-8")
    visible = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    assert 'id="gj-only-hypotheses"' in visible
    assert re.search(r'id="gj-n-linked">0<', visible)
    assert "koblet i saksregisteret" not in visible
    assert "hypotese" in visible.lower()
    chart = json.loads(
        re.search(r'id="gj-data">(.*?)</script>', page, re.S)
        .group(1)
        .replace("<\\/", "</")
    )
    assert chart["events"]["lk"] == [0]  # the one case, a hypothesis


def test_the_analyst_bundle_lists_the_top_list_with_timelines_and_the_episode(
    demo, tmp_path
):
    from nightly_publish import publish_analyst

    from gjenganger.store import db, frames

    path, _, truth = demo
    con = db.connect(path, read_only=True, migrate=False)
    try:
        as_of = frames.resolve_as_of(con)  # the flow's default: the newest report
    finally:
        con.close()
    summary = publish_analyst(path, tmp_path / "analyst", as_of, lang="en")
    assert summary["timelines"] >= 1 and summary["largest_page_bytes"] < 5_000_000
    index = (tmp_path / "analyst" / "index.html").read_text(encoding="utf-8")
    assert f'href="timelines/{truth["person_id"]}.html"' in index
    assert HYPOTHESIS_ONLY not in index
    episodes = (tmp_path / "analyst" / "episodes.html").read_text(encoding="utf-8")
    assert truth["card_ref"] in episodes
    assert (tmp_path / "analyst" / "timelines" / f"{truth['person_id']}.html").exists()
