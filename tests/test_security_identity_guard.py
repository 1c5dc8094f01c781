"""Issue #16, class 5: no identity number slips past the guard.

An 11-digit number with valid mod-11 check digits is hidden in every place a batch
can carry one (text, id, number, timestamp and unknown columns, a malformed row, the
batch_id, the folder name, a column name, a file listed in the manifest) and in
every spelling (plain, 6+5 with a separator, digit by digit, other scripts, inside
an id, and for numbers as DuckDB would read them: exponent, underscore, `.00`,
leading zeros). Afterwards no table, summary or run report holds it: every value is
scanned after an independent fold (Python's NFKC and Unicode decimal values).
"""

from __future__ import annotations

import itertools
import json
import math
import re
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest
from batchkit import incident, link, write_batch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gjenganger.data_schema.identity import (
    FNR_WEIGHTS_1,
    FNR_WEIGHTS_2,
    FOLD_FROM,
    FOLD_TO,
    MASK,
    fnr_is_valid,
    identity_numbers_in,
    mask_identity_numbers,
)
from gjenganger.flows.steps.ingest import ingest, summary
from gjenganger.store import db


# ------------------------------------------------------------------ numbers
def complete(first9: str) -> str | None:
    """The identity number starting with nine digits, None if no check digit fits."""
    d = [int(c) for c in first9]
    for w in (FNR_WEIGHTS_1, FNR_WEIGHTS_2):
        k = (11 - sum(a * b for a, b in zip(w, d, strict=False)) % 11) % 11
        if k == 10:
            return None
        d.append(k)
    return "".join(map(str, d))


# day 00 is no date: a number starting 00 is no identity number (and a number
# column would lose both zeros)
FNRS = (
    st.text("0123456789", min_size=9, max_size=9)
    .filter(lambda s: not s.startswith("00"))
    .map(complete)
    .filter(bool)
)


def some_fnrs(n: int, start: int = 0) -> list[str]:
    """n distinct identity numbers (deterministic)."""
    out = []
    for i in itertools.count(start):
        nine = f"{(i * 7919 + 120_000_000) % 10**9:09d}"
        if not nine.startswith("00") and (f := complete(nine)) and f not in out:
            out.append(f)
        if len(out) == n:
            return out
    raise AssertionError


# ------------------------------------------------------------------ spellings
SCRIPTS = {"arabic": 0x660, "fullwidth": 0xFF10, "devanagari": 0x966, "bold": 0x1D7CE}


def in_script(fnr: str, zero: int) -> str:
    return "".join(chr(zero + int(c)) for c in fnr)


def text_spellings(f: str) -> dict[str, str]:
    """The ways a text or id can hold one."""
    out = {
        "plain": f,
        "in_text": f"ring {f} now",
        "prefixed_id": f"INC{f}",
        "6+5_space": f"{f[:6]} {f[6:]}",
        "6+5_underscore": f"{f[:6]}_{f[6:]}",
        "6+5_dash": f"{f[:6]}-{f[6:]}",
        "6+5_slash": f"{f[:6]}/{f[6:]}",
        "6+5_dot": f"{f[:6]}.{f[6:]}",
        "id_split": f"INC_{f[:6]}_{f[6:]}_2",
        "digit_by_digit": " ".join(f),
        "nbsp": f"{f[:6]}\u00a0{f[6:]}",
        "en_dash": f"{f[:6]}\u2013{f[6:]}",
    }
    out |= {name: in_script(f, zero) for name, zero in SCRIPTS.items()}
    return out


def number_spellings(f: str) -> dict[str, str]:
    """The ways a number column can hold one (what DuckDB's casts would read)."""
    return {
        "plain": f,
        "exponent": f"{f[0]}.{f[1:]}e10",
        "underscore": f"{f[:6]}_{f[6:]}",
        "cents": f"{f}.00",
        "leading_zeros": f"00{f}",
        "signed": f"+{f}",
        "arabic": in_script(f, 0x660),
        "6+5_space": f"{f[:6]} {f[6:]}",
    }


_counter = itertools.count()
TEXT_PLACES = ("entry_method", "municipality_no", "status", "incident_id", "note")
NUMBER_PLACES = ("participants", "value_nok", "lat")


# ------------------------------------------------------------------ the scan
def fold(text: str) -> str:
    """Independent of the guard: NFKC, then any decimal digit to ASCII."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(
        str(unicodedata.decimal(c)) if unicodedata.decimal(c, None) is not None else c
        for c in text
    )


def _digits_only(text: str) -> str:
    return re.sub(r"[\s_./\-\u2010-\u2015]+", "", fold(text))


def cell_texts(value) -> list[str]:
    """A stored value as text; a number by its whole part (a float's binary
    fraction is noise), ten digits also with the leading zero they lost."""
    if value is None:
        return []
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        if not math.isfinite(value):
            return []
        whole = str(abs(math.trunc(value)))
        out = [whole, whole.zfill(11)] if len(whole) == 10 else [whole]
        return out if isinstance(value, float) else [str(value), *out]
    return [str(value)]


def holds(text: str, fnr: str) -> bool:
    """Does a text hold this very number, however spelled?"""
    return fnr in fold(text) or fnr in _digits_only(text)


def every_cell(con) -> list[tuple[str, str, str]]:
    """(table, column, text) of every value of every stored table and view of the
    database (not the load's temp tables, gone with its connection), but the keyed
    hash of quarantine (a hex digest, by design)."""
    out = []
    tables = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables"
            " where table_schema = 'main' and table_catalog <> 'temp'"
        ).fetchall()
    ]
    for t in tables:
        rel = con.execute(f"select * from {t}")
        names = [d[0] for d in rel.description]
        for row in rel.fetchall():
            for name, v in zip(names, row, strict=True):
                if name != "identity_hash":
                    out += [(t, name, x) for x in cell_texts(v)]
    return out


def valid_runs(text: str) -> list[str]:
    """Generic scan: 11-digit runs with valid check digits (hex digests aside)."""
    text = re.sub(r"(?<![0-9A-Za-z])[0-9a-f]{32,}(?![0-9A-Za-z])", " ", fold(text))
    runs = re.findall(r"(?<![0-9])[0-9]{11}(?![0-9])", text)
    runs += re.findall(r"(?<![0-9])[0-9]{11}(?![0-9])", _digits_only(text))
    return [r for r in runs if fnr_is_valid(r)]


def assert_nowhere(con, results, fnrs: list[str]) -> None:
    """None of `fnrs` in any table or the summary; no valid 11-digit run at all."""
    cells = every_cell(con)
    doc = json.dumps(summary(results), ensure_ascii=False)
    folded = [(t, c, fold(x), _digits_only(x)) for t, c, x in cells]
    for f in fnrs:
        assert [(t, c) for t, c, a, b in folded if f in a or f in b] == [], f
        assert not holds(doc, f)
    assert [(t, c, x) for t, c, x in cells if valid_runs(x)] == []
    assert valid_runs(doc) == []


def _quarantine(con) -> dict[int, tuple[str, str]]:
    return {
        line: (reason, column)
        for line, reason, column in con.execute(
            "select line, reason, column_name from quarantine"
            " where source_file = 'incidents.csv'"
        ).fetchall()
    }


# ------------------------------------------------------------------ tests
def test_the_fold_table_matches_the_unicode_database():
    """Every character NFKC folds to a digit, every decimal digit of any script,
    every Unicode space or dash and what folds to `. / _` is in the table, right."""
    want = {}
    for cp in range(0x80, 0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        c = chr(cp)
        n = unicodedata.normalize("NFKC", c)
        if unicodedata.decimal(c, None) is not None:
            want[c] = str(unicodedata.decimal(c))
        elif len(n) == 1 and n in "0123456789":
            want[c] = n
        elif unicodedata.category(c) in ("Zs", "Zl", "Zp") or n == " ":
            want[c] = " "
        elif unicodedata.category(c) == "Pd" or c == "\u2212" or n == "-":
            want[c] = "-"
        elif len(n) == 1 and n in "_./":
            want[c] = n
    assert dict(zip(FOLD_FROM, FOLD_TO, strict=True)) == want


def test_every_spelling_is_found_and_masked_by_the_python_twin():
    f = some_fnrs(1)[0]
    for name, text in {**text_spellings(f), **number_spellings(f)}.items():
        if name in ("exponent", "cents", "leading_zeros"):
            continue  # a number's value, not its text (checked in SQL)
        assert identity_numbers_in(text) == [f], name
        masked = mask_identity_numbers(f"/inbox/{text}/x.csv")
        assert MASK in masked and not holds(masked, f), name
    # not cut out of a longer run; a coordinate's decimals are no identity number
    assert identity_numbers_in("1" + f) == []
    assert identity_numbers_in("63.430512") == []
    assert mask_identity_numbers("2026-11-20: 3 rows") == "2026-11-20: 3 rows"


_MEM = []


def _sql():
    if not _MEM:
        import duckdb

        from gjenganger.data_schema.validation import macro_sql

        c = duckdb.connect()
        for s in macro_sql():
            c.execute(s)
        _MEM.append(c)
    return _MEM[0]


ALPHABET = st.sampled_from(
    list("0123456789" * 3)
    + list(" _./-,:xT+e")
    + ["\u00a0", "\u2013", "\u0663", "\uff15", "\u2460", "\u00b2", "\U0001d7d0"]
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(ALPHABET, max_size=40),
        st.builds(
            lambda f, sep, pre, post: pre + f[:6] + sep + f[6:] + post,
            FNRS,
            st.text(ALPHABET, max_size=2),
            st.text(ALPHABET, max_size=4),
            st.text(ALPHABET, max_size=4),
        ),
    )
)
def test_the_sql_guard_and_its_python_twin_agree(text):
    sql = "select has_fnr(?), first_fnr(?)"
    has, first = _sql().execute(sql, [text, text]).fetchone()
    found = identity_numbers_in(text)
    assert has == bool(found)
    assert first == (found[0] if found else None)


def test_every_place_and_spelling_of_a_value_is_quarantined_and_masked(con, tmp_path):
    """One batch: each row hides a different number in one place and spelling."""
    probe = "12345678901"  # only to list the spellings' names
    cases = [(p, n) for p in TEXT_PLACES for n in text_spellings(probe)]
    cases += [(p, n) for p in NUMBER_PLACES for n in number_spellings(probe)]
    cases += [("updated_at", "plain"), ("updated_at", "6+5_space")]
    fnrs = some_fnrs(len(cases) + 3)
    rows = []
    for i, (place, name) in enumerate(cases):
        spell = number_spellings if place in NUMBER_PLACES else text_spellings
        rows.append(incident(f"r{i}", **{place: spell(fnrs[i])[name]}))
    rows.append(incident("clean"))
    links = [
        link("INC-clean", person_id=f"P{fnrs[-3]}"),
        link("INC-clean", person_id=f"P_{fnrs[-2][:6]}_{fnrs[-2][6:]}"),
    ]
    folder = write_batch(
        tmp_path / "inbox",
        "2026-11-20",
        {"incidents": rows, "incident_persons": links},
        extra_columns={"incidents": ["note"]},
    )
    # a malformed row (too few fields) holding one, spelled 6+5
    f = fnrs[-1]
    with (folder / "incidents.csv").open("a") as fh:
        fh.write(f"x,{f[:6]} {f[6:]},y\n")
    from batchkit import fix_manifest

    fix_manifest(folder)
    (r,) = ingest(con, tmp_path / "inbox")
    assert r.status == "loaded"
    held = _quarantine(con)
    for i, (place, name) in enumerate(cases):
        assert held.get(i + 2) == ("identity_number", place), (place, name)
    assert held[len(cases) + 3] == ("malformed_row", None)
    assert con.execute("select incident_id from incidents").fetchall() == [
        ("INC-clean",)
    ]
    assert r.reasons["identity_number"] == len(cases) + 2  # + the two links
    assert len(r.identity_numbers) == len(cases) + 1 + 2  # + malformed + links
    assert con.execute(
        "select count(*) from quarantine where identity_hash is null"
    ).fetchone() == (0,)
    assert_nowhere(con, [r], fnrs)


@pytest.mark.parametrize("where", ["batch_id", "folder", "column", "manifest_file"])
@pytest.mark.parametrize("spelling", ["plain", "6+5_underscore", "arabic", "nbsp"])
def test_a_name_holding_one_rejects_the_batch_and_every_trace_is_masked(
    con, tmp_path, where, spelling
):
    f = some_fnrs(1, start=len(where) * 31 + len(spelling))[0]
    spelled = text_spellings(f)[spelling]
    inbox = tmp_path / "inbox"
    batch_id = f"b-{spelled}" if where == "batch_id" else "2026-11-20"
    folder = write_batch(
        inbox,
        batch_id,
        {"incidents": [incident(1)]},
        extra_columns={"incidents": [f"col {spelled}"]} if where == "column" else None,
    )
    if where == "folder":
        folder = folder.rename(inbox / f"export {spelled}")
    if where == "manifest_file":
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["files"][f"{spelled}.csv"] = {"rows": 0, "sha256": "0" * 64}
        (folder / "manifest.json").write_text(json.dumps(manifest))
    results = ingest(con, inbox)
    (r,) = results
    assert r.status == "rejected"
    assert len(r.reason.splitlines()) == 1 and MASK in r.reason
    assert con.execute("select count(*) from stg_incidents").fetchone() == (0,)
    sql = "select batch_id || ' ' || reason from ingest_batches"
    ((stored,),) = con.execute(sql).fetchall()
    assert MASK in stored
    assert_nowhere(con, results, [f])


@pytest.mark.slow  # imports Prefect
def test_the_run_reports_ingest_part_holds_none(tmp_path):
    """The nightly's ingest step (what the run report keeps) on a batch whose
    batch_id and rows hold them."""
    from gjenganger.flows.tasks import ingest_task

    f1, f2 = some_fnrs(2, start=99)
    inbox = tmp_path / "inbox"
    write_batch(inbox, f"b_{f1}", {"incidents": [incident(1)]})
    write_batch(
        inbox,
        "2026-11-21",
        {"incidents": [incident(2, value_nok=f"{f2[0]}.{f2[1:]}e10")]},
        exported_at="2026-11-22T01:30:00+01:00",
    )
    report = ingest_task.fn(str(inbox), str(tmp_path / "db.duckdb"))
    text = json.dumps(report, ensure_ascii=False)
    assert report["rows_quarantined"] == 1 and len(report["rejected"]) == 1
    assert not holds(text, f1) and not holds(text, f2) and valid_runs(text) == []


@pytest.mark.slow
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    fnr=FNRS,
    place=st.sampled_from(TEXT_PLACES + NUMBER_PLACES + ("person_id",)),
    spelling=st.data(),
)
def test_any_number_in_any_place_and_spelling_reaches_no_table(
    tmp_path, fnr, place, spelling
):
    names = number_spellings(fnr) if place in NUMBER_PLACES else text_spellings(fnr)
    name = spelling.draw(st.sampled_from(sorted(names)))
    run = tmp_path / f"run{next(_counter)}"
    row, links = incident(1), [link("INC-1")]
    if place == "person_id":
        links.append(link("INC-1", person_id=names[name]))
    else:
        row[place] = names[name]
    write_batch(
        run / "inbox",
        "2026-11-20",
        {"incidents": [row, incident(2)], "incident_persons": links},
        extra_columns={"incidents": ["note"]},
    )
    con = db.connect(run / "db.duckdb")
    try:
        (r,) = ingest(con, run / "inbox")
        assert r.reasons["identity_number"] == 1, (place, name)
        assert_nowhere(con, [r], [fnr])
    finally:
        con.close()


def test_the_scan_itself_finds_a_planted_number(con, tmp_path):
    """Guard for the guard's test: an unmasked number in a table is found."""
    f = some_fnrs(1, start=7)[0]
    con.execute("create table leak (v varchar, n double)")
    con.execute("insert into leak values (?, ?)", [in_script(f, 0x660), None])
    assert any(holds(x, f) for _, _, x in every_cell(con))
    con.execute("delete from leak")
    con.execute("insert into leak values (null, ?)", [float(f) + 0.5])
    assert any(holds(x, f) for _, _, x in every_cell(con))
    assert valid_runs(f"a {f[:6]} {f[6:]} b") == [f]
    assert Path(tmp_path).is_dir()
