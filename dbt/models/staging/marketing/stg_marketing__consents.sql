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
    cast(c.mobile as varchar) as mobile_raw,
    cast(c.channel as varchar) as channel,
    cast(c.consent as varchar) as consent,
    cast(c.recorded_at as timestamp) as recorded_at,
    {{ lineage_columns('c') }}
from cleaned as c
