-- generated from data_schema/contract.py by `python -m data_schema.ddl`; do not edit
-- one row per valid incident_persons row as loaded (every version)
create table if not exists stg_incident_persons (
    incident_id VARCHAR not null,
    person_id VARCHAR not null,
    role VARCHAR not null,
    updated_at TIMESTAMP WITH TIME ZONE not null,
    retracted BOOLEAN not null,
    batch_id varchar not null,
    source_file varchar not null,
    line bigint not null
);
