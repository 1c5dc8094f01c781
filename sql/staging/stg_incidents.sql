-- generated from data_schema/contract.py by `python -m data_schema.ddl`; do not edit
-- one row per valid incidents row as loaded (every version)
create table if not exists stg_incidents (
    incident_id VARCHAR not null,
    updated_at TIMESTAMP WITH TIME ZONE not null,
    reported_at TIMESTAMP WITH TIME ZONE not null,
    occurred_from TIMESTAMP WITH TIME ZONE not null,
    occurred_to TIMESTAMP WITH TIME ZONE not null,
    offence_code VARCHAR not null,
    target_type VARCHAR not null,
    entry_method VARCHAR,
    planned BOOLEAN,
    participants INTEGER,
    value_nok DECIMAL(14,2),
    lat DOUBLE,
    lon DOUBLE,
    municipality_no VARCHAR,
    status VARCHAR not null,
    arrest_at_scene BOOLEAN not null,
    batch_id varchar not null,
    source_file varchar not null,
    line bigint not null
);
