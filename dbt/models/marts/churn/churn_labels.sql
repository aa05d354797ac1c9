{{ config(materialized='table', schema='marts', tags=['churn']) }}
{#-
  What happened after each (policy, as-of date) of churn_features: the labels the model is
  trained and evaluated on (kept apart from the features, which never see them).

  - `churned` (policy label): the policy's churn event (lapse, surrender, non_renewal; see
    int_churn_policies) falls in (as_of, as_of + horizon_days];
  - `churned_early_warning`: that event falls in (as_of + early_warning_days, as_of + horizon_days];
  - `customer_churned` (customer label): any of the customer's policies churns in the window;
  - `customer_none_left`: the customer churns in the window and has no individual policy left in
    force at its end (the second label).
  Only meaningful where `label_complete` (the horizon has been delivered).
-#}
{%- set cfg = churn_config() -%}
{%- set h = cfg['horizon_days'] -%}
{%- set ew = cfg['early_warning_days'] -%}
with keys as (
    select f.policy_no, f.customer_id, f.as_of, d.label_complete
    from {{ ref('churn_features') }} as f
    inner join {{ ref('int_churn_as_of_dates') }} as d on d.as_of = f.as_of
),

policies as (
    select policy_no, customer_id, issue_date, ended_on, churn_event, churn_date
    from {{ ref('int_churn_policies') }}
),

policy_labels as (
    select
        k.policy_no, k.customer_id, k.as_of, k.label_complete, p.churn_event, p.churn_date,
        case when p.churn_date > k.as_of and p.churn_date <= {{ dbt.dateadd('day', h, 'k.as_of') }} then 1 else 0 end as churned,
        case when p.churn_date > {{ dbt.dateadd('day', ew, 'k.as_of') }}
                  and p.churn_date <= {{ dbt.dateadd('day', h, 'k.as_of') }} then 1 else 0 end as churned_early_warning
    from keys as k
    inner join policies as p on p.policy_no = k.policy_no
),

customer_window as (
    select customer_id, as_of, max(churned) as customer_churned
    from policy_labels
    group by customer_id, as_of
),

left_in_force as (
    select cw.customer_id, cw.as_of,
           sum(case when p.issue_date <= {{ dbt.dateadd('day', h, 'cw.as_of') }}
                     and (p.ended_on is null or p.ended_on > {{ dbt.dateadd('day', h, 'cw.as_of') }}) then 1 else 0 end) as in_force_after
    from customer_window as cw
    inner join policies as p on p.customer_id = cw.customer_id
    group by cw.customer_id, cw.as_of
)

select
    cast(l.policy_no as {{ dbt.type_string() }}) as policy_no,
    cast(l.customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(l.as_of as date) as as_of,
    cast(l.label_complete as boolean) as label_complete,
    cast(l.churned as integer) as churned,
    cast(l.churned_early_warning as integer) as churned_early_warning,
    cast(case when l.churned = 1 then l.churn_event end as {{ dbt.type_string() }}) as churn_event,
    cast(case when l.churned = 1 then l.churn_date end as date) as churn_date,
    cast(cw.customer_churned as integer) as customer_churned,
    cast(case when cw.customer_churned = 1 and coalesce(lf.in_force_after, 0) = 0 then 1 else 0 end as integer) as customer_none_left
from policy_labels as l
inner join customer_window as cw on cw.customer_id = l.customer_id and cw.as_of = l.as_of
left join left_in_force as lf on lf.customer_id = l.customer_id and lf.as_of = l.as_of
