-- one row per card-use episode (latest episodes run only); an attributed person is a HYPOTHESIS
create table if not exists episodes (
    episode_id varchar,
    incident_id varchar,                 -- the card-fraud case
    card_ref varchar,
    person_id varchar,                   -- linked person, else the rank-1 attribution candidate
    person_source varchar,               -- linked | attributed | none
    is_hypothesis boolean,
    attribution_p double,
    n_persons_linked bigint,
    start_at timestamp,                  -- local time
    end_at timestamp,
    duration_h double,
    n_transactions bigint,
    n_approved bigint,
    n_declined bigint,
    n_merchants bigint,
    merchant_categories varchar,
    total_nok double,                    -- approved amounts
    attempted_nok double,                -- approved and declined
    max_36h_nok double,                  -- largest approved total inside any 36-hour window
    max_36h_start_at timestamp,
    max_36h_end_at timestamp,
    n_incidents bigint,
    as_of date
)
