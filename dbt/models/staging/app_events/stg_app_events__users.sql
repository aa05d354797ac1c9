-- One row per user_id: its current version (latest updated_at). App times are epoch
-- milliseconds, converted to Asia/Shanghai local time.
with current_rows as (
    {{ current_typed_rows('app_events__users') }}
),

cleaned as (
    {{ person_columns_cleaned('current_rows', names=['real_name'], id_nos=['id_no'], mobiles=['mobile']) }}
),

name_keys as (
    {{ name_pinyin_lookup('cleaned', ['real_name_clean']) }}
)

select
    cast(c.user_id as {{ dbt.type_string() }}) as user_id,
    {{ mobile_columns('mobile', 'c.mobile_clean') }},
    cast(c.real_name_clean as {{ dbt.type_string() }}) as real_name,
    cast(name_keys.name_pinyin_key as {{ dbt.type_string() }}) as real_name_pinyin_key,
    {{ id_no_columns('id_no', 'c.id_no_clean', 'c.id_no') }},
    cast(c.registered_at as timestamp) as registered_at,
    cast(c.updated_at as timestamp) as updated_at,
    {{ lineage_columns('c') }}
from cleaned as c
left join name_keys
    on name_keys.name = c.real_name_clean
