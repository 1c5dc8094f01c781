-- one row per evidence row computed by the running attribution night (swapped into attribution_evidence, then emptied); the same columns as attribution_evidence
create table if not exists attribution_evidence_next as
select * from attribution_evidence limit 0
