-- one row per top-list person and day of the phase window (latest phases run only): daily series and phase posterior
create table if not exists person_days (
    person_id varchar,
    "date" date,
    n_cases double,                      -- cases that day, aoristic weights (linked 1, attributed p)
    n_sharp double,                      -- of which with an occurrence window of at most 24 hours
    n_level1 double,                     -- by sophistication level
    n_level2 double,
    n_level3 double,
    n_planned double,
    n_unplanned double,
    n_arrests double,                    -- arrests at the scene
    value_nok double,
    n_linked double,                     -- weight from linked cases
    n_attributed double,                 -- weight from attributed open cases (a HYPOTHESIS)
    planned_share double,
    custody boolean,                     -- in custody that day (a known inactive day)
    phase varchar,                       -- most likely phase that day: rest, phase1-3, inactive
    p double,                            -- its posterior probability
    p_rest double,
    p_phase1 double,
    p_phase2 double,
    p_phase3 double,
    p_inactive double,
    path_phase varchar,                  -- the day's phase on the most likely joint path
    as_of date,
    model_version varchar
)
