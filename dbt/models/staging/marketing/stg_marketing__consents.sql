-- One row per consent record (no record id: the natural key is the row itself, as delivered).
-- The consent in force for a mobile and channel is the one with the latest recorded_at.
with current_rows as (
    {{ current_typed_rows('marketing__consents') }}
),

cleaned as (
    {{ person_columns_cleaned('current_rows', mobiles=['mobile']) }}
)

select
    {{ mobile_columns('mobile', 'c.mobile_clean') }},
    cast(c.mobile as {{ dbt.type_string() }}) as mobile_raw,
    cast(c.channel as {{ dbt.type_string() }}) as channel,
    cast(c.consent as {{ dbt.type_string() }}) as consent,
    cast(c.recorded_at as timestamp) as recorded_at,
    {{ lineage_columns('c') }}
from cleaned as c
