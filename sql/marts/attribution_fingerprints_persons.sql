-- one row per person of the newest attribution run: what its evidence rows were computed from
create table if not exists attribution_fingerprints_persons (
    person_id varchar,
    fp ubigint,                          -- order-free hash of the known cases and custody
    n_known bigint
)
