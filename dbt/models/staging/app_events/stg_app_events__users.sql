-- One row per user_id: its current version (latest updated_at). App times are epoch
-- milliseconds, converted to Asia/Shanghai local time.
with typed as (
    {{ contract_typed('app_events__users') }}
),

current_rows as (
    {{ current_version('typed', 'app_events__users') }}
),

cleaned as (
    select
        current_rows.*,
        {{ normalise_person_name('real_name') }} as real_name_clean,
        {{ id_no_clean('id_no') }} as id_no_clean,
        {{ mobile_clean('mobile') }} as mobile_clean
    from current_rows
),

name_keys as (
    {{ name_pinyin_lookup('cleaned', ['real_name_clean']) }}
)

select
    cast(c.user_id as varchar) as user_id,
    {{ mobile_columns('mobile', 'c.mobile_clean') }},
    cast(c.real_name_clean as varchar) as real_name,
    cast(name_keys.name_pinyin_key as varchar) as real_name_pinyin_key,
    {{ id_no_columns('id_no', 'c.id_no_clean', 'c.id_no') }},
    cast(c.registered_at as timestamp) as registered_at,
    cast(c.updated_at as timestamp) as updated_at,
    {{ lineage_columns('c') }}
from cleaned as c
left join name_keys
    on name_keys.name = c.real_name_clean
