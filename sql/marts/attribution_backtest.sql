-- one row per night, back-test sample and kind: how attribution did on cases open on a past date and linked since (figures weighted by inverse solve probability)
create table if not exists attribution_backtest (
    as_of date not null,
    horizon_days integer,                -- 90, 180; null: both dates pooled
    past_date date,                      -- null when pooled
    kind varchar not null,               -- raw: the model as it was; calibrated: recalibrated p, cross-fitted by case halves
    cases_scored bigint,
    cases_confirmed bigint not null,     -- open then, linked since (the denominator)
    cases_confirmed_person_among_candidates bigint,
    hit_at_1 double,
    hit_at_5 double,
    hit_at_1_unweighted double,
    ece double,
    hypotheses bigint,                   -- candidate rows up to rank 5 of confirmed cases
    hypotheses_p_ge_0_5 bigint,
    precision_p_ge_0_5 double,
    brier_rank1 double,
    brier_skill_rank1 double,
    cached boolean,                      -- the past scoring came from the cache
    score_seconds double                 -- seconds the past scoring took tonight
)
