-- generated from data_schema/contract.py by `python -m data_schema.ddl`; do not edit
-- one row per offence code of the contract, with its group
create or replace table ref_offence_codes as
select * from (values
    ('burglary_business', 'acquisitive'),
    ('burglary_public', 'acquisitive'),
    ('burglary_construction', 'acquisitive'),
    ('burglary_cabin', 'acquisitive'),
    ('burglary_storage', 'acquisitive'),
    ('burglary_home', 'acquisitive'),
    ('vehicle_theft', 'acquisitive'),
    ('theft_from_vehicle', 'acquisitive'),
    ('bicycle_theft', 'acquisitive'),
    ('shoplifting', 'acquisitive'),
    ('mail_theft', 'acquisitive'),
    ('other_theft', 'acquisitive'),
    ('card_fraud', 'fraud'),
    ('identity_fraud', 'fraud'),
    ('other_fraud', 'fraud'),
    ('drug_use', 'drugs'),
    ('drug_sale', 'drugs'),
    ('drug_import', 'drugs'),
    ('vandalism', 'vandalism'),
    ('violence', 'violence'),
    ('robbery', 'violence'),
    ('other', 'other')
) as t(offence_code, offence_group);
