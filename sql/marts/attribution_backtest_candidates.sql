-- one row per (case, candidate) the model scored on a past back-test date, every rank (hypotheses, never links)
create table if not exists attribution_backtest_candidates (
    past_date date not null,
    model_key varchar not null,
    data_fingerprint varchar not null,
    incident_id varchar not null,
    person_id varchar not null,
    p double not null,
    rank integer not null
)
