{{ config(materialized='incremental', schema='marts', tags=['tiering'],
          **replace_partitions(['event_type', 'event_date'])) }}
{#-
  Event triggers (seed tier_event_triggers): a large claim, repeated surrenders, an add-on
  purchase within the trigger's window up to the business date re-evaluate the customer in the
  same run (customer_tier is rebuilt from the same data) and write one alert row for the
  account manager, with the tier before (the history version that began before this business
  date) and after. Incremental: alerts of earlier runs are kept; each run replaces the
  (event_type, event_date) partitions it computed: every event of a trigger's window is
  re-evaluated, so re-running a day rewrites its alerts instead of duplicating them (an alert is
  keyed by its event: alert_id).
-#}
with triggers as (
    select event_type, threshold, window_days from {{ ref('tier_event_triggers') }}
),

as_of as (
    select max(as_of_date) as as_of_date from {{ ref('customer_tier') }}
),

records as (
    select customer_id, source_system, source_entity, source_record_id
    from {{ ref('int_customer_records') }}
),

large_claims as (
    select r.customer_id, 'large_claim' as event_type, c.claim_id as event_ref,
           cast(c.reported_at as date) as event_date,
           cast(c.claimed_amount as double) as event_value
    from {{ ref('stg_claims__claims') }} as c
    inner join records as r on r.source_system = 'claims' and r.source_record_id = c.claim_id
    cross join as_of as a
    inner join triggers as t on t.event_type = 'large_claim'
    where c.claimed_amount >= t.threshold
      and cast(c.reported_at as date) > {{ dbt.dateadd('day', '-t.window_days', 'a.as_of_date') }}
      and cast(c.reported_at as date) <= a.as_of_date
),

surrender_events as (
    select r.customer_id, k.ticket_id as event_ref, cast(k.opened_at as date) as event_date
    from {{ ref('stg_call_center__tickets') }} as k
    inner join records as r on r.source_system = 'call_center' and r.source_entity = 'tickets'
        and r.source_record_id = k.ticket_id
    where k.category = 'surrender_request'
    union all
    select customer_id, policy_no as event_ref, cast(updated_at as date) as event_date
    from {{ ref('int_tiering_customer_policies') }}
    where status = 'surrendered'
),

repeated_surrenders as (
    select s.customer_id, 'repeated_surrenders' as event_type,
           max(s.event_ref) as event_ref, max(s.event_date) as event_date,
           cast(count(*) as double) as event_value
    from surrender_events as s
    cross join as_of as a
    inner join triggers as t on t.event_type = 'repeated_surrenders'
    where s.event_date > {{ dbt.dateadd('day', '-t.window_days', 'a.as_of_date') }}
      and s.event_date <= a.as_of_date
    group by s.customer_id, t.threshold, a.as_of_date
    having count(*) >= t.threshold and max(s.event_date) = a.as_of_date
),

addon_purchases as (
    select p.customer_id, 'addon_purchase' as event_type, p.policy_no as event_ref,
           p.issue_date as event_date, cast(p.premium_annual as double) as event_value
    from {{ ref('int_tiering_customer_policies') }} as p
    cross join as_of as a
    inner join triggers as t on t.event_type = 'addon_purchase'
    where p.issue_date > {{ dbt.dateadd('day', '-t.window_days', 'a.as_of_date') }}
      and p.issue_date <= a.as_of_date
      and exists (
          select 1 from {{ ref('int_tiering_customer_policies') }} as e
          where e.customer_id = p.customer_id and e.issue_date < p.issue_date
      )
),

events as (
    select * from large_claims
    union all
    select * from repeated_surrenders
    union all
    select * from addon_purchases
),

previous as (
    select customer_id, value_tier, service_tier
    from (
        select h.customer_id, h.value_tier, h.service_tier,
               row_number() over (partition by h.customer_id
                                  order by h.as_of_date desc nulls last, h.dbt_valid_from desc nulls last) as rn
        from {{ ref('customer_tier_history') }} as h
        cross join as_of as a
        where h.as_of_date < a.as_of_date
    ) as v
    where rn = 1
)

select
    cast({{ dbt.hash(dbt.concat(['e.event_type', "'|'", 'e.event_ref'])) }} as {{ dbt.type_string() }}) as alert_id,
    cast(e.customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(e.event_type as {{ dbt.type_string() }}) as event_type,
    cast(e.event_ref as {{ dbt.type_string() }}) as event_ref,
    cast(e.event_date as date) as event_date,
    {{ to_decimal('e.event_value', 18, 2) }} as event_value,
    cast(p.value_tier as {{ dbt.type_string() }}) as previous_value_tier,
    cast(t.value_tier as {{ dbt.type_string() }}) as value_tier,
    cast(p.service_tier as {{ dbt.type_string() }}) as previous_service_tier,
    cast(t.service_tier as {{ dbt.type_string() }}) as service_tier,
    cast(t.risk_grade as {{ dbt.type_string() }}) as risk_grade,
    cast(p.service_tier is not null and p.service_tier <> t.service_tier as boolean) as service_tier_changed,
    cast(t.account_manager as {{ dbt.type_string() }}) as account_manager,
    cast(t.as_of_date as date) as as_of_date
from events as e
inner join {{ ref('customer_tier') }} as t on t.customer_id = e.customer_id
left join previous as p on p.customer_id = e.customer_id
