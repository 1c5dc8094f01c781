-- generated from data_schema/contract.py by `python -m data_schema.ddl`; do not edit
-- one row per case-person link (current version)
create table if not exists incident_persons (
    incident_id VARCHAR not null,
    person_id VARCHAR not null,
    role VARCHAR not null,
    updated_at TIMESTAMP WITH TIME ZONE not null,
    retracted BOOLEAN not null,
    batch_id varchar not null,
    primary key (incident_id, person_id)
);
