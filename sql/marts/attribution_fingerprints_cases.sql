-- one row per case of the newest attribution run: a hash of the columns its evidence depends on
create table if not exists attribution_fingerprints_cases (
    incident_id varchar,
    fp ubigint
)
