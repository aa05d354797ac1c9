{{ config(materialized='table', schema='marts', tags=['tiering']) }}
{#-
  The audit of manual service-tier overrides (seed tier_override_requests: customer, tier,
  reason, requested by, approved by risk and by business). Every request is kept with its
  decision; only `applied` ones reach customer_tier. A request is rejected, never applied,
  without both a risk and a business approval, when an approver is the requester or the two
  approvals come from one person, for an unknown customer or tier; it is expired after
  `expires_on`; of several applicable requests of one customer the latest applies and the
  others are superseded.
-#}
with requests as (
    select
        cast(override_id as {{ dbt.type_string() }}) as override_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(service_tier as {{ dbt.type_string() }}) as service_tier,
        cast(reason as {{ dbt.type_string() }}) as reason,
        nullif(trim(cast(requested_by as {{ dbt.type_string() }})), '') as requested_by,
        cast(requested_at as timestamp) as requested_at,
        nullif(trim(cast(risk_approved_by as {{ dbt.type_string() }})), '') as risk_approved_by,
        nullif(trim(cast(business_approved_by as {{ dbt.type_string() }})), '') as business_approved_by,
        cast(expires_on as date) as expires_on
    from {{ ref('tier_override_requests') }}
),

as_of as (
    select max(as_of_date) as as_of_date from {{ ref('customer_360') }}
),

tiers as (
    select distinct service_tier from {{ ref('tier_service_entitlements') }}
),

judged as (
    select
        r.*,
        case
            when r.risk_approved_by is null and r.business_approved_by is null then 'missing risk and business approval'
            when r.risk_approved_by is null then 'missing risk approval'
            when r.business_approved_by is null then 'missing business approval'
            when r.risk_approved_by = r.requested_by or r.business_approved_by = r.requested_by then 'approver is the requester'
            when r.risk_approved_by = r.business_approved_by then 'risk and business approval by one person'
            when d.customer_id is null then 'unknown customer'
            when t.service_tier is null then 'unknown service tier'
            when r.expires_on is not null and r.expires_on < a.as_of_date then 'expired'
        end as rejection_reason,
        a.as_of_date
    from requests as r
    cross join as_of as a
    left join {{ ref('dim_customer') }} as d on d.customer_id = r.customer_id
    left join tiers as t on t.service_tier = r.service_tier
),

ranked as (
    select
        j.*,
        row_number() over (partition by j.customer_id, (case when j.rejection_reason is null then 1 else 0 end)
                           order by j.requested_at desc nulls last, j.override_id desc nulls last) as recency
    from judged as j
)

select
    cast(override_id as {{ dbt.type_string() }}) as override_id,
    cast(customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(service_tier as {{ dbt.type_string() }}) as service_tier,
    cast(reason as {{ dbt.type_string() }}) as reason,
    cast(requested_by as {{ dbt.type_string() }}) as requested_by,
    cast(requested_at as timestamp) as requested_at,
    cast(risk_approved_by as {{ dbt.type_string() }}) as risk_approved_by,
    cast(business_approved_by as {{ dbt.type_string() }}) as business_approved_by,
    cast(expires_on as date) as expires_on,
    cast(case
        when rejection_reason = 'expired' then 'expired'
        when rejection_reason is not null then 'rejected'
        when recency > 1 then 'superseded'
        else 'applied'
    end as {{ dbt.type_string() }}) as decision,
    cast(case when rejection_reason is null and recency > 1 then 'a later approved override applies'
              else rejection_reason end as {{ dbt.type_string() }}) as decision_reason,
    cast(as_of_date as date) as evaluated_as_of
from ranked
