{{ config(materialized='table', schema='marts', tags=['churn']) }}
{#-
  The as-of dates churn features are computed for: the latest delivered business date (scored
  every day) and, every `as_of.step_days` before it over `as_of.history_days`, the rolling dates
  the model is trained and evaluated on. `label_complete`: the horizon after the date has been
  delivered, so its label is known (training and evaluation use only these). Features exist for
  any as-of date: var `churn_extra_as_of_dates` (a list of YYYY-MM-DD) adds dates, e.g. the month
  ends of the simulator's oracle (bench/churn.py).
-#}
{%- set cfg = churn_config() -%}
{%- set n = (cfg['history_days'] // cfg['step_days']) + 1 -%}
-- the dates follow the policy deliveries: a critical failure of the raw policies blocks this model too
-- depends_on: {{ source('raw', 'policy_admin__policies') }}
with latest as (
    select max(business_date) as business_date
    from {{ source('raw', 'ingest_log') }}
    where system = 'policy_admin' and status = 'loaded'
),

steps as (
    {{ dbt.generate_series(n) }}
),

rolling as (
    select cast({{ dbt.dateadd('day', '-' ~ cfg['step_days'] ~ ' * (s.generated_number - 1)', 'l.business_date') }} as date) as as_of
    from steps as s
    cross join latest as l
    where l.business_date is not null
    {%- for d in var('churn_extra_as_of_dates', []) %}
    union
    select cast('{{ d }}' as date)
    {%- endfor %}
)

select
    r.as_of,
    cast(r.as_of = l.business_date as boolean) as is_latest,
    cast(r.as_of <= {{ dbt.dateadd('day', -cfg['horizon_days'], 'l.business_date') }} as boolean) as label_complete,
    cast(l.business_date as date) as latest_business_date
from rolling as r
cross join latest as l
where r.as_of <= l.business_date
