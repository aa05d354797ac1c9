-- One row per usage_id: its current version (latest used_at). Cost in yuan.
with current_rows as (
    {{ current_typed_rows('benefits__service_usage') }}
),

cleaned as (
    {{ person_columns_cleaned('current_rows', mobiles=['mobile']) }}
)

select
    cast(c.usage_id as {{ dbt.type_string() }}) as usage_id,
    cast(c.policy_no as {{ dbt.type_string() }}) as policy_no,
    {{ mobile_columns('mobile', 'c.mobile_clean') }},
    cast(c.service_type as {{ dbt.type_string() }}) as service_type,
    cast(c.used_at as timestamp) as used_at,
    {{ money_yuan('c.cost') }} as cost,
    {{ lineage_columns('c') }}
from cleaned as c
