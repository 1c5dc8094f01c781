"""The three-level model (report fig. 4) as a rule table: the report's own examples."""

from __future__ import annotations

import polars as pl

from gjenganger.analytics import sophistication as soph


def _one(**kw) -> pl.DataFrame:
    row = {
        "incident_id": "i1",
        "offence_code": "other",
        "target_type": "other",
        "entry_method": None,
        "planned": None,
        "participants": None,
        "value_nok": None,
    }
    row.update(kw)
    return pl.DataFrame(
        [row],
        schema={
            "incident_id": pl.String,
            "offence_code": pl.String,
            "target_type": pl.String,
            "entry_method": pl.String,
            "planned": pl.Boolean,
            "participants": pl.Int64,
            "value_nok": pl.Float64,
        },
    )


def _level(**kw) -> int:
    return int(soph.levels(_one(**kw))[0])


def test_smashing_a_window_to_grab_a_pc_is_level_1():
    assert (
        _level(
            offence_code="burglary_business",
            target_type="shop",
            entry_method="smash_window",
            planned=False,
            participants=1,
            value_nok=8000.0,
        )
        == 1
    )
    assert (
        _level(
            offence_code="theft_from_vehicle",
            target_type="vehicle",
            entry_method="smash_window",
            value_nok=6000.0,
        )
        == 1
    )


def test_business_burglary_with_cylinder_snapping_is_level_2():
    assert (
        _level(
            offence_code="burglary_business",
            target_type="business",
            entry_method="cylinder_snap",
            planned=True,
            participants=2,
            value_nok=45000.0,
        )
        == 2
    )


def test_three_persons_one_point_two_million_with_air_drills_is_level_3():
    assert (
        _level(
            offence_code="burglary_business",
            target_type="business",
            entry_method="other",
            planned=True,
            participants=3,
            value_nok=1_200_000.0,
        )
        == 3
    )


def test_bicycle_theft_is_level_1_and_car_theft_and_card_fraud_are_level_2():
    assert _level(offence_code="bicycle_theft", target_type="bicycle") == 1
    assert _level(offence_code="vehicle_theft", target_type="vehicle") == 2
    assert _level(offence_code="card_fraud", entry_method="card_no_pin") == 2


def test_drug_import_is_level_3_and_drug_use_is_level_1():
    assert _level(offence_code="drug_import") == 3
    assert _level(offence_code="drug_use") == 1


def test_planning_lifts_a_petty_offence_to_level_2_but_never_to_level_3():
    assert _level(offence_code="mail_theft", planned=True) == 2
    assert (
        _level(
            offence_code="burglary_storage",
            planned=True,
            participants=1,
            value_nok=300_000.0,
        )
        == 2
    )


def test_unknown_fields_never_trigger_a_rule_that_needs_them():
    assert _level(offence_code="burglary_cabin") == 2
    assert _level(offence_code="shoplifting") == 1


def test_levels_keep_row_order_and_work_without_optional_columns():
    frame = pl.DataFrame(
        {"offence_code": ["drug_import", "bicycle_theft", "card_fraud"]}
    )
    assert soph.levels(frame).to_list() == [3, 1, 2]
    assert soph.levels(frame).dtype == pl.Int8


def test_every_rule_in_the_table_is_reachable_and_explained():
    frame = pl.concat(
        [
            _one(offence_code="drug_import"),
            _one(offence_code="burglary_business", participants=4, value_nok=250_000.0),
            _one(offence_code="other", value_nok=2_000_000.0),
            _one(offence_code="burglary_business", entry_method="smash_window"),
            _one(offence_code="bicycle_theft"),
            _one(offence_code="other", entry_method="window_frame"),
            _one(offence_code="other", planned=True),
            _one(offence_code="burglary_cabin"),
            _one(offence_code="violence"),
        ]
    )
    out = soph.with_levels(frame, explain=True)
    assert out["level_rule"].to_list() == [r.rule_id for r in soph.RULES]
    assert out["level"].to_list() == [r.level for r in soph.RULES]
    assert soph.rule_table().height == len(soph.RULES)
