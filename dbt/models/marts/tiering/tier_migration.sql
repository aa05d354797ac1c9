{{ config(materialized='table', schema='marts', tags=['tiering']) }}
{#-
  Tier migration matrix per period (calendar month of the business date) from the tier history
  (snapshot customer_tier_history): for the value tier and the service tier, how many customers
  moved from each tier at the end of the previous period (`new` when they had no tier yet) to
  each tier at the end of the period, the diagonal (stayed) included. Periods are the months in
  which a history version began.
-#}
with history as (
    select customer_id, as_of_date, dbt_valid_from, value_tier, service_tier
    from {{ ref('customer_tier_history') }}
),

periods as (
    select distinct
        {{ dbt.date_trunc('month', 'as_of_date') }} as period_start
    from history
),

bounds as (
    select
        cast(period_start as date) as period_start,
        cast({{ dbt.dateadd('month', 1, 'period_start') }} as date) as period_end
    from periods
),

-- the version of each customer in force at the end of each period (the latest begun before
-- its end), and at its start (the latest begun before the period)
{%- for cte, bound in [('at_end', 'period_end'), ('at_start', 'period_start')] %}
{{ cte }} as (
    select customer_id, period_start, value_tier, service_tier
    from (
        select h.customer_id, b.period_start, h.value_tier, h.service_tier,
               row_number() over (partition by h.customer_id, b.period_start
                                  order by h.as_of_date desc nulls last, h.dbt_valid_from desc nulls last) as rn
        from history as h
        inner join bounds as b on h.as_of_date < b.{{ bound }}
    ) as v
    where rn = 1
),
{%- endfor %}

moves as (
    {%- for dim in ['value_tier', 'service_tier'] %}
    select e.period_start, '{{ dim }}' as tier_dimension,
           coalesce(s.{{ dim }}, 'new') as from_tier, e.{{ dim }} as to_tier, e.customer_id
    from at_end as e
    left join at_start as s on s.customer_id = e.customer_id and s.period_start = e.period_start
    {{ 'union all' if not loop.last }}
    {%- endfor %}
)

select
    cast(m.period_start as date) as period_start,
    cast(m.tier_dimension as {{ dbt.type_string() }}) as tier_dimension,
    cast(m.from_tier as {{ dbt.type_string() }}) as from_tier,
    cast(m.to_tier as {{ dbt.type_string() }}) as to_tier,
    cast(count(*) as integer) as customers,
    {{ to_decimal('cast(count(*) as double) / sum(count(*)) over (partition by m.period_start, m.tier_dimension, m.from_tier)', 8, 4) }} as share_of_from_tier
from moves as m
group by m.period_start, m.tier_dimension, m.from_tier, m.to_tier
