"""The research snapshot's tables and columns, described once.

The text here becomes the snapshot's `COMMENT ON TABLE` / `COMMENT ON COLUMN`
(`gjenganger.store.research`), its codebook (`codebook.html` / `codebook.md` in
the research bundle), `docs/research.md` and the snapshot section of
`docs/data-dictionary.md`. A column the export contract already describes (e.g.
`cases.offence_code`) takes the contract's text and rule; every derived column
has its text in `COLUMNS` below. A test fails when a published column has none.
"""

from __future__ import annotations

from gjenganger.data_schema.contract import INCIDENTS, Column

#: the fewest rows that must share a row's published values at its detail level
K = 5

#: table -> what one row is (the table's comment)
TABLES: dict[str, str] = {
    "cases": "one row per case: what, where (municipality), when (week or month), "
    "status, number of linked persons; case_key joins no other table",
    "case_persons": "one row per current, not retracted case-person link, for "
    "counting links per person: only whose link it is (no case, role or "
    f"co-offender); a person whose link count fewer than {K} persons share has the "
    f"mean count of {K} persons of about the same count (microaggregation)",
    "person_days": "one row per top-list person and day: inferred phase with its "
    "probability and daily counts; series_key joins `use_periods` only",
    "use_periods": "one row per inferred use period of a top-list person "
    "(series_key as in `person_days`)",
    "hotspot_cells": "one row per grid cell of the latest hotspot analysis, with the "
    "target type and the window it covers (places only: no case or person ids)",
    "episodes": "one row per card-use episode: month or week, bands of span, "
    "transactions and NOK (largest 36-hour total among them); episode_key joins no "
    "other table",
    "ref_offence_codes": "reference: one row per offence code of the export "
    "contract, with its group and labels in bokmål and English (no person data)",
    "ref_codes": "reference: one row per code of a coded column (target types, "
    "entry methods, statuses, phases ...), with labels in bokmål and English",
    "about": "one row per table of this snapshot: what one row is and how many rows",
}

_KEY = "re-keyed for this snapshot only (a random salt, never stored)"
_PHASE = "rest, phase1, phase2, phase3 or inactive"

#: table -> column -> description, for every column the contract does not describe
COLUMNS: dict[str, dict[str, str]] = {
    "cases": {
        "case_key": f"the case, {_KEY}; joins no other table",
        "offence_group": "group of the offence code (see `ref_offence_codes`)",
        "participants": "offenders involved, 3 meaning three or more",
        "value_band": "value stolen or damage done, NOK band (`a-b`: a <= value < b)",
        "n_persons": "persons linked to the case: 0, 1 or 2 (two or more)",
        "reported_month": "first day of the month the case was reported",
        "reported_week": "Monday of the ISO week the case was reported",
        "occurred_hours": "6-hour band of the hour the occurrence window starts",
        "detail": "detail level of the row (0 most detailed, see docs/research.md); "
        "columns it drops are null",
    },
    "case_persons": {
        "person_key": f"the person a link belongs to, {_KEY}; joins no other table",
    },
    "person_days": {
        "series_key": f"the top-list person, {_KEY}; joins `use_periods` only",
        "date": "the day",
        "n_cases": "cases that day, aoristic weights (linked 1, attributed p)",
        "n_sharp": "of which with an occurrence window of at most 24 hours",
        "n_level1": "cases at sophistication level 1 (lowest)",
        "n_level2": "cases at sophistication level 2",
        "n_level3": "cases at sophistication level 3 (highest)",
        "n_planned": "planned cases (reconnaissance or preparation)",
        "n_unplanned": "unplanned cases",
        "n_arrests": "arrests at the scene",
        "value_nok": "value stolen or damage done that day, NOK",
        "n_linked": "weight from linked cases",
        "n_attributed": "weight from attributed open cases (a HYPOTHESIS)",
        "planned_share": "share of the day's cases that were planned",
        "custody": "in custody that day (a known inactive day)",
        "phase": f"most likely phase that day: {_PHASE}",
        "p": "posterior probability of that phase",
        "p_rest": "posterior probability of rest",
        "p_phase1": "posterior probability of phase 1 (low activity)",
        "p_phase2": "posterior probability of phase 2 (planned, intense)",
        "p_phase3": "posterior probability of phase 3 (impulsive)",
        "p_inactive": "posterior probability of inactive",
        "path_phase": "the day's phase on the most likely joint path",
        "as_of": "the night the phases were computed",
        "model_version": "version of the phase model",
    },
    "use_periods": {
        "series_key": f"the top-list person, {_KEY}; as in `person_days`",
        "period_no": "1, 2, ... per person, oldest first",
        "start": "first day of the use period",
        "end": "last day of the use period",
        "days": "length in days",
        "phase1_start": "first day of phase 1 (null: none)",
        "phase2_start": "first day of phase 2 (null: none)",
        "phase3_start": "first day of phase 3 (null: none)",
        "phase1_days": "days in phase 1",
        "phase2_days": "days in phase 2",
        "phase3_days": "days in phase 3",
        "n_cases": "cases over the period (sum of `person_days.n_cases`)",
        "n_level1": "level-1 cases over the period",
        "n_level2": "level-2 cases over the period",
        "n_level3": "level-3 cases over the period",
        "n_arrests": "arrests at the scene over the period",
        "value_nok": "value stolen or damage done over the period, NOK",
        "mean_p": "mean posterior probability of the period's phases",
        "open_start": "begins on the window's first day (may have begun earlier)",
        "ongoing": "reaches the window's last day (may go on)",
        "as_of": "the night the phases were computed",
        "model_version": "version of the phase model",
    },
    "hotspot_cells": {
        "cell_id": "grid cell: its size and position (EPSG:25833, metres) in the id",
        "lat": "WGS84 latitude of the cell centre",
        "lon": "WGS84 longitude of the cell centre",
        "count": "incidents of the recent window (aoristic weights)",
        "previous": "incidents of the period before the window",
        "gi_z": "Getis-Ord Gi* z-score",
        "gi_bin": "-3..3: cold to hot, FDR-corrected at 90/95/99 %",
        "is_hot": "a significant hot spot (Gi*, FDR 95 %)",
        "density": "kernel density of incidents",
        "risk": "prospective (near-repeat) risk: expected incidents in the horizon",
        "emerging": "emerging hotspot class (recent window against the year before)",
        "rate_ratio": "recent rate over the previous rate",
        "as_of": "the night the analysis was run",
        "target_type": "target types analysed: `all`, or a target group",
        "window_start": "first day of the recent window",
        "window_end": "last day of the recent window",
        "history_start": "first day of the comparison period before the window",
        "history_end": "last day of the comparison period",
        "cell_size_m": "cell side in metres",
    },
    "episodes": {
        "episode_key": f"the episode, {_KEY}",
        "person_source": "person behind the episode: linked, attributed or none",
        "start_month": "first day of the month the episode started",
        "start_week": "Monday of the ISO week the episode started",
        "duration_band": "hours from first to last transaction, band",
        "n_transactions_band": "transactions, band",
        "n_declined_band": "declined transactions, band",
        "n_merchants_band": "distinct merchants, band",
        "total_nok_band": "approved NOK, band",
        "attempted_nok_band": "approved and declined NOK, band",
        "max_36h_nok_band": "largest approved total inside any 36-hour window, band",
        "as_of": "the night the episodes were computed",
        "detail": "detail level of the row (0 most detailed, see docs/research.md); "
        "columns it drops are null",
    },
    "ref_offence_codes": {
        "offence_code": "offence code as in `cases.offence_code`",
        "offence_group": "its group, as in `cases.offence_group`",
        "label_nb": "the code's label in bokmål",
        "label_en": "the code's label in English",
        "group_label_nb": "the group's label in bokmål",
        "group_label_en": "the group's label in English",
    },
    "ref_codes": {
        "code_list": "which coded column the code belongs to (e.g. `target_type`)",
        "code": "the value as it appears in the tables",
        "label_nb": "its label in bokmål",
        "label_en": "its label in English",
    },
    "about": {
        "table_name": "a table of this snapshot",
        "one_row_is": "what one row of it is",
        "rows": "its number of rows",
    },
}

#: code list -> the coded columns that take its values, in `ref_codes`
CODE_LISTS: dict[str, tuple[str, ...]] = {
    "target_type": ("cases.target_type",),
    "entry_method": ("cases.entry_method",),
    "status": ("cases.status",),
    "phase": ("person_days.phase", "person_days.path_phase"),
}


def contract_column(table: str, column: str) -> Column | None:
    """The export-contract column a snapshot column passes on unchanged (only
    `cases` keeps contract columns), else None."""
    if table != "cases" or column in COLUMNS["cases"]:
        return None
    return next((c for c in INCIDENTS.columns if c.name == column), None)


def describe_column(table: str, column: str) -> str:
    """The description of one snapshot column (its `COMMENT ON COLUMN`); a
    `KeyError` when it has none, so an undescribed column cannot be published."""
    text = COLUMNS.get(table, {}).get(column)
    if text is not None:
        return text
    col = contract_column(table, column)
    if col is None:
        raise KeyError(f"no description for {table}.{column} in data_schema/snapshot")
    from gjenganger.data_schema.dictionary import rule

    extra = rule(col)
    return f"{col.description} ({extra})" if extra else col.description


def describe_table(table: str) -> str:
    """What one row of a snapshot table is (its `COMMENT ON TABLE`)."""
    return TABLES[table]
