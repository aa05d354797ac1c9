-- One row per touch_id: its current version (latest sent_at).
with current_rows as (
    {{ current_typed_rows('marketing__touches') }}
),

cleaned as (
    {{ person_columns_cleaned('current_rows', mobiles=['mobile']) }}
)

select
    cast(c.touch_id as {{ dbt.type_string() }}) as touch_id,
    cast(c.campaign_id as {{ dbt.type_string() }}) as campaign_id,
    cast(c.channel as {{ dbt.type_string() }}) as channel,
    {{ mobile_columns('mobile', 'c.mobile_clean') }},
    cast(c.policy_no as {{ dbt.type_string() }}) as policy_no,
    cast(c.sent_at as timestamp) as sent_at,
    cast(c.delivered = '1' as boolean) as is_delivered,
    cast(c.opened_at as timestamp) as opened_at,
    cast(c.clicked_at as timestamp) as clicked_at,
    cast(c.converted_policy_no as {{ dbt.type_string() }}) as converted_policy_no,
    {{ lineage_columns('c') }}
from cleaned as c
