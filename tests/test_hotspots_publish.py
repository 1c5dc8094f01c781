"""End to end: database -> `gjenganger hotspots` / `evaluate hotspots` / the
nightly flow's prevention publishing -> offline maps with places only, opened in
Chromium."""

from __future__ import annotations

import datetime as dt
import json
import re

import polars as pl
import pytest
from nightly_publish import publish_prevention
from test_hotspots_data import make_db, simulate

from gjenganger import cli
from gjenganger.flows.steps.hotspots import GROUPS
from gjenganger.maps.i18n import t
from gjenganger.maps.offline import remote_refs
from gjenganger.store import db

try:
    from browser_support import layer_control_labels, open_offline
except ImportError:  # pragma: no cover
    from tests.browser_support import layer_control_labels, open_offline

AS_OF = "2025-05-01"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("hotspots")
    frame = simulate(2500, seed=11, start=dt.date(2024, 3, 1), days=430)
    path, results = make_db(root, frame)
    assert results[0].status == "loaded"
    con = db.connect(path, read_only=True)
    links = (
        con.execute("select distinct person_id from mart_links")
        .pl()["person_id"]
        .to_list()
    )
    con.close()
    return {"root": root, "db": path, "frame": frame, "person_ids": links}


@pytest.fixture(scope="module")
def published(demo):
    out = demo["root"] / "prevention"
    summary = publish_prevention(demo["db"], out, dt.date.fromisoformat(AS_OF), "nb")
    return out, summary


def test_the_cli_writes_a_map_and_prints_cells_with_risk_as_json(
    demo, tmp_path, capsys
):
    out = tmp_path / "m.html"
    code = cli.main(
        [
            "hotspots",
            "--db",
            str(demo["db"]),
            "--as-of",
            AS_OF,
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["cell_size_m"] == 250.0
    cells = report["cells"]
    assert cells and all(c["risk"] > 0 for c in cells)
    assert set(cells[0]) == {"cell_id", "lat", "lon", "count", "gi_z", "is_hot", "risk"}
    assert any(c["is_hot"] for c in cells)
    assert out.stat().st_size > 100_000
    assert remote_refs(out.read_text(encoding="utf-8")) == []


@pytest.mark.usefixtures("published")
def test_the_cli_map_forecasts_with_the_method_the_nightly_back_test_chose(
    demo, tmp_path, capsys
):
    """`gjenganger hotspots` draws the forecast the night's back-test chose for
    the group and date (as the published map does); `--forecast default` and a
    date without a stored back-test use the default method, and say so."""
    from gjenganger.analytics import hotspots as hs
    from gjenganger.analytics import selftune
    from gjenganger.store import prevention

    con = db.connect(demo["db"], read_only=True)
    try:
        table = prevention.load_backtest(con, dt.date.fromisoformat(AS_OF))
    finally:
        con.close()
    group = "vehicle"
    chosen = selftune.measured(table, group)
    assert chosen is not None

    def run(*extra: str, as_of: str = AS_OF) -> tuple[dict, str]:
        base = ["hotspots", "--db", str(demo["db"]), "--as-of", as_of]
        base += ["--target-type", group, "--out", str(tmp_path / "m.html")]
        assert cli.main([*base, "--json", *extra]) == 0
        report = json.loads(capsys.readouterr().out)
        assert cli.main([*base, *extra]) == 0
        return report, capsys.readouterr().out

    report, text = run()
    assert report["risk_method"] == chosen["method"]
    assert report["risk_method_source"] == "back-test"
    assert f"forecast:   {chosen['method']} (" in text and "back-test" in text
    report, text = run("--forecast", "default")
    assert (report["risk_method"], report["risk_method_source"]) == (
        hs.Params().method,
        "default",
    )
    report, text = run(as_of="2025-04-20")  # no night ran on this date
    assert report["risk_method_source"] == "default, no back-test stored"
    assert "no back-test stored" in text


def test_the_cli_refuses_an_unknown_target_type_in_one_line(demo, tmp_path, capsys):
    code = cli.main(
        [
            "hotspots",
            "--db",
            str(demo["db"]),
            "--target-type",
            "castle",
            "--out",
            str(tmp_path / "m.html"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "castle" in err and "business" in err and err.count("\n") == 1


def test_evaluate_hotspots_scores_every_method(demo, capsys):
    code = cli.main(
        [
            "evaluate",
            "hotspots",
            "--db",
            str(demo["db"]),
            "--as-of",
            "2025-03-01",
            "--dates",
            "2",
            "--json",
        ]
    )
    assert code == 0
    rep = json.loads(capsys.readouterr().out)
    assert set(rep["methods"]) == {
        "baseline",
        "kde",
        "gistar",
        "prospective",
        "nearrepeat",
    }
    for s in rep["methods"].values():
        assert s["n_dates"] == 2 and s["pai_5"] > 0 and 0 <= s["pei_5"] <= 1


def test_publish_writes_one_map_per_target_group_and_an_index(published):
    out, summary = published
    folder = out / "hotspots"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{g}.html" for g in GROUPS] + ["index.html"]
    )
    index = (folder / "index.html").read_text(encoding="utf-8")
    for g in GROUPS:
        assert f'href="{g}.html"' in index
        assert summary["maps"][g]["bytes"] < 5_000_000


def test_no_published_file_holds_a_person_id_or_incident_id(demo, published):
    out, _ = published
    ids = set(demo["frame"]["incident_id"]) | set(demo["person_ids"])
    assert len(demo["person_ids"]) > 10
    token = re.compile(r"[A-Za-z0-9_-]+")
    for path in out.rglob("*"):
        if path.is_file():
            found = ids & set(token.findall(path.read_text(encoding="utf-8")))
            assert not found, f"{path.name} contains {sorted(found)[:3]}"


def test_no_published_file_holds_an_exact_incident_point(demo, published):
    out, _ = published
    f = demo["frame"]
    incidents = {
        (round(a, 4), round(b, 4)) for a, b in zip(f["lat"], f["lon"], strict=True)
    }
    text = (out / "hotspots" / "all.html").read_text(encoding="utf-8")
    pairs = re.findall(r"\[\s*(-?\d+\.\d+),\s*(-?\d+\.\d+)", text)
    written = {(round(float(a), 4), round(float(b), 4)) for a, b in pairs}
    written |= {(b, a) for a, b in written}  # GeoJSON writes [lon, lat]
    # cell centres and corners may fall within ~10 m of an incident by chance only
    assert len(incidents & written) <= 0.005 * len(incidents)


def test_cells_below_k_show_no_count(published):
    out, _ = published
    text = (out / "hotspots" / "all.html").read_text(encoding="utf-8")
    shown = [int(n) for n in re.findall(r'"n": "(\d+)"', text)]
    assert shown and min(shown) >= 5
    label = t("suppressed", "nb").format(k=5)
    assert label in text or json.dumps(label)[1:-1] in text


def test_every_published_page_is_offline(published):
    out, _ = published
    for path in (out / "hotspots").iterdir():
        assert remote_refs(path.read_text(encoding="utf-8")) == [], path.name


@pytest.mark.usefixtures("published")  # it ran the hotspot_cells step
def test_the_combined_map_draws_the_stored_analysis_unchanged(demo):
    """The "all" map reads what the hotspot_cells step stored instead of analysing
    again: the stored result equals a fresh analysis with the back-test's winner
    (but for the Knox table)."""
    from gjenganger.analytics import hotspots as hs
    from gjenganger.flows.steps import hotspots as step
    from gjenganger.store import prevention

    day = dt.date.fromisoformat(AS_OF)
    con = db.connect(demo["db"], read_only=True)
    try:
        stored = prevention.load_result(con, day, step.study_grid)
        params, measured = step.tuned(prevention.load_backtest(con, day), hs.ALL)
        fresh = step.analyse(con, day, hs.ALL, params=params)
    finally:
        con.close()
    assert measured is not None and stored.params.method == measured["method"]
    for frame in ("cells", "by_target", "weekly"):
        assert getattr(stored, frame).equals(getattr(fresh, frame)), frame
    for field in ("params", "as_of", "window", "history", "n_incidents"):
        assert getattr(stored, field) == getattr(fresh, field), field
    assert stored.near_repeat == fresh.near_repeat and stored.bands == fresh.bands
    assert stored.grid == fresh.grid and (stored.mask == fresh.mask).all()
    assert stored.by_target.height and stored.weekly.height


@pytest.mark.browser
def test_the_published_map_opens_offline_with_every_layer_listed(published, tmp_path):
    out, _ = published
    labels: list[str] = []
    report = open_offline(
        out / "hotspots" / "all.html",
        evaluate=["typeof window.L", "document.querySelectorAll('.gj-legend').length"],
        screenshot=tmp_path / "hotspots-all.png",
        actions=lambda page: labels.extend(layer_control_labels(page)),
    )
    assert report.values["typeof window.L"] == "object"
    assert report.values["document.querySelectorAll('.gj-legend').length"] == 1
    assert report.errors == [] and report.blocked == []
    expected = [t("layer_marked", "nb").format(share="5 %")] + [
        t(k, "nb")
        for k in (
            "layer_gistar",
            "layer_density",
            "layer_emerging",
            "layer_risk",
            "group_business",
            "group_construction_site",
            "group_cabin",
            "group_storage_mailbox",
            "group_vehicle",
            "layer_weekly",
            "municipalities",
            "districts",
        )
    ]
    assert labels == expected
    assert report.screenshot.stat().st_size > 10_000


def test_english_labels_with_lang_en(demo, tmp_path):
    out = tmp_path / "en.html"
    assert (
        cli.main(
            [
                "hotspots",
                "--db",
                str(demo["db"]),
                "--as-of",
                AS_OF,
                "--lang",
                "en",
                "--target-type",
                "cabin",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    text = out.read_text(encoding="utf-8")
    assert "Hot and cold spots (Gi*, FDR)" in text and "Brennpunkter" not in text
    assert pl.Series([text]).str.contains("Cabin").item()


@pytest.mark.usefixtures("published")  # it ran the hotspot_cells step
def test_every_map_knows_how_many_cells_its_gi_test_compared(demo):
    """A target group's analysis records the cells its Gi* test compared (for the
    empty state); they are the active cells of all targets, which the stored
    all-targets analysis gives from its own cells."""
    from gjenganger.analytics import hotspots as hs
    from gjenganger.flows.steps import hotspots as step
    from gjenganger.maps.hotspots import cells_tested
    from gjenganger.store import prevention

    day = dt.date.fromisoformat(AS_OF)
    con = db.connect(demo["db"], read_only=True)
    try:
        stored = prevention.load_result(con, day, step.study_grid)
        cabin = step.analyse(con, day, "cabin", grid=step.study_grid(250.0))
    finally:
        con.close()
    n = cells_tested(stored)
    assert "gi_cells_tested" not in stored.bands
    assert 30 <= n < int(stored.mask.sum())
    assert cabin.bands["gi_cells_tested"] == cells_tested(cabin) == n
    assert cabin.target_group == "cabin" and stored.target_group == hs.ALL
