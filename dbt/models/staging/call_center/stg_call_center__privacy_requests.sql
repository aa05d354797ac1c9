-- One row per request_id: its current version (latest received_at).
with current_rows as (
    {{ current_typed_rows('call_center__privacy_requests') }}
),

cleaned as (
    {{ person_columns_cleaned('current_rows', names=['name'], id_nos=['id_no'], mobiles=['mobile']) }}
),

name_keys as (
    {{ name_pinyin_lookup('cleaned', ['name_clean']) }}
)

select
    cast(c.request_id as {{ dbt.type_string() }}) as request_id,
    {{ id_no_columns('id_no', 'c.id_no_clean', 'c.id_no') }},
    {{ mobile_columns('mobile', 'c.mobile_clean') }},
    cast(c.name_clean as {{ dbt.type_string() }}) as name,
    cast(name_keys.name_pinyin_key as {{ dbt.type_string() }}) as name_pinyin_key,
    cast(c.request_type as {{ dbt.type_string() }}) as request_type,
    cast(c.received_at as timestamp) as received_at,
    {{ lineage_columns('c') }}
from cleaned as c
left join name_keys
    on name_keys.name = c.name_clean
