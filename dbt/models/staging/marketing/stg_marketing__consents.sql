-- One row per consent record (no record id: the natural key is the row itself, as delivered).
-- The consent in force for a mobile and channel is the one with the latest recorded_at.
with typed as (
    {{ contract_typed('marketing__consents') }}
),

current_rows as (
    {{ current_version('typed', 'marketing__consents') }}
),

cleaned as (
    select
        current_rows.*,
        {{ mobile_clean('mobile') }} as mobile_clean
    from current_rows
)

select
    {{ mobile_columns('mobile', 'c.mobile_clean') }},
    cast(c.mobile as varchar) as mobile_raw,
    cast(c.channel as varchar) as channel,
    cast(c.consent as varchar) as consent,
    cast(c.recorded_at as timestamp) as recorded_at,
    {{ lineage_columns('c') }}
from cleaned as c
