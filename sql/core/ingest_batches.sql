-- one row per attempt to load a batch (loaded, rejected); skipped batches leave no row
create table if not exists ingest_batches (
    batch_id varchar not null,
    manifest_sha256 varchar,
    exported_at timestamptz,
    started_at timestamptz not null,
    finished_at timestamptz,
    status varchar not null,            -- loaded | rejected
    reason varchar,                     -- why a batch was rejected
    count_read bigint,
    count_loaded bigint,
    count_quarantined bigint,
    summary_json varchar                -- the per-file summary `ingest --json` prints
);
