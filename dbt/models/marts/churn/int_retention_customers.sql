{{ config(materialized='table', schema='marts', tags=['churn']) }}
{#-
  What the next best action (retention_actions) is decided from: one row per person customer
  holding an individual policy in force as of the latest business date, with its lifecycle
  (days since the first policy), the nearest renewal of one-year cover, dormancy (no app use,
  service contact or opened marketing message known for features.dormant_days), the churn
  score of that date, the service tier and servicing agent (owner), and the marketing touches
  already sent to the customer in the calendar month of the action date (the day after the
  as-of date, when the daily build runs).
-#}
{%- set cfg = churn_config() -%}
with as_of as (
    select as_of, {{ dbt.dateadd('day', 1, 'as_of') }} as action_date, {{ churn_cutoff('as_of') }} as cutoff
    from {{ ref('int_churn_as_of_dates') }}
    where is_latest
),

in_force as (
    select f.customer_id, f.policy_no, f.renewable, f.days_to_anniversary
    from {{ ref('churn_features') }} as f
    inner join as_of as a on a.as_of = f.as_of
),

policies as (
    select p.* from {{ ref('int_churn_policies') }} as p
    where p.customer_id in (select customer_id from in_force)
),

customers as (
    select
        i.customer_id,
        min(p.issue_date) as first_policy_date,
        min(case when p.agent_code is not null and p.end_known_at is null then p.agent_code end) as agent_code,
        min(p.branch_code) as branch_code
    from (select distinct customer_id from in_force) as i
    inner join policies as p on p.customer_id = i.customer_id
    group by i.customer_id
),

renewals as (
    select customer_id, policy_no, days_to_anniversary
    from (
        select customer_id, policy_no, days_to_anniversary,
               row_number() over (partition by customer_id order by days_to_anniversary asc nulls last, policy_no asc) as rn
        from in_force
        where renewable = 1
    ) as r
    where rn = 1
),

engagement as (
    select e.customer_id, max(e.event_date) as last_engaged
    from {{ ref('int_churn_customer_events') }} as e
    cross join as_of as a
    where e.kind in ('app_use', 'complaint', 'surrender_request', 'service_ticket', 'touch_opened', 'claim_reported')
      and e.known_at < a.cutoff
    group by e.customer_id
),

scores as (
    select s.customer_id, s.probability, s.risk_band, s.top_policy_no, s.reason_1
    from {{ source('churn', 'churn_scores') }} as s
    inner join as_of as a on a.as_of = s.as_of
),

policy_owner as (
    select policy_no, customer_id from {{ ref('int_churn_policies') }}
),

mobile_owner as (
    {{ churn_mobile_owner() }}
),

touches as (
    select coalesce(o.customer_id, mo.customer_id) as customer_id, count(*) as touches_this_month
    from {{ ref('stg_marketing__touches') }} as t
    cross join as_of as a
    left join policy_owner as o on o.policy_no = t.policy_no
    left join mobile_owner as mo on mo.mobile = t.mobile and t.policy_no is null
    where {{ dbt.date_trunc('month', 't.sent_at') }} = {{ dbt.date_trunc('month', 'a.action_date') }}
      and coalesce(o.customer_id, mo.customer_id) is not null
    group by coalesce(o.customer_id, mo.customer_id)
),

tiers as (
    select customer_id, service_tier from {{ ref('customer_tier') }}
)

select
    cast(a.as_of as date) as as_of,
    cast(a.action_date as date) as action_date,
    cast(c.customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(coalesce(t.service_tier, 'standard') as {{ dbt.type_string() }}) as service_tier,
    cast(c.agent_code as {{ dbt.type_string() }}) as agent_code,
    cast(c.branch_code as {{ dbt.type_string() }}) as branch_code,
    cast(c.first_policy_date as date) as first_policy_date,
    cast({{ churn_days('c.first_policy_date', 'a.as_of') }} as integer) as customer_tenure_days,
    cast(r.policy_no as {{ dbt.type_string() }}) as renewal_policy_no,
    cast(r.days_to_anniversary as integer) as days_to_renewal,
    cast(coalesce(e.last_engaged < {{ dbt.dateadd('day', -cfg['dormant_days'], 'a.as_of') }}, true)
         and {{ churn_days('c.first_policy_date', 'a.as_of') }} >= {{ cfg['dormant_days'] }} as boolean) as is_dormant,
    cast(s.probability as double) as churn_probability,
    cast(s.risk_band as {{ dbt.type_string() }}) as risk_band,
    cast(s.top_policy_no as {{ dbt.type_string() }}) as top_policy_no,
    cast(s.reason_1 as {{ dbt.type_string() }}) as churn_reason,
    cast(coalesce(tc.touches_this_month, 0) as integer) as touches_this_month
from customers as c
cross join as_of as a
left join renewals as r on r.customer_id = c.customer_id
left join engagement as e on e.customer_id = c.customer_id
left join scores as s on s.customer_id = c.customer_id
left join touches as tc on tc.customer_id = c.customer_id
left join tiers as t on t.customer_id = c.customer_id
