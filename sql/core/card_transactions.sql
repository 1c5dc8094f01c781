-- generated from data_schema/contract.py by `python -m data_schema.ddl`; do not edit
-- one row per card transaction (current version)
create table if not exists card_transactions (
    transaction_id VARCHAR not null,
    incident_id VARCHAR not null,
    card_ref VARCHAR not null,
    "at" TIMESTAMP WITH TIME ZONE not null,
    amount_nok DECIMAL(14,2) not null,
    merchant_category VARCHAR not null,
    merchant_ref VARCHAR,
    approved BOOLEAN not null,
    pin_used BOOLEAN not null,
    lat DOUBLE,
    lon DOUBLE,
    updated_at TIMESTAMP WITH TIME ZONE not null,
    batch_id varchar not null,
    primary key (transaction_id)
);
