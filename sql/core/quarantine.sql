-- one row per input row held back: its batch, file, line, reason and masked content
create table if not exists quarantine (
    batch_id varchar not null,
    source_file varchar not null,
    line bigint,
    reason varchar not null,            -- a code of data_schema.contract.REASONS
    column_name varchar,                -- the column the reason concerns
    record_masked varchar,              -- the raw row as JSON, identity numbers masked
    quarantined_at timestamptz not null,
    identity_hash varchar               -- sha256(secret key || identity number): counts repeats, never the number
);
