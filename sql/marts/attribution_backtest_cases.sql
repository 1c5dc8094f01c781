-- one row per open case the model scored on a past back-test date (the cache of that scoring), keyed by (past_date, model_key, data_fingerprint)
create table if not exists attribution_backtest_cases (
    past_date date not null,             -- the back-test date the case was scored on
    model_key varchar not null,          -- model version + analytics code hash
    data_fingerprint varchar not null,   -- the data as known on past_date
    incident_id varchar not null,
    p_none double not null,
    offence_group varchar,               -- strata of the solve weights
    area varchar,
    age_days double                      -- days since reported, on past_date
)
