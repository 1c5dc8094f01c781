-- one row per series of open cases found by one attribution run (person or linked); a HYPOTHESIS
create table if not exists series (
    as_of date not null,
    model_version varchar not null,
    series_id varchar not null,          -- P-<person_id> or L-<n>
    kind varchar not null,               -- person: attributed to person_id; linked: clustered, no person
    person_id varchar,
    n_cases integer not null,
    first_at timestamp,
    last_at timestamp,
    span_days double,
    area_km2 double,                     -- convex hull of the cases
    radius_km double,                    -- largest distance from the centroid
    centroid_lat double,
    centroid_lon double,
    main_offence_code varchar,
    main_target_type varchar,
    main_entry_method varchar,
    modus_share double,                  -- share of cases with all three main modus values
    mean_p double,                       -- mean attribution p (person) or within-series link p (linked)
    is_hypothesis boolean not null,
    label varchar not null
)
