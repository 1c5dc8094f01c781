-- one row per open case and candidate person (rank 1-5) of one attribution run; a HYPOTHESIS, never a link
create table if not exists attribution_candidates (
    as_of date not null,
    model_version varchar not null,
    incident_id varchar not null,
    rank integer not null,               -- 1 = most probable
    person_id varchar not null,
    p double not null,                   -- calibrated probability that this person did it
    p_none double not null,              -- probability that none of the candidates did it
    nearest_case_km double,              -- why: distance to the person's nearest known case
    nearest_case_days double,            -- why: smallest time gap to a known case (windows overlapping = 0)
    nearest_incident_id varchar,
    best_match_incident_id varchar,      -- the known case the linkage model finds most similar
    matching_modus varchar,              -- comma-separated fields equal to the best match
    repeat_target boolean,               -- a known case at the same place and target type
    known_cases integer,
    in_custody_share double,             -- share of the offence window the person was in custody
    is_hypothesis boolean not null,
    label varchar not null
)
