-- one row per schema version applied to this database (the newest is its layout; see store/schema.py)
create table if not exists schema_version (
    version integer not null,            -- gjenganger.sql.runner.SCHEMA_VERSION when applied
    applied_at timestamptz not null,
    release varchar,                     -- the gjenganger package version that applied it
    note varchar                         -- created, or what the migration did
)
