-- generated from data_schema/contract.py by `python -m data_schema.ddl`; do not edit
-- one row per custody period (current version)
create table if not exists custody (
    custody_id VARCHAR not null,
    person_id VARCHAR not null,
    kind VARCHAR not null,
    start_at TIMESTAMP WITH TIME ZONE not null,
    end_at TIMESTAMP WITH TIME ZONE,
    updated_at TIMESTAMP WITH TIME ZONE not null,
    batch_id varchar not null,
    primary key (custody_id)
);
