"""Export-side pseudonymisation: known answers, key hygiene, contract-valid output."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys

from gjenganger.store.keys import pseudonym


def test_pseudonym_matches_the_rfc4231_hmac_sha256_known_answer():
    # RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?")
    # = 5bdcc146bf60754e6a042426089575c7..., hex digits 0-f written as letters a-p
    assert (
        pseudonym(b"Jefe", "what do ya want for nothing?")
        == "Pflnmmbeglpgahfeogkaececg"
    )


def test_pseudonyms_are_contract_valid_and_hold_no_digits():
    p = pseudonym(b"k" * 32, "01017012345")
    assert re.fullmatch(r"[A-Za-z0-9_-]{8,64}", p)
    assert not re.search(r"[0-9]", p)


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "gjenganger", "pseudonymise", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _inputs(tmp_path, mode=0o600, size=32):
    key = tmp_path / "k.key"
    key.write_bytes(b"s" * size)
    os.chmod(key, mode)
    src = tmp_path / "in.csv"
    src.write_text(
        "incident_id,person_id\nINC-1,15076500565\nINC-2,15076500565\nINC-3,\n"
    )
    return key, src


def test_the_cli_replaces_identity_columns_deterministically_and_never_echoes_them(
    tmp_path,
):
    key, src = _inputs(tmp_path)
    out = tmp_path / "out.csv"
    r = _run("--key-file", str(key), "--columns", "person_id", str(src), str(out))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(out.open()))
    assert (
        rows[0]["person_id"]
        == rows[1]["person_id"]
        == pseudonym(b"s" * 32, "15076500565")
    )
    assert rows[2]["person_id"] == ""
    assert "15076500565" not in out.read_text() + r.stdout + r.stderr


def test_a_key_file_readable_by_others_is_refused(tmp_path):
    key, src = _inputs(tmp_path, mode=0o644)
    r = _run(
        "--key-file",
        str(key),
        "--columns",
        "person_id",
        str(src),
        str(tmp_path / "o.csv"),
    )
    assert r.returncode == 2 and "readable by others" in r.stderr
    assert not (tmp_path / "o.csv").exists()


def test_a_short_key_is_refused(tmp_path):
    key, src = _inputs(tmp_path, size=16)
    r = _run(
        "--key-file",
        str(key),
        "--columns",
        "person_id",
        str(src),
        str(tmp_path / "o.csv"),
    )
    assert r.returncode == 2 and "shorter than 32 bytes" in r.stderr
