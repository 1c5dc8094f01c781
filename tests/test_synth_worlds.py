"""Named worlds: every preset generates a contract-valid export, each knob moves the
figure it claims to move (measured on the written files and truth), the baseline is
the generator's original reading, and the same seed and world give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields, replace
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from test_synth_contract import (
    test_coordinates_are_both_null_or_both_in_norway_with_at_most_six_decimals as _xy,
)
from test_synth_contract import (
    test_custody_ends_after_it_starts_and_versions_are_not_after_the_export as _custody,
)
from test_synth_contract import (
    test_every_file_has_the_contract_header_in_contract_order as _headers,
)
from test_synth_contract import (
    test_every_value_has_its_contract_type_code_pattern_and_range as _values,
)
from test_synth_contract import (
    test_links_and_card_uses_refer_to_cases_of_this_or_an_earlier_batch as _refs,
)
from test_synth_contract import (
    test_manifest_row_counts_and_checksums_match_the_files as _checksums,
)
from test_synth_contract import (
    test_no_value_anywhere_contains_a_run_of_eleven_digits as _digits,
)
from test_synth_contract import (
    test_offence_codes_match_their_target_types as _codes,
)
from test_synth_contract import (
    test_time_windows_are_ordered_and_reported_before_the_export as _windows,
)
from test_synth_contract import (
    test_truth_files_have_the_documented_columns as _truth_columns,
)
from test_synth_contract import (
    test_truth_names_an_offender_for_every_exported_case as _truth_offenders,
)

from gjenganger.cli import main
from gjenganger.synth import SynthConfig, calibration, generate, presets
from gjenganger.synth import world_figures as wf
from gjenganger.synth.worlds import BASELINE, FIELDS, World

START = date(2024, 1, 1)
DAYS = 90
SCALE = 0.25
CONTRACT_CHECKS = (
    _checksums,
    _headers,
    _values,
    _xy,
    _windows,
    _custody,
    _refs,
    _digits,
    _codes,
    _truth_columns,
    _truth_offenders,
)


def _config(name: str, seed: int = 42, **changes) -> SynthConfig:
    world = replace(presets.world(name), **changes)
    return SynthConfig(
        seed=seed,
        start=START,
        days=DAYS,
        scale=SCALE,
        batch_days=1,
        world=world,
        world_name=name,
    )


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Output folder of a preset, generated once per module (seed 42)."""
    root = tmp_path_factory.mktemp("worlds")
    cache: dict[str, Path] = {}

    def out(name: str) -> Path:
        if name not in cache:
            generate(_config(name), root / name)
            cache[name] = root / name
        return cache[name]

    return out


@pytest.fixture(scope="module")
def figures(made):
    """calibration.load + world_figures.measure of a preset, cached."""
    cache: dict[str, tuple[dict, dict]] = {}

    def get(name: str) -> tuple[dict, dict]:
        if name not in cache:
            d = calibration.load(made(name))
            cache[name] = (d, wf.measure(d))
        return cache[name]

    return get


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# ---------------------------------------------------------------- presets
def test_there_are_at_least_eight_valid_presets_and_baseline_is_the_default():
    assert len(presets.PRESETS) >= 8
    assert presets.names()[0] == "baseline"
    assert presets.world("baseline") == World() == BASELINE
    assert SynthConfig(seed=1, start=START, days=1).world == BASELINE
    for name in presets.names():
        assert _config(name).problems() == [], name
        assert presets.describe(name)


def test_every_preset_but_baseline_changes_something():
    for name in presets.names()[1:]:
        assert presets.overrides("baseline", presets.world(name)), name


@pytest.mark.slow
@pytest.mark.parametrize("name", presets.names())
def test_every_preset_writes_a_contract_valid_export(made, name):
    out = made(name)
    for check in CONTRACT_CHECKS:
        check(out)
    assert len(list((out / "inbox").iterdir())) == DAYS
    record = json.loads((out / "truth" / "world.json").read_text())
    assert record["name"] == name and record["overrides"] == {}
    assert record["values"] == presets.world(name).values()


#: Worlds whose rows differ most in shape (new rows, crews, late versions, many card
#: uses, far places, long custody): loaded through the real ingest (all presets are
#: checked against the contract above; the ingest costs ~1 s a world).
INGESTED = (
    "near-repeat",
    "crews",
    "slow-reports",
    "card-heavy",
    "dispersed-targets",
    "much-custody",
)


@pytest.mark.slow
def test_the_most_different_presets_load_through_the_real_ingest(made, tmp_path):
    from gjenganger.flows.steps.ingest import ingest
    from gjenganger.store import db

    for name in INGESTED:
        con = db.connect(tmp_path / f"{name}.duckdb")
        try:
            results = ingest(con, made(name) / "inbox")
        finally:
            con.close()
        assert [r.status for r in results] == ["loaded"] * DAYS, name
        assert sum(c.quarantined for r in results for c in r.files.values()) == 0


# ---------------------------------------------------------------- knobs
def _active_mean(d) -> float:
    runs = calibration.runs(d["phases"], active_as_one=True)
    return runs.filter(pl.col("label") == "active")["days"].mean()


def _caught_ratio(d) -> float:
    """Truth catch share in phase 3 over phase 2 (plus and mixed users)."""
    inc = d["incidents"].filter(pl.col("state").is_in(["phase2", "phase3"]))
    share = inc.group_by("state").agg((pl.col("caught") == "true").mean().alias("c"))
    c = dict(share.iter_rows())
    return c["phase3"] / c["phase2"]


def _count(d, group: str) -> int:
    return d["persons"].filter(pl.col("group") == group).height


def test_phase_lengths_follow_the_world(figures):
    base = _active_mean(figures("baseline")[0])
    assert _active_mean(figures("short-phases")[0]) < 0.75 * base
    assert _active_mean(figures("long-phases")[0]) > 1.15 * base
    d = figures("short-phases")[0]
    heroine = d["episodes"].filter(pl.col("scripted") == "true")["person_id"]
    short = calibration.runs(d["phases"], False).filter(
        ~pl.col("person_id").is_in(heroine.implode())  # her scripted 5/9/4 days
    )
    assert short.filter(pl.col("label") == "phase2")["days"].max() <= 7


def test_catch_knobs_move_solved_shares_and_their_phase_bias(figures):
    base_d, base = figures("baseline")
    assert figures("low-catch")[1]["solved_share"] < 0.75 * base["solved_share"]
    ratio = _caught_ratio(base_d)
    assert _caught_ratio(figures("biased-catch")[0]) > 2 * ratio
    assert _caught_ratio(figures("even-catch")[0]) < 0.6 * ratio


def test_custody_knobs_move_custody_days(figures):
    base = figures("baseline")[1]["custody_days_per_person_year"]
    assert figures("much-custody")[1]["custody_days_per_person_year"] > 1.5 * base
    assert figures("little-custody")[1]["custody_days_per_person_year"] < 0.85 * base


def test_target_knobs_move_dispersion_repeats_and_near_repeats(figures):
    base = figures("baseline")[1]
    wide = figures("dispersed-targets")[1]
    near = figures("near-repeat")[1]
    km = "median_km_from_home_plus_mixed"
    assert wide[km] > 1.8 * base[km]
    assert wide["repeat_target_share"] < 0.5 * base["repeat_target_share"]
    assert near["near_repeat_share"] > base["near_repeat_share"] + 0.05


def test_crew_report_and_card_knobs_move_their_figures(figures):
    base = figures("baseline")[1]
    assert figures("crews")[1]["crew_share"] > 1.8 * base["crew_share"]
    slow = figures("slow-reports")[1]
    assert slow["median_report_delay_hours"] > 3 * base["median_report_delay_hours"]
    assert slow["card_report_days_median"] > 2 * base["card_report_days_median"]
    tx = "card_transactions_per_year"
    assert figures("card-heavy")[1][tx] > 2 * base[tx]
    assert figures("card-light")[1][tx] < 0.5 * base[tx]


def test_population_knobs_move_counts_and_concentration(figures):
    base_d, base = figures("baseline")
    assert _count(figures("few-minus-users")[0], "minus") < 0.5 * _count(
        base_d, "minus"
    )
    wide = figures("wide-scene")[0]
    assert _count(wide, "plus") + _count(wide, "mixed") > 1.5 * (
        _count(base_d, "plus") + _count(base_d, "mixed")
    )
    top = "minus_top10pct_share"
    assert figures("concentrated")[1][top] > base[top] + 0.1


# ---------------------------------------------------------------- determinism
def test_same_seed_and_world_give_the_same_bytes_and_another_world_differs(tmp_path):
    def run(sub: str, name: str, **changes) -> dict[str, str]:
        cfg = replace(_config(name, seed=9, **changes), days=20, scale=0.15)
        generate(cfg, tmp_path / sub)
        return _digests(tmp_path / sub)

    a = run("a", "near-repeat", custody_rate_factor=2.0)
    b = run("b", "near-repeat", custody_rate_factor=2.0)
    assert a == b and len(a) > 20 * 5
    c = run("c", "near-repeat")
    assert c["truth/incidents.csv"] != a["truth/incidents.csv"]
    record = json.loads((tmp_path / "a" / "truth" / "world.json").read_text())
    assert record["overrides"] == {"custody_rate_factor": 2.0}


# ---------------------------------------------------------------- command line
def test_world_list_names_every_preset_with_its_description(capsys):
    assert main(["generate", "--world", "list"]) == 0
    text = capsys.readouterr().out
    for name in presets.names():
        assert name in text and presets.describe(name) in text
    assert main(["generate", "--list-worlds"]) == 0
    assert capsys.readouterr().out == text


def test_an_unknown_world_is_a_one_line_error(tmp_path, capsys):
    assert main(["generate", "--out", str(tmp_path), "--world", "nowhere"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown world 'nowhere'" in err[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--catch-plus", "2"], "--catch-plus must be between 0 and 0.95"),
        (["--phase1-days", "9,3"], "--phase1-days must be MIN,MAX"),
        (["--phase1-days", "3"], "--phase1-days takes 2 values"),
        (["--active-max-days", "9"], "--active-max-days must leave room"),
    ],
)
def test_bad_world_values_are_one_line_errors(tmp_path, capsys, args, message):
    assert main(["generate", "--out", str(tmp_path / "o"), "--days", "3", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_every_world_field_has_a_flag_that_overrides_the_preset(tmp_path, capsys):
    from gjenganger.cli import build_parser

    sub = build_parser("generate")._subparsers._group_actions[0].choices["generate"]  # noqa: SLF001
    text = sub.format_help()
    for f in fields(World):
        assert "--" + f.name.replace("_", "-") in text, f.name
    args = ["generate", "--out", str(tmp_path), "--days", "5", "--scale", "0.05"]
    extra = ["--world", "crews", "--co-offending", "3", "--card-uses", "2,9", "--json"]
    assert main([*args, *extra]) == 0
    summary = json.loads(capsys.readouterr().out)
    world = summary["world"]
    assert world["name"] == "crews"
    assert world["overrides"] == {"co_offending": 3.0, "card_uses": [2, 9]}
    assert world["values"]["crew_of_four_share"] == 0.5  # from the preset
    on_disk = json.loads((tmp_path / "truth" / "world.json").read_text())
    assert on_disk == world
    assert set(world["values"]) == set(FIELDS)
