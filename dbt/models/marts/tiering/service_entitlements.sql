{{ config(materialized='table', schema='marts', tags=['tiering']) }}
{#-
  What each customer is entitled to: one row per customer and request type, the SLA of its
  current service tier (seed tier_service_entitlements), in the unit the seed states and in
  minutes (working days count 8 working hours).
-#}
select
    cast(t.customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(t.service_tier as {{ dbt.type_string() }}) as service_tier,
    cast(e.request_type as {{ dbt.type_string() }}) as request_type,
    cast(e.target_value as integer) as target_value,
    cast(e.target_unit as {{ dbt.type_string() }}) as target_unit,
    cast(e.target_value * case e.target_unit when 'minutes' then 1 when 'hours' then 60
                               when 'working_days' then 480 end as integer) as target_minutes,
    cast(e.personal_manager as boolean) as personal_manager,
    cast(e.service_channel as {{ dbt.type_string() }}) as service_channel,
    cast(case when e.personal_manager then t.account_manager end as {{ dbt.type_string() }}) as account_manager,
    cast(t.as_of_date as date) as as_of_date
from {{ ref('customer_tier') }} as t
inner join {{ ref('tier_service_entitlements') }} as e on e.service_tier = t.service_tier
