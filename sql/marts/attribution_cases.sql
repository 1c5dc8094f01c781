-- one row per open case attributed in one run: the probability that none of the candidates did it
create table if not exists attribution_cases (
    as_of date not null,
    model_version varchar not null,
    incident_id varchar not null,
    p_none double not null,
    n_candidates integer not null,       -- persons scored (pre-selected) for this case
    is_hypothesis boolean not null,
    label varchar not null
)
