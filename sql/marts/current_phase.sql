-- one row per top-list person: the phase on the as-of date (latest phases run only)
create table if not exists current_phase (
    person_id varchar,
    as_of date,
    phase varchar,                       -- most likely phase today
    p double,                            -- its posterior probability
    p_rest double,
    p_phase1 double,
    p_phase2 double,
    p_phase3 double,
    p_inactive double,
    days_in_use_period integer,          -- 0 when resting or inactive
    expected_days_to_rest double,        -- given today's phase, barring arrest or prison
    p_interrupted double,                -- the use period ends inactive (arrest, prison) rather than at rest
    cases_90d double,                    -- weighted cases in the last 90 days
    in_custody boolean,
    p_cycling double,                    -- the person's data follow the use-period cycle at all
    low_confidence boolean,
    model_version varchar
)
