-- One row per ticket_id: its current version (the latest of resolved_at, first_response_at,
-- opened_at: a ticket changes by getting a first response and a resolution).
with current_rows as (
    {{ current_typed_rows('call_center__tickets') }}
),

cleaned as (
    {{ person_columns_cleaned('current_rows', names=['caller_name'], mobiles=['caller_mobile']) }}
),

name_keys as (
    {{ name_pinyin_lookup('cleaned', ['caller_name_clean']) }}
)

select
    cast(c.ticket_id as {{ dbt.type_string() }}) as ticket_id,
    {{ mobile_columns('caller_mobile', 'c.caller_mobile_clean') }},
    cast(c.caller_name_clean as {{ dbt.type_string() }}) as caller_name,
    cast(name_keys.name_pinyin_key as {{ dbt.type_string() }}) as caller_name_pinyin_key,
    cast(c.policy_no as {{ dbt.type_string() }}) as policy_no,
    cast(c.caller_mobile is not null or c.policy_no is not null as boolean) as caller_is_identifiable,
    cast(c.channel as {{ dbt.type_string() }}) as channel,
    cast(c.category as {{ dbt.type_string() }}) as category,
    cast(c.priority as {{ dbt.type_string() }}) as priority,
    cast(c.opened_at as timestamp) as opened_at,
    cast(c.first_response_at as timestamp) as first_response_at,
    cast(c.resolved_at as timestamp) as resolved_at,
    cast(c.satisfaction as integer) as satisfaction,
    cast({{ normalise_text('c.summary') }} as {{ dbt.type_string() }}) as summary,
    {{ lineage_columns('c') }}
from cleaned as c
left join name_keys
    on name_keys.name = c.caller_name_clean
