-- One row per lead_id: its current version (latest updated_at); leads deleted (op D) are gone.
with current_rows as (
    {{ current_typed_rows('agent_crm__leads') }}
),

cleaned as (
    {{ person_columns_cleaned('current_rows', names=['customer_name'], id_nos=['id_no'], mobiles=['mobile']) }}
),

name_keys as (
    {{ name_pinyin_lookup('cleaned', ['customer_name_clean']) }}
)

select
    cast(c.lead_id as {{ dbt.type_string() }}) as lead_id,
    cast(c.op as {{ dbt.type_string() }}) as op,
    cast(c.customer_name_clean as {{ dbt.type_string() }}) as customer_name,
    cast(name_keys.name_pinyin_key as {{ dbt.type_string() }}) as customer_name_pinyin_key,
    {{ mobile_columns('mobile', 'c.mobile_clean') }},
    {{ id_no_columns('id_no', 'c.id_no_clean', 'c.id_no') }},
    cast(c.wechat_id as {{ dbt.type_string() }}) as wechat_id,
    cast(c.source_channel as {{ dbt.type_string() }}) as source_channel,
    cast(c.agent_code as {{ dbt.type_string() }}) as agent_code,
    cast(c.stage as {{ dbt.type_string() }}) as stage,
    cast(c.won_policy_no as {{ dbt.type_string() }}) as won_policy_no,
    cast(c.created_at as timestamp) as created_at,
    cast(c.updated_at as timestamp) as updated_at,
    {{ lineage_columns('c') }}
from cleaned as c
left join name_keys
    on name_keys.name = c.customer_name_clean
