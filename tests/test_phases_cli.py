"""`gjenganger phases` and `gjenganger evaluate phases` end to end on tiny batches."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from batchkit import incident, link, write_batch

from gjenganger import cli
from gjenganger.flows.steps.ingest import ingest

D0 = dt.date(2026, 1, 1)
A, B = "Pcycler0001", "Pcycler0002"


def _ts(day: int, hour: int) -> str:
    return (
        dt.datetime.combine(D0 + dt.timedelta(days=day), dt.time(hour)).isoformat()
        + "+01:00"
    )


def _cycle_rows(person: str, offset: int, n: int = 0) -> tuple[list, list, int]:
    """One obvious use period from day `offset`: 10 quiet, 5 planned, 5 impulsive,
    4 rest."""
    incs, links = [], []
    plan = [(d, "burglary_storage", "cylinder_snap", "true", 1) for d in (0, 4, 8)]
    plan += [
        (d, "burglary_business", "cylinder_snap", "true", 3) for d in range(10, 15)
    ]
    plan += [(d, "shoplifting", "none", "false", 3) for d in range(15, 20)]
    for day, code, entry, planned, k in plan:
        for j in range(k):
            n += 1
            iid = f"{person[-4:]}-{n}"
            d = offset + day
            incs.append(
                incident(
                    iid,
                    occurred_from=_ts(d, 1 + j),
                    occurred_to=_ts(d, 2 + j),
                    reported_at=_ts(d, 8 + j),
                    updated_at=_ts(d, 9),
                    offence_code=code,
                    entry_method=entry,
                    planned=planned,
                    status="solved",
                    arrest_at_scene="true" if (day == 18 and j == 0) else "false",
                )
            )
            links.append(link(f"INC-{iid}", person, updated_at=_ts(d, 10)))
    return incs, links, n


@pytest.fixture
def db_path(tmp_path):
    from gjenganger.store import db

    incs, links = [], []
    for person in (A, B):
        n = 0
        for r in range(3):
            i, lk, n = _cycle_rows(person, 24 * r + (2 if person == B else 0), n)
            incs += i
            links += lk
    custody = [
        {
            "custody_id": "C1",
            "person_id": B,
            "kind": "prison",
            "start_at": _ts(75, 12),
            "end_at": "",
            "updated_at": _ts(75, 12),
        }
    ]
    write_batch(
        tmp_path / "inbox",
        "2026-03-20",
        {"incidents": incs, "incident_persons": links, "custody": custody},
        exported_at=_ts(79, 1),
    )
    path = tmp_path / "t.duckdb"
    con = db.connect(path)
    ingest(con, tmp_path / "inbox")
    con.close()
    return path


def test_phases_json_gives_every_person_and_day_of_the_window(db_path, capsys):
    assert (
        cli.main(["phases", "--db", str(db_path), "--as-of", "2026-03-20", "--json"])
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    days = (dt.date(2026, 3, 20) - D0).days + 1
    assert len(rows) == 2 * days
    assert set(rows[0]) == {"person_id", "date", "phase", "p"}
    a = [r["phase"] for r in rows if r["person_id"] == A]
    assert a[10:20] == ["phase2"] * 5 + ["phase3"] * 5
    b = {r["date"]: r["phase"] for r in rows if r["person_id"] == B}
    assert b["2026-03-18"] == "inactive"  # in prison since 17 March


def test_phases_writes_the_tables_and_prints_the_state_today(db_path, capsys):
    assert cli.main(["phases", "--db", str(db_path), "--as-of", "2026-03-20"]) == 0
    out = capsys.readouterr().out
    assert A in out and "in custody" in out
    from gjenganger.store import db

    con = db.connect(db_path, read_only=True)
    try:
        n_days = con.execute("select count(*) from person_days").fetchone()[0]
        periods = con.execute(
            "select person_id, count(*) from use_periods group by 1 order by 1"
        ).fetchall()
        current = con.execute(
            "select person_id, phase from current_phase order by 1"
        ).fetchall()
        backtest = con.execute(
            "select test, metric, value, as_of from phase_backtest"
        ).fetchall()
    finally:
        con.close()
    # the phase back-test is written with the tables, for tonight's date
    assert {r[0] for r in backtest} >= {"custody_hidden"}
    assert {r[3] for r in backtest} == {dt.date(2026, 3, 20)}
    assert n_days == 2 * ((dt.date(2026, 3, 20) - D0).days + 1)
    assert dict(periods)[A] == 3
    assert dict(current)[B] == "inactive"


def test_phases_for_one_person_and_errors_as_one_line(db_path, capsys):
    assert (
        cli.main(
            ["phases", "--db", str(db_path), "--person", B, "--json", "--no-write"]
        )
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert {r["person_id"] for r in rows} == {B}
    assert cli.main(["phases", "--db", str(db_path), "--person", "Pnobody00001"]) == 2
    assert "has no cases" in capsys.readouterr().err
    assert cli.main(["phases", "--db", str(db_path), "--as-of", "20.03.2026"]) == 2


def test_evaluate_phases_scores_model_and_baseline_on_both_evidence_settings(
    db_path, tmp_path, capsys
):
    truth = tmp_path / "truth"
    truth.mkdir()
    lines = ["person_id,date,phase"]
    cycle = ["phase1"] * 10 + ["phase2"] * 5 + ["phase3"] * 5 + ["rest"] * 4
    for person, shift in ((A, 0), (B, 2)):
        labels = ["rest"] * shift + cycle * 3 + ["rest"] * 2
        labels = (labels + ["rest"] * 100)[:75] + [
            "inactive" if person == B else "rest"
        ] * 4
        for k, lab in enumerate(labels):
            lines.append(f"{person},{D0 + dt.timedelta(days=k)},{lab}")
    (truth / "phases.csv").write_text("\n".join(lines) + "\n")
    (truth / "offenders.csv").write_text("incident_id,person_id\n")
    assert (
        cli.main(
            [
                "evaluate",
                "phases",
                "--db",
                str(db_path),
                "--truth",
                str(truth),
                "--json",
            ]
        )
        == 0
    )
    rep = json.loads(capsys.readouterr().out)
    assert rep["persons"] == 2
    for evidence in ("realistic", "all_known"):
        for method in ("model", "baseline"):
            s = rep[evidence][method]
            assert {
                "accuracy",
                "macro_f1",
                "start_mae_days",
                "end_mae_days",
                "confusion",
            } <= set(s)
    assert rep["realistic"]["model"]["accuracy"] > 0.8
    assert 0.0 <= rep["realistic"]["model"]["calibration"]["ece"] <= 1.0
    assert (
        rep["realistic"]["model"]["accuracy"] > rep["realistic"]["baseline"]["accuracy"]
    )
    assert (
        cli.main(
            [
                "evaluate",
                "phases",
                "--db",
                str(db_path),
                "--truth",
                str(tmp_path / "missing"),
            ]
        )
        == 2
    )
