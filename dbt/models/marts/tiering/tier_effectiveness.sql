{{ config(materialized='table', schema='marts', tags=['tiering']) }}
{#-
  How each current service tier performs (customers with at least one policy): renewal rate
  (policies due for renewal in the last 12 months, i.e. issued over a year ago and in force or
  ended within the year, that are still in force), surrender rate (policies surrendered within
  the year over policies held), silence rate (customers with no app, WeCom, ticket or clicked
  touch in the window), premium in force and service cost per customer (benefit cost, tickets
  at the tier's cost per ticket, a personal manager where the tier has one).
-#}
with tiers as (
    select t.customer_id, t.service_tier, t.annual_premium_in_force, t.as_of_date
    from {{ ref('customer_tier') }} as t
),

features as (
    select customer_id, app_events_30d, wecom_messages_30d, tickets_12m, touches_clicked_90d,
           benefit_cost_12m, policies
    from {{ ref('int_tiering_customer_features') }}
),

policies as (
    select
        p.customer_id,
        sum(case when p.issue_date <= {{ dbt.dateadd('month', -12, 't.as_of_date') }}
                  and (p.status = 'in_force' or cast(p.updated_at as date) > {{ dbt.dateadd('month', -12, 't.as_of_date') }})
                 then 1 else 0 end) as renewals_due,
        sum(case when p.issue_date <= {{ dbt.dateadd('month', -12, 't.as_of_date') }} and p.status = 'in_force'
                 then 1 else 0 end) as renewed,
        sum(case when p.status = 'surrendered' and cast(p.updated_at as date) > {{ dbt.dateadd('month', -12, 't.as_of_date') }}
                 then 1 else 0 end) as surrendered_12m,
        count(*) as policies
    from {{ ref('int_tiering_customer_policies') }} as p
    inner join tiers as t on t.customer_id = p.customer_id
    group by p.customer_id
),

costs as (
    select
        service_tier,
        max(cost_per_ticket) as cost_per_ticket,
        max(case when personal_manager then 1 else 0 end) as has_manager
    from {{ ref('tier_service_entitlements') }}
    group by service_tier
),

manager_cost as (
    select cast(value as double) as manager_cost_per_customer
    from {{ ref('tier_settings') }}
    where setting = 'manager_cost_per_customer'
)

select
    cast(t.service_tier as {{ dbt.type_string() }}) as service_tier,
    cast(max(t.as_of_date) as date) as as_of_date,
    cast(count(*) as integer) as customers,
    {{ to_decimal('cast(sum(p.renewed) as double) / nullif(sum(p.renewals_due), 0)', 8, 4) }} as renewal_rate,
    {{ to_decimal('cast(sum(p.surrendered_12m) as double) / nullif(sum(p.policies), 0)', 8, 4) }} as surrender_rate,
    cast(avg(case when f.app_events_30d + f.wecom_messages_30d + f.tickets_12m + f.touches_clicked_90d = 0
                  then 1.0 else 0.0 end) as decimal(8, 4)) as silence_rate,
    cast(sum(t.annual_premium_in_force) as decimal(18, 2)) as annual_premium_in_force,
    cast(avg(t.annual_premium_in_force) as decimal(18, 2)) as premium_per_customer,
    cast(sum(f.benefit_cost_12m + f.tickets_12m * c.cost_per_ticket + c.has_manager * m.manager_cost_per_customer)
         as decimal(18, 2)) as service_cost_12m,
    cast(avg(f.benefit_cost_12m + f.tickets_12m * c.cost_per_ticket + c.has_manager * m.manager_cost_per_customer)
         as decimal(18, 2)) as service_cost_per_customer
from tiers as t
inner join features as f on f.customer_id = t.customer_id
inner join policies as p on p.customer_id = t.customer_id
left join costs as c on c.service_tier = t.service_tier
cross join manager_cost as m
group by t.service_tier
