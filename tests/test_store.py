"""Frames as known on a date: one shared read inside `frames.shared_frames()`."""

from __future__ import annotations

from datetime import date
from threading import Thread

from batchkit import incident, link, write_batch

from gjenganger.flows.steps.ingest import ingest
from gjenganger.store import db, frames

DAY = date(2026, 11, 20)


def loaded(con, tmp_path):
    inbox = tmp_path / "inbox"
    write_batch(
        inbox,
        "2026-11-20",
        {"incidents": [incident(1), incident(2)], "incident_persons": [link("INC-1")]},
    )
    ingest(con, inbox)
    return con


def test_outside_the_block_every_call_reads_the_database(con, tmp_path):
    loaded(con, tmp_path)
    a, b = frames.load_incidents(con, DAY), frames.load_incidents(con, DAY)
    assert a is not b and a.equals(b) and a.height == 2


def test_inside_the_block_threads_and_connections_share_one_read(con, tmp_path):
    loaded(
        con, tmp_path
    ).close()  # the flow's map tasks read with their own connections
    path = tmp_path / "test.duckdb"
    with frames.shared_frames():
        got = []

        def read() -> None:  # as a map task does: a read-only connection of its own
            own = db.connect(path, read_only=True)
            try:
                got.append(frames.load_incidents(own, DAY))
            finally:
                own.close()

        threads = [Thread(target=read) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(got) == 3 and all(g is got[0] for g in got) and got[0].height == 2
        one, two = db.connect(path, read_only=True), db.connect(path, read_only=True)
        assert frames.load_incidents(one, DAY) is got[0]
        assert frames.load_links(one, DAY) is frames.load_links(two, DAY)
        assert frames.load_incidents(one) is not frames.load_incidents(
            one
        )  # current: never shared
    after = frames.load_incidents(one, DAY)
    assert after is not got[0] and after.equals(got[0])  # leaving the block drops them
    one.close()
    two.close()


def test_another_database_file_is_never_served_from_the_share(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    con_a, con_b = (
        db.connect(tmp_path / "a" / "x.duckdb"),
        db.connect(tmp_path / "b" / "x.duckdb"),
    )
    try:
        loaded(con_a, tmp_path / "a")
        with frames.shared_frames():
            assert frames.load_incidents(con_a, DAY).height == 2
            assert frames.load_incidents(con_b, DAY).height == 0
    finally:
        con_a.close()
        con_b.close()


def test_a_new_night_drops_what_the_last_one_shared(con, tmp_path):
    loaded(con, tmp_path)
    try:
        frames.share_frames("night-1")
        first = frames.load_incidents(con, DAY)
        frames.share_frames("night-1")  # the same night again (another map task)
        assert frames.load_incidents(con, DAY) is first
        frames.share_frames("night-2")  # a worker that lives on to the next night
        assert frames.load_incidents(con, DAY) is not first
    finally:
        frames.stop_sharing()
    assert frames.load_incidents(con, DAY) is not frames.load_incidents(con, DAY)
