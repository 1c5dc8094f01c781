-- one row per use period (a run of phase1-3 days) of a top-list person (latest phases run only)
create table if not exists use_periods (
    person_id varchar,
    period_no integer,                   -- 1, 2, ... per person, oldest first
    "start" date,
    "end" date,
    days integer,
    phase1_start date,
    phase2_start date,
    phase3_start date,
    phase1_days integer,
    phase2_days integer,
    phase3_days integer,
    n_cases double,                      -- sums of the person-day series over the period
    n_level1 double,
    n_level2 double,
    n_level3 double,
    n_arrests double,
    value_nok double,
    mean_p double,                       -- mean posterior probability of the period's phases
    open_start boolean,                  -- begins on the window's first day
    ongoing boolean,                     -- reaches the window's last day
    as_of date,
    model_version varchar
)
