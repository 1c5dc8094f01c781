"""Issue #16, class 6 and the ingest extras: no row, manifest or step stops every
night, and no changed, linked or marked export slips through.

Values DuckDB would coerce (`infinity`, `epoch`, five-digit years, `0x10`, `1_000`,
`1e3` in an int, `yes` for a bool) are quarantined with their reason; timestamps
must lie in the contract's window (`timestamp_out_of_window`), so a far-future
`updated_at` cannot pin a record; a manifest dated 9999 is rejected; a step that
dies of a Rust panic fails the night with its one-line reason and report. Extras: a
re-sent batch with a changed manifest, a byte-order mark, symlinks out of the inbox,
and a missing inbox.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from batchkit import fix_manifest, incident, link, write_batch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gjenganger.data_schema.contract import TIMESTAMP_FLOOR, TIMESTAMP_LEEWAY_HOURS
from gjenganger.flows.steps.ingest import ingest
from gjenganger.store import db

EXPORTED = dt.datetime.fromisoformat("2026-11-21T01:30:00+01:00")

# (column, value, reason or None when it loads)
VARIANTS = [
    *[
        ("occurred_from", v, "bad_timestamp")
        for v in (
            "infinity",
            "-infinity",
            "epoch",
            "allballs",
            "now",
            "today",
            "10000-01-01",
            "+10000-01-01",
            "2026-11-19 BC",
            "2026-11-19T22:00:00 Europe/Oslo",
            "20261119T220000",
            "0x10",
        )
    ],
    ("occurred_from", "0001-01-01T00:00:00+01:00", "timestamp_out_of_window"),
    ("occurred_from", "1989-12-31T23:59:59+01:00", "timestamp_out_of_window"),
    ("updated_at", "9999-12-31T00:00:00+01:00", "timestamp_out_of_window"),
    ("updated_at", "2026-11-22T02:31:00+01:00", "timestamp_out_of_window"),
    *[
        ("participants", v, "bad_number")
        for v in ("0x10", "1_000", "1e3", "1.5", " 1", "inf", "nan", "\uff11", "0b1")
    ],
    *[
        ("value_nok", v, "bad_number")
        for v in ("1e3", "1_000", "0x10", "nan", "inf", "1,5", "Infinity")
    ],
    *[("lat", v, "bad_number") for v in ("nan", "inf", "0x10", "6_3.4", "-infinity")],
    *[
        ("planned", v, "bad_number")
        for v in ("yes", "no", "t", "f", "1", "0", "y", "on", "ja")
    ],
    # what the contract does allow
    ("occurred_from", "1990-01-01T00:00:00+01:00", None),
    ("occurred_from", "2026-11-19", None),
    ("occurred_from", "2026-11-19 22:00:00+01", None),  # Parquet's text
    ("occurred_from", "2026-11-19T21:00:00Z", None),
    # nanoseconds that spell 15076500565 with the seconds: a time, no identity
    ("occurred_from", "2026-11-19T22:00:15.076500565+01:00", None),
    ("updated_at", "2026-11-22T01:30:00+01:00", None),  # the leeway's end
    ("participants", "2.0", None),  # a float Parquet column's text
    ("participants", "+3", None),
    ("value_nok", "12.345", None),
    ("lat", "6.34305e1", None),
    ("planned", "TRUE", None),
    ("planned", "False", None),
]


def test_every_value_duckdb_would_coerce_is_quarantined_with_its_reason(con, tmp_path):
    rows = [incident(i, **{col: v}) for i, (col, v, _) in enumerate(VARIANTS)]
    write_batch(tmp_path / "inbox", "2026-11-20", {"incidents": rows})
    (r,) = ingest(con, tmp_path / "inbox")
    got = dict(
        con.execute(
            "select line, reason || ' ' || column_name from quarantine"
        ).fetchall()
    )
    for i, (col, v, reason) in enumerate(VARIANTS):
        assert got.get(i + 2) == (reason and f"{reason} {col}"), (col, v)
    loaded = [f"INC-{i}" for i, (_, _, reason) in enumerate(VARIANTS) if not reason]
    stored = [x for (x,) in con.execute("select incident_id from incidents").fetchall()]
    assert sorted(stored) == sorted(loaded)
    counts = r.files["incidents.csv"]
    assert counts.read == counts.loaded + counts.quarantined == len(VARIANTS)


def test_the_window_holds_for_every_table_and_timestamp_column(con, tmp_path):
    far = "9999-12-31T00:00:00+01:00"
    tx = {
        "transaction_id": "T1",
        "incident_id": "INC-1",
        "card_ref": "CARDabcdefgh",
        "at": far,
        "amount_nok": "10",
        "merchant_category": "kiosk",
        "merchant_ref": "",
        "approved": "true",
        "pin_used": "false",
        "lat": "",
        "lon": "",
        "updated_at": "2026-11-20T10:00:00+01:00",
    }
    stay = {
        "custody_id": "C1",
        "person_id": "Pabcdefghij",
        "kind": "prison",
        "start_at": "2026-11-01T10:00:00+01:00",
        "end_at": "2099-01-01T00:00:00+01:00",
        "updated_at": "2026-11-20T10:00:00+01:00",
    }
    write_batch(
        tmp_path / "inbox",
        "2026-11-20",
        {
            "incidents": [incident(1, offence_code="card_fraud", target_type="person")],
            "incident_persons": [link("INC-1", updated_at="0001-01-01T00:00:00Z")],
            "card_transactions": [tx],
            "custody": [stay],
        },
    )
    ingest(con, tmp_path / "inbox")
    sql = "select source_file, reason, column_name from quarantine"
    got = sorted(con.execute(sql).fetchall())
    assert got == [
        ("card_transactions.csv", "timestamp_out_of_window", "at"),
        ("custody.csv", "timestamp_out_of_window", "end_at"),
        ("incident_persons.csv", "timestamp_out_of_window", "updated_at"),
    ]


@pytest.mark.slow
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.datetimes(
            min_value=dt.datetime(1, 1, 2),
            max_value=dt.datetime(9999, 12, 30),
            timezones=st.just(dt.UTC),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_an_updated_at_loads_exactly_when_it_lies_in_the_window(tmp_path, stamps):
    run = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
    rows = [incident(i, updated_at=t.isoformat()) for i, t in enumerate(stamps)]
    write_batch(run / "inbox", "2026-11-20", {"incidents": rows})
    con = db.connect(run / "db.duckdb")
    try:
        ingest(con, run / "inbox")
        sql = "select incident_id from incidents"
        stored = {x for (x,) in con.execute(sql).fetchall()}
    finally:
        con.close()
    floor = dt.datetime.fromisoformat(TIMESTAMP_FLOOR)
    late = EXPORTED + dt.timedelta(hours=TIMESTAMP_LEEWAY_HOURS)
    for i, t in enumerate(stamps):
        assert (f"INC-{i}" in stored) == (floor <= t <= late), t


def test_a_far_future_updated_at_cannot_pin_a_record(con, tmp_path):
    inbox = tmp_path / "inbox"
    write_batch(inbox, "2026-11-20", {"incidents": [incident(1, status="open")]})
    write_batch(
        inbox,
        "2026-11-21",
        {"incidents": [incident(1, status="solved", updated_at="9999-12-31")]},
        exported_at="2026-11-22T01:30:00+01:00",
    )
    write_batch(
        inbox,
        "2026-11-22",
        {
            "incidents": [
                incident(1, status="dropped", updated_at="2026-11-22T09:00:00+01:00")
            ]
        },
        exported_at="2026-11-23T01:30:00+01:00",
    )
    results = ingest(con, inbox)
    assert [b.status for b in results] == ["loaded"] * 3
    assert results[1].reasons == {"timestamp_out_of_window": 1}
    assert con.execute("select status from incidents").fetchall() == [("dropped",)]


def _in_days(n: int) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=n)).isoformat()


@pytest.mark.parametrize(
    "exported_at",
    [
        "9999-12-31T00:00:00+01:00",
        "infinity",
        "",
        "not a date",
        "+10000-01-01T00:00:00",
        "1989-12-31T00:00:00+01:00",
        12345,
        None,
        "in three days",
    ],
)
def test_a_manifest_dated_outside_the_window_is_rejected_in_one_line(
    con, tmp_path, exported_at
):
    from gjenganger.store import frames

    inbox = tmp_path / "inbox"
    write_batch(inbox, "2026-11-20", {"incidents": [incident(1)]})
    folder = write_batch(
        inbox,
        "2026-11-21",
        {"incidents": [incident(2, reported_at="2026-11-21T07:30:00+01:00")]},
    )
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["exported_at"] = (
        _in_days(3) if exported_at == "in three days" else exported_at
    )
    (folder / "manifest.json").write_text(json.dumps(manifest))
    good, bad = ingest(con, inbox)
    assert good.status == "loaded" and bad.status == "rejected"
    assert len(bad.reason.splitlines()) == 1 and "exported_at" in bad.reason
    assert con.execute("select incident_id from incidents").fetchall() == [("INC-1",)]
    assert frames.resolve_as_of(con) == dt.date(2026, 11, 20)


def test_a_row_count_that_is_not_a_count_rejects_the_batch(con, tmp_path):
    folder = write_batch(tmp_path / "inbox", "2026-11-20", {})
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["incidents.csv"]["rows"] = False  # JSON false == 0 in Python
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (r,) = ingest(con, tmp_path / "inbox")
    assert r.status == "rejected" and "row count" in r.reason


# ------------------------------------------------------------ a step that panics
class Meltdown(BaseException):
    """Like pyo3's PanicException: a BaseException, not an Exception."""


def _panic():
    import polars as pl

    return pl.exceptions.PanicException(
        "called `Option::unwrap()` on a `None` value\nnote: run with RUST_BACKTRACE"
    )


@pytest.mark.slow  # imports Prefect and the flow
@pytest.mark.parametrize("make", [_panic, lambda: Meltdown("reactor\nsecond line")])
def test_a_step_that_panics_fails_the_night_with_its_reason_and_report(
    tmp_path, monkeypatch, make
):
    from gjenganger.flows import nightly as flow
    from gjenganger.store import publish

    exc = make()

    def panics(*_a, **_k):
        raise exc

    summary = {"rows_read": 1, "rows_loaded": 1, "rows_quarantined": 0}
    _no_artifact(monkeypatch)
    monkeypatch.setattr(flow, "ingest_task", lambda *_a: dict(summary))
    monkeypatch.setattr(flow, "toplist_task", lambda *_a: {})
    monkeypatch.setattr(flow, "attribution_task", lambda *_a: {})
    monkeypatch.setattr(flow, "phases_task", panics)
    db.connect(tmp_path / "db.duckdb").close()
    out = tmp_path / "publish"
    with pytest.raises(flow.StepCrashedError) as raised:
        flow.nightly.fn(
            str(tmp_path / "inbox"),
            str(tmp_path / "db.duckdb"),
            str(out),
            as_of=dt.date(2026, 11, 20),
        )
    assert raised.value.__cause__ is exc
    line = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    assert str(raised.value) == line
    (report_file,) = (out / "runs").glob("*.json")
    report = json.loads(report_file.read_text())
    assert report["status"] == "failed" and report["failed_step"] == "phases"
    assert report["error"] == line
    assert report["steps"][-1]["step"] == "phases"
    assert report["steps"][-1]["error"] == line
    assert not list(out.glob(".building-*")) and publish.latest(out) is None
    con = db.connect(tmp_path / "db.duckdb", read_only=True)
    try:
        sql = "select outcome from audit_log"
        outcomes = [o for (o,) in con.execute(sql).fetchall()]
    finally:
        con.close()
    assert outcomes == [f"failed: phases: {line}"]


@pytest.mark.slow  # imports Prefect and the flow
def test_sys_exit_in_a_step_fails_the_night_and_goes_on_as_it_is(tmp_path, monkeypatch):
    from gjenganger.flows import nightly as flow

    def exits(*_a, **_k):
        raise SystemExit(4)

    _no_artifact(monkeypatch)
    monkeypatch.setattr(flow, "ingest_task", exits)
    db.connect(tmp_path / "db.duckdb").close()
    out = tmp_path / "publish"
    with pytest.raises(SystemExit):
        flow.nightly.fn(str(tmp_path), str(tmp_path / "db.duckdb"), str(out))
    (report_file,) = (out / "runs").glob("*.json")
    report = json.loads(report_file.read_text())
    assert (report["failed_step"], report["error"]) == ("ingest", "SystemExit: 4")
    assert not list(out.glob(".building-*"))


def _no_artifact(monkeypatch) -> None:
    """No Prefect API outside a flow run: the report file is the record."""
    import prefect.artifacts

    monkeypatch.setattr(prefect.artifacts, "create_markdown_artifact", lambda **_: 0)


# ------------------------------------------------------------ extras
@pytest.mark.parametrize("change", ["rows", "checksum", "exported_at"])
def test_a_re_sent_batch_with_a_changed_manifest_is_rejected_in_one_line(
    con, tmp_path, change
):
    inbox = tmp_path / "inbox"
    folder = write_batch(inbox, "2026-11-20", {"incidents": [incident(1)]})
    ingest(con, inbox)
    assert [b.status for b in ingest(con, inbox)] == ["skipped"]  # unchanged
    before = con.execute("select * from incidents").fetchall()
    if change == "rows":
        write_batch(inbox, "2026-11-20", {"incidents": [incident(1), incident(2)]})
    elif change == "checksum":
        write_batch(inbox, "2026-11-20", {"incidents": [incident(1, status="solved")]})
    else:
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["exported_at"] = "2026-11-21T02:00:00+01:00"
        (folder / "manifest.json").write_text(json.dumps(manifest))
    (r,) = ingest(con, inbox)
    assert r.status == "rejected" and len(r.reason.splitlines()) == 1
    assert "loaded before with another manifest" in r.reason
    assert con.execute("select * from incidents").fetchall() == before
    statuses = con.execute("select status from ingest_batches order by started_at")
    assert [s for (s,) in statuses.fetchall()] == ["loaded", "rejected"]


def test_a_byte_order_mark_in_a_csv_header_is_accepted(con, tmp_path):
    folder = write_batch(
        tmp_path / "inbox",
        "2026-11-20",
        {"incidents": [incident(1), incident(2)], "incident_persons": [link("INC-1")]},
    )
    for name in ("incidents.csv", "incident_persons.csv"):
        path = folder / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    fix_manifest(folder)
    (r,) = ingest(con, tmp_path / "inbox")
    assert r.status == "loaded" and r.ignored_columns == {}
    assert vars(r.files["incidents.csv"])["loaded"] == 2
    assert con.execute("select count(*) from incident_persons").fetchone() == (1,)


@pytest.mark.parametrize("what", ["folder", "data_file", "manifest", "loop"])
def test_a_symlink_leading_out_of_the_inbox_is_refused(con, tmp_path, what):
    inbox, outside = tmp_path / "inbox", tmp_path / "elsewhere"
    inbox.mkdir()
    src = write_batch(outside, "2026-11-20", {"incidents": [incident(1)]})
    if what == "folder":
        (inbox / "2026-11-20").symlink_to(src, target_is_directory=True)
    else:
        folder = write_batch(inbox, "2026-11-20", {"incidents": [incident(1)]})
        if what == "loop":
            (folder / "loop").symlink_to(folder / "loop")
        else:
            name = "incidents.csv" if what == "data_file" else "manifest.json"
            (folder / name).unlink()
            (folder / name).symlink_to(src / name)
    (r,) = ingest(con, inbox)
    assert r.status == "rejected" and len(r.reason.splitlines()) == 1
    assert "symlink leading out of the inbox" in r.reason
    assert con.execute("select count(*) from stg_incidents").fetchone() == (0,)


def test_a_symlink_inside_the_inbox_is_followed(con, tmp_path):
    inbox = tmp_path / "inbox"
    shared = write_batch(inbox / ".shared", "x", {"incidents": [incident(1)]})
    folder = write_batch(inbox, "2026-11-20", {"incidents": [incident(1)]})
    (folder / "incidents.csv").unlink()
    (folder / "incidents.csv").symlink_to(
        os.path.relpath(shared / "incidents.csv", folder)
    )
    (r,) = ingest(con, inbox)
    assert r.status == "loaded"


def test_ingest_of_a_missing_inbox_is_one_line_exit_2_and_creates_no_file(
    tmp_path, capsys
):
    from gjenganger.cli import main

    dbfile = tmp_path / "sub" / "d.duckdb"
    code = main(["ingest", str(tmp_path / "missing"), "--db", str(dbfile)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "missing" in err[0]
    assert not (tmp_path / "sub").exists()
