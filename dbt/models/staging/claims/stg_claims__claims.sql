-- One row per claim_id: its current version (latest updated_at). Parquet times arrive as
-- timestamp[ms, tz=Asia/Shanghai] and are kept as naive Asia/Shanghai local time.
with current_rows as (
    {{ current_typed_rows('claims__claims') }}
),

cleaned as (
    {{ person_columns_cleaned('current_rows', names=['claimant_name'], id_nos=['claimant_id_no'], mobiles=['claimant_mobile']) }}
),

name_keys as (
    {{ name_pinyin_lookup('cleaned', ['claimant_name_clean']) }}
)

select
    cast(c.claim_id as {{ dbt.type_string() }}) as claim_id,
    cast(c.policy_no as {{ dbt.type_string() }}) as policy_no,
    cast(c.claimant_name_clean as {{ dbt.type_string() }}) as claimant_name,
    cast(name_keys.name_pinyin_key as {{ dbt.type_string() }}) as claimant_name_pinyin_key,
    {{ id_no_columns('claimant_id_no', 'c.claimant_id_no_clean', 'c.claimant_id_no') }},
    {{ mobile_columns('claimant_mobile', 'c.claimant_mobile_clean') }},
    cast(c.incident_date as date) as incident_date,
    cast(c.reported_at as timestamp) as reported_at,
    cast(c.claim_type as {{ dbt.type_string() }}) as claim_type,
    {{ money_yuan('c.claimed_amount') }} as claimed_amount,
    {{ money_yuan('c.paid_amount') }} as paid_amount,
    cast(c.status as {{ dbt.type_string() }}) as status,
    cast(c.fraud_suspected as boolean) as fraud_suspected,
    cast(c.closed_at as timestamp) as closed_at,
    cast(c.updated_at as timestamp) as updated_at,
    {{ lineage_columns('c') }}
from cleaned as c
left join name_keys
    on name_keys.name = c.claimant_name_clean
