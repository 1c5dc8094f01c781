-- generated from data_schema/contract.py by `python -m data_schema.ddl`; do not edit
-- one row per valid custody row as loaded (every version)
create table if not exists stg_custody (
    custody_id VARCHAR not null,
    person_id VARCHAR not null,
    kind VARCHAR not null,
    start_at TIMESTAMP WITH TIME ZONE not null,
    end_at TIMESTAMP WITH TIME ZONE,
    updated_at TIMESTAMP WITH TIME ZONE not null,
    batch_id varchar not null,
    source_file varchar not null,
    line bigint not null
);
