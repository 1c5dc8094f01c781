-- one row per person on the top list of one as-of date (rank 1..n); written by gjenganger.pipeline.toplist
create table if not exists toplist (
    as_of date not null,
    window_days integer not null,
    rank integer not null,
    person_id varchar not null,
    cases integer not null,              -- linked, not retracted cases occurring in the window
    score double not null,               -- sum of severity weight x value factor (docs/linkage.md)
    est_value_nok double,                -- sum of value_nok of those cases
    group_mix varchar,                   -- JSON object: offence group -> cases
    level_mix varchar,                   -- JSON object: sophistication level (1-3) -> cases
    first_case_at timestamp,             -- earliest occurred_from in the window (local time)
    last_case_at timestamp,              -- latest occurred_from in the window
    prev_cases integer,                  -- cases in the window before
    trend varchar                        -- up, down, stable, new
)
